import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TelegramAccess, pairingNotice } from '../../platforms/telegram/access.js';
import { TelegramAdapter } from '../../platforms/telegram/adapter.js';
import { TelegramBot } from '../../platforms/telegram/bot.js';
import { PairingStore } from '../../platforms/telegram/pairings.js';
import { ChatCommands } from '../../orchestrator/commands.js';
import { approvalCommands } from '../../orchestrator/approvals/commands.js';
import type { Envelope, OutboundMessage } from '../../core/chat/types.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { createLogger } from '../../core/log.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser } from '../fakes/telegram/index.js';
import { tempDir } from '../support/pantheon-process.js';

/**
 * The bot and the adapter with real grammY against the fake Bot API over HTTP, and the pairing
 * store on embedded PGlite. The end-to-end path through the orchestrator is in test/e2e/telegram.test.ts.
 */
const logger = createLogger({ level: 'silent' });
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const dave: FakeUser = { id: 333, first_name: 'Dave' };
const until = async (cond: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (cond()) return;
  assert.fail('condition not met in time');
};

let db: Database;
let dir: { path: string; remove: () => Promise<void> };
before(async () => {
  dir = await tempDir('pantheon-telegram-');
  db = await createDatabase({ dataDir: dir.path, logger });
  await migrate(db.pool, { logger });
});
after(async () => {
  await db?.close();
  await dir?.remove();
});

describe('telegram pairing store', () => {
  it('one code per waiting chat, told once; approve, approve again, unknown, expired; revoke', async () => {
    const store = new PairingStore(db.pool);
    const first = await store.request({ chatId: 901, chatType: 'private', userId: 901, userName: '@zed' });
    assert.match(first.pairing.code, /^[A-HJ-NP-Z2-9]{8}$/);
    assert.equal(first.tell, true);
    const again = await store.request({ chatId: 901 });
    assert.deepEqual([again.pairing.code, again.tell], [first.pairing.code, false], 'the same code, not told again within a minute');
    assert.equal(await store.isApproved(901), false);
    assert.deepEqual(
      (await store.pending()).map((p) => p.code),
      [first.pairing.code],
    );

    const ok = await store.approve(first.pairing.code.toLowerCase(), 'cli:test');
    assert.ok(ok.ok && ok.pairing.status === 'approved' && ok.pairing.chatId === '901');
    assert.equal(await store.isApproved(901), true);
    assert.deepEqual(
      (await store.approvedChats()).map((c) => [c.chatId, c.approvedBy]),
      [['901', 'cli:test']],
    );
    const twice = await store.approve(first.pairing.code, 'x');
    assert.ok(!twice.ok && twice.reason === 'already_approved' && twice.pairing?.approvedBy === 'cli:test');
    assert.deepEqual(await store.approve('NOSUCHCD', 'x'), { ok: false, reason: 'unknown' });

    const stale = new PairingStore(db.pool, { ttlMinutes: 0 });
    const lapsed = await stale.request({ chatId: 902 });
    const answer = await store.approve(lapsed.pairing.code, 'x');
    assert.equal(!answer.ok && answer.reason, 'expired');
    const renewed = await store.request({ chatId: 902 });
    assert.notEqual(renewed.pairing.code, lapsed.pairing.code, 'an expired code is replaced');

    assert.equal(await store.revoke(901), true);
    assert.equal(await store.isApproved(901), false);
    assert.match(pairingNotice(renewed.pairing), new RegExp(`pantheon pairing approve ${renewed.pairing.code}`));
  });
});

describe('telegram bot and adapter against the fake Bot API', () => {
  let fake: FakeTelegram;
  let bot: TelegramBot;
  let channel: TelegramAdapter;
  const inbound: Envelope[] = [];
  const strangers: number[] = [];
  // The one chat-command registry, as the orchestrator and the modules fill it.
  const commands = new ChatCommands();
  commands.register({ name: 'status', description: 'the work in flight', run: async () => 'nothing' });
  for (const c of approvalCommands({ answer: async () => 'answered' })) commands.register(c);
  before(async () => {
    fake = await startFakeTelegram();
    const pairings = new PairingStore(db.pool);
    bot = new TelegramBot({
      token: fake.token,
      apiRoot: fake.apiRoot,
      access: new TelegramAccess({ allowedChatIds: [111, -100500], allowedUserIds: [], pairings }),
      ingress: async (e) => {
        inbound.push(e);
        return { id: e.id, accepted: true };
      },
      commands,
      onStranger: async (ctx) => {
        await pairings.request({ chatId: ctx.chat!.id });
        strangers.push(ctx.chat!.id);
      },
      logger,
      pollTimeoutSeconds: 5,
    });
    channel = new TelegramAdapter({ api: bot.api, personaName: (id) => ({ apollo: 'Apollo', pantheon: 'Pantheon' })[id] ?? id, logger });
    // Registered after the bot was built, as modules and the team do before it starts: still in the menu.
    commands.register({ name: 'cancel', args: '<job>', description: 'stop a running infra job', run: async () => 'cancelled' });
    bot.startPolling();
  });
  after(async () => {
    await bot.stop();
    await fake.close();
  });
  beforeEach(() => {
    inbound.length = 0;
    strangers.length = 0;
  });
  const post = (over: Partial<OutboundMessage>) => channel.post({ idempotencyKey: `k-${Math.random()}`, platform: 'telegram', threadId: 'telegram:111', role: 'agent', text: 'hi', ...over });

  it("the command menu (setMyCommands) is the registry's commands with their descriptions, and /ask", async () => {
    await until(() => fake.callsOf('setMyCommands').length > 0);
    const call = fake.callsOf('setMyCommands')[0]!;
    assert.equal(call.status, 200, 'Telegram took the menu');
    assert.deepEqual(call.payload.commands, [
      { command: 'help', description: 'what you can ask here' },
      { command: 'status', description: 'the work in flight' },
      { command: 'approve', description: '<id>: approve a request (approvers only)' },
      { command: 'deny', description: '<id> [reason]: deny a request (approvers only)' },
      { command: 'cancel', description: '<job>: stop a running infra job' },
      { command: 'ask', description: '<persona> <text>: ask one persona' },
    ]);
    assert.deepEqual(
      call.payload.commands.slice(0, -1).map((c: { command: string }) => c.command),
      commands.list().map((c) => c.name),
      'every registry command, in order',
    );
  });

  it("takes an allowlisted chat's messages in by long polling; a stranger gets the pairing path, not the ingress", async () => {
    fake.sendText({ from: jeff, text: '/ask apollo is the build green?' });
    await until(() => inbound.length === 1);
    assert.equal(inbound[0]!.text, '@apollo is the build green?');
    assert.equal(inbound[0]!.author.id, '111');

    fake.sendText({ from: dave, text: 'let me in' });
    await until(() => strangers.length === 1);
    assert.deepEqual(strangers, [333]);
    assert.equal(inbound.length, 1, 'nothing from the stranger reached the ingress');

    const code = (await new PairingStore(db.pool).pending()).find((p) => p.chatId === '333')!.code;
    await new PairingStore(db.pool).approve(code, 'test');
    fake.sendText({ from: dave, text: 'hello again' });
    await until(() => inbound.length === 2);
    assert.equal(inbound[1]!.threadId, 'telegram:333');
  });

  it('a button click becomes an envelope and is answered at once', async () => {
    const group = { id: -100500, type: 'supergroup' as const, title: 'ops' };
    const { id } = await channel.post({
      idempotencyKey: 'card-1',
      platform: 'telegram',
      threadId: 'telegram:-100500',
      role: 'system',
      text: 'Approval needed [ab12]',
      card: {
        approvalId: 'ab12',
        title: 'Approval needed [ab12]: x wants to run y',
        fields: [],
        actions: [
          { id: 'approve', label: 'Approve' },
          { id: 'deny', label: 'Deny' },
        ],
        fallbackText: 'approve ab12',
      },
    });
    const card = fake.sent.find((m) => m.message_id === Number(id) && m.chat_id === -100500)!;
    assert.deepEqual(
      card.reply_markup?.inline_keyboard?.[0]?.map((b) => b.callback_data),
      ['approve:ab12', 'deny:ab12'],
    );
    fake.click({ from: { id: 222, first_name: 'Carol', username: 'carol' }, message: card, data: 'deny:ab12', chat: group });
    await until(() => inbound.length === 1 && fake.callsOf('answerCallbackQuery').length === 1);
    assert.equal(inbound[0]!.text, 'deny ab12');
    assert.equal(inbound[0]!.author.id, '222');
    assert.match(fake.callsOf('answerCallbackQuery')[0]!.payload.text, /deny ab12/);
  });

  it("labels each persona's message, renders HTML, and splits long ones", async () => {
    await post({ persona: 'apollo', text: 'Done: **tests pass** & `npm test` is green' });
    const m = fake.sent.at(-1)!;
    assert.equal(m.parse_mode, 'HTML');
    assert.equal(m.visible, 'Apollo: Done: tests pass & npm test is green');
    assert.match(m.text, /^<b>Apollo<\/b>: Done: <b>tests pass<\/b> &amp; <code>npm test<\/code>/);

    const before = fake.sent.length;
    await post({ persona: 'pantheon', text: Array.from({ length: 900 }, (_, i) => `line ${i}`).join('\n') });
    const parts = fake.sent.slice(before);
    assert.ok(parts.length >= 2);
    assert.ok(parts[0]!.visible.startsWith('Pantheon: line 0'));
    for (const p of parts) assert.ok(p.visible.length <= 4096);
  });

  it('a 429 is waited out for retry_after seconds, then the message is delivered once', async () => {
    fake.failNext('sendMessage', { retryAfter: 1 });
    const started = Date.now();
    await post({ persona: 'apollo', text: 'after the flood' });
    const elapsed = Date.now() - started;
    const attempts = fake.callsOf('sendMessage').filter((c) => String(c.payload.text).includes('after the flood'));
    assert.deepEqual(
      attempts.map((c) => c.status),
      [429, 200],
    );
    assert.ok(elapsed >= 1000, `waited ${elapsed} ms`);
    assert.equal(fake.sent.filter((m) => m.visible.includes('after the flood')).length, 1);
  });

  it('falls back to plain text when Telegram cannot parse the HTML; edits and typing', async () => {
    await post({ persona: 'apollo', text: '**a _b** c_' });
    const m = fake.sent.at(-1)!;
    assert.equal(m.parse_mode, undefined);
    assert.equal(m.visible, 'Apollo: **a _b** c_');

    const { id } = await post({ role: 'system', text: 'job J-1: running' });
    await channel.edit('telegram:111', id, { idempotencyKey: 'e', platform: 'telegram', threadId: 'telegram:111', role: 'system', text: 'job J-1: **done**' });
    await channel.edit('telegram:111', id, { idempotencyKey: 'e', platform: 'telegram', threadId: 'telegram:111', role: 'system', text: 'job J-1: **done**' });
    const edited = fake.sent.find((s) => s.message_id === Number(id) && s.chat_id === 111)!;
    assert.equal(edited.visible, 'job J-1: done');
    assert.deepEqual(edited.edits, ['job J-1: running']);

    await channel.typing('telegram:-100500:7');
    assert.deepEqual(fake.callsOf('sendChatAction').at(-1)!.payload, { chat_id: '-100500', action: 'typing', message_thread_id: 7 });
  });
});

describe('telegram long polling: the offset is ours', () => {
  it('an update not stored is asked for again (and the ones after it are not confirmed); once stored, confirmed, and confirmed on stop', async () => {
    const fake = await startFakeTelegram();
    let down = true;
    const stored: string[] = [];
    const bot = new TelegramBot({
      token: fake.token,
      apiRoot: fake.apiRoot,
      access: new TelegramAccess({ allowedChatIds: [111], allowedUserIds: [], pairings: new PairingStore(db.pool) }),
      ingress: async (e) => {
        if (down) throw new Error('database unavailable');
        stored.push(e.text);
        return { id: e.id, accepted: true };
      },
      commands: new ChatCommands(),
      onStranger: async () => {},
      logger,
      pollTimeoutSeconds: 1,
    });
    try {
      bot.startPolling();
      const first = fake.sendText({ from: jeff, text: 'first' });
      const second = fake.sendText({ from: jeff, text: 'second' });
      const offsets = () => fake.callsOf('getUpdates').map((c) => Number(c.payload.offset ?? 0));
      // deliverInbound's four tries fail, then the next poll asks from the update not stored.
      await until(() => offsets().filter((o) => o === first.update_id).length >= 1, 10_000);
      assert.equal(fake.confirmed(first.update_id), false);
      assert.equal(fake.confirmed(second.update_id), false, 'nothing after it is confirmed either');
      assert.ok(
        offsets().every((o) => o <= first.update_id),
        `never asked past it: ${offsets()}`,
      );

      down = false;
      await until(() => stored.length === 2, 10_000);
      assert.deepEqual(stored, ['first', 'second'], 'in order, each once');
      await bot.stop();
      assert.equal(fake.confirmed(second.update_id), true, 'what was stored is confirmed, at the latest on stop');
      assert.equal(bot.isPolling(), false);

      // Polling starts again (this replica takes the lease back): it asks Telegram from what is unconfirmed.
      const third = fake.sendText({ from: jeff, text: 'third' });
      bot.startPolling();
      await until(() => stored.length === 3, 10_000);
      assert.deepEqual(stored, ['first', 'second', 'third']);
      assert.equal(bot.isPolling(), true);
      await bot.stop();
      assert.equal(fake.confirmed(third.update_id), true);
      assert.equal(fake.conflicts.length, 0, 'never two polls at once');
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});

describe('the fake Telegram counts getUpdates conflicts', () => {
  it('two pollers of one bot end each other with 409 (what the leases prevent across replicas)', async () => {
    const fake = await startFakeTelegram();
    const poller = () =>
      new TelegramBot({
        token: fake.token,
        apiRoot: fake.apiRoot,
        access: new TelegramAccess({ allowedChatIds: [111], allowedUserIds: [], pairings: new PairingStore(db.pool) }),
        ingress: async (e) => ({ id: e.id, accepted: true }),
        commands: new ChatCommands(),
        onStranger: async () => {},
        logger,
        pollTimeoutSeconds: 1,
      });
    const one = poller();
    const two = poller();
    try {
      one.startPolling();
      await until(() => fake.callsOf('getUpdates').length >= 1, 5000);
      two.startPolling();
      await until(() => fake.conflicts.length >= 1, 5000);
      assert.ok(fake.callsOf('getUpdates').some((c) => c.status === 409));
    } finally {
      await one.stop();
      await two.stop();
      await fake.close();
    }
  });
});
