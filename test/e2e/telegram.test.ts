import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram/index.js';
import { modelEnv, runCli, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Telegram end to end: the real `pantheon start` process, real grammY polling (and webhook
 * mode) against the fake Bot API, the scripted model server behind the personas.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? (/You are Pantheon/.test(r.messages[0]?.content ?? '') ? 'pantheon' : '?');
const chatRequests = (fake: FakeLLM) => fake.requests.filter((r) => r.wire !== 'embeddings');

const TOKEN = '7000001:AAH-fake-telegram-token-for-e2e';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const carol: FakeUser = { id: 222, first_name: 'Carol', username: 'carol' };
const dave: FakeUser = { id: 333, first_name: 'Dave', username: 'dave' };
const opsGroup = { id: -100500, type: 'supergroup' as const, title: 'ops' };

const PERSONAS: Record<string, string> = {
  'athena.yaml': 'id: athena\nname: Athena\nrole: pm\ndescription: Product manager who scopes work.\ntools: [chat, handoff]\nprompt: I scope work and hand it on.\n',
  'apollo.yaml': 'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer who ships fixes.\ntools: [handoff]\nprompt: I write code.\n',
};

function config(fakeTelegram: FakeTelegram, telegram: string[]): string {
  return [
    'humans:',
    '  - { id: jeff, local: jeff, telegram: 111, approver: true }',
    '  - { id: carol, local: carol, telegram: 222 }',
    'policy:',
    '  tools: { post_message: ask }',
    'channels:',
    '  telegram:',
    '    token: "${TELEGRAM_BOT_TOKEN}"',
    `    apiRoot: ${fakeTelegram.apiRoot}`,
    ...telegram.map((l) => `    ${l}`),
  ].join('\n');
}

describe('telegram: the human talks to the orchestrator', () => {
  let llm: FakeLLM;
  let tg: FakeTelegram;
  before(async () => {
    llm = await startFakeLLM();
    tg = await startFakeTelegram({ token: TOKEN });
  });
  after(async () => {
    await tg.close();
    await llm.close();
  });

  async function project(telegram: string[]) {
    const dir = await tempDir('pantheon-telegram-e2e-');
    await mkdir(join(dir.path, 'personas'));
    for (const [file, text] of Object.entries(PERSONAS)) await writeFile(join(dir.path, 'personas', file), text);
    await writeFile(join(dir.path, 'pantheon.yaml'), config(tg, telegram));
    return dir;
  }
  const env = () => modelEnv(llm, { TELEGRAM_BOT_TOKEN: TOKEN });
  const inChat = (chatId: number, re: RegExp) => (m: SentMessage) => m.chat_id === chatId && re.test(m.visible);

  it('allowlist, pairing, /status, approval buttons and flood limits over long polling', async () => {
    const dir = await project(['allowedChatIds: [-100500]']);
    let app: RunningPantheon | undefined;
    const stopApp = async () => {
      const running = app;
      app = undefined;
      if (running) assert.equal(await running.stop(), 0);
    };
    try {
      const menusBefore = tg.callsOf('setMyCommands').length;
      app = await startPantheonProcess({ env: env(), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });

      // The command menu is the chat-command registry as the team filled it (approve and deny included), with /ask.
      for (let i = 0; i < 100 && tg.callsOf('setMyCommands').length <= menusBefore; i++) await sleep(50);
      const menu = tg.callsOf('setMyCommands')[menusBefore];
      assert.equal(menu?.status, 200, 'the menu was set, and Telegram took it');
      assert.deepEqual(menu!.payload.commands, [
        { command: 'help', description: 'what you can ask here' },
        { command: 'login', description: 'get a sign-in link for the web console by direct message' },
        { command: 'status', description: 'the work in flight' },
        { command: 'personas', description: 'who is on the team' },
        { command: 'approve', description: '<id>: approve a request (approvers only)' },
        { command: 'deny', description: '<id> [reason]: deny a request (approvers only)' },
        { command: 'new', description: 'a fresh context in this thread: earlier messages stay in the history but are no longer sent to the team' },
        { command: 'ask', description: '<persona> <text>: ask one persona' },
      ]);

      // An allowlisted user, unaddressed: the orchestrator's supervisor answers, labelled.
      llm.enqueue({ text: 'Nothing is in flight yet.' });
      tg.sendText({ from: jeff, text: "what's in flight?" });
      const first = await tg.waitForSent(inChat(111, /Nothing is in flight yet/));
      assert.equal(first.visible, 'Pantheon: Nothing is in flight yet.');
      assert.equal(first.text, '<b>Pantheon</b>: Nothing is in flight yet.');
      assert.equal(personaOf(chatRequests(llm).at(-1)!), 'pantheon');
      assert.equal(chatRequests(llm).at(-1)!.messages.at(-1)!.content, "what's in flight?");

      // /ask <persona>: that persona answers under its own name.
      llm.enqueue({ text: 'Green: **212 tests** pass.' });
      tg.sendText({ from: jeff, text: '/ask apollo is the build green?' });
      const apollo = await tg.waitForSent(inChat(111, /212 tests/));
      assert.equal(apollo.visible, 'Apollo: Green: 212 tests pass.');
      assert.equal(personaOf(chatRequests(llm).at(-1)!), 'apollo');

      // A stranger gets a pairing code and no agent run.
      const modelCalls = chatRequests(llm).length;
      tg.sendText({ from: dave, text: 'hi, can I use this?' });
      const notice = await tg.waitForSent(inChat(333, /not paired/));
      const code = /Pairing code: ([A-Z0-9]{8})/.exec(notice.visible)?.[1];
      assert.ok(code, notice.visible);
      tg.sendText({ from: dave, text: 'hello?' });
      await sleep(700);
      assert.equal(chatRequests(llm).length, modelCalls, 'no model request for a chat nobody allowed');
      assert.equal(tg.sent.filter((m) => m.chat_id === 333).length, 1, 'told once, not on every message');

      const list = await runCli(['pairing', 'list', '--url', app.url, '--data-dir', join(dir.path, 'data')], { env: env(), cwd: dir.path });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`${code}\\s+333\\s+private\\s+@dave`));
      const approve = await runCli(['pairing', 'approve', code!.toLowerCase(), '--url', app.url, '--data-dir', join(dir.path, 'data')], { env: env(), cwd: dir.path });
      assert.equal(approve.code, 0, approve.stderr);
      assert.match(approve.stdout, new RegExp(`Approved ${code}: Telegram chat 333 \\(@dave\\)`));
      await tg.waitForSent(inChat(333, /paired with Pantheon now/));
      const again = await runCli(['pairing', 'approve', code!, '--url', app.url, '--data-dir', join(dir.path, 'data')], { env: env(), cwd: dir.path });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already approved/);

      llm.enqueue({ text: 'Hello Dave, what do you need?' });
      tg.sendText({ from: dave, text: 'hello again' });
      await tg.waitForSent(inChat(333, /^Pantheon: Hello Dave/));

      // Work gets going; /status lists the ledger (answered by the orchestrator, no model call).
      llm.enqueue({ text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the public API.' } }] }, { text: 'On it.' });
      tg.sendText({ from: jeff, text: '/ask athena we need rate limiting on the API' });
      await tg.waitForSent(inChat(111, /^Apollo: On it\.$/));
      const work = ((await (await fetch(`${app.url}/api/work`, { headers: app.auth })).json()) as { items: Array<{ id: string; originThread: string; requestedBy: string }> }).items;
      assert.equal(work.length, 1);
      assert.equal(work[0]!.originThread, 'telegram:111');
      const callsBefore = chatRequests(llm).length;
      tg.sendText({ from: jeff, text: '/status' });
      const status = await tg.waitForSent(inChat(111, /in flight:/));
      assert.match(status.visible, new RegExp(`1 item in flight:\\n.*${work[0]!.id}.*apollo.*rate limiting`, 's'));
      assert.equal(chatRequests(llm).length, callsBefore);

      // Approval by button in the ops group: a non-approver's click is refused, the approver's resumes the run.
      llm.enqueue(
        { text: 'I will announce it.', toolCalls: [{ name: 'post_message', args: { conversation: '-100600', text: 'Deploy at 17:00 today.', reason: 'jeff asked me to announce the deploy' } }] },
        { text: 'Announced the deploy.' },
      );
      tg.sendText({ from: jeff, chat: opsGroup, text: '/ask athena announce the deploy at 17:00 in -100600' });
      const card = await tg.waitForSent((m) => m.chat_id === opsGroup.id && !!m.reply_markup?.inline_keyboard);
      const id = /Approval needed \[([a-z0-9]+)\]/.exec(card.visible)?.[1];
      assert.ok(id, card.visible);
      assert.deepEqual(
        card.reply_markup!.inline_keyboard![0]!.map((b) => [b.text, b.callback_data]),
        [
          ['Approve', `approve:${id}`],
          ['Deny', `deny:${id}`],
        ],
      );
      assert.match(card.visible, /athena wants to run post_message/);

      tg.click({ from: carol, message: card, data: `approve:${id}`, chat: opsGroup });
      const refusal = await tg.waitForSent(inChat(opsGroup.id, /not an approver/));
      assert.match(refusal.visible, new RegExp(`carol is not an approver, so ${id} stays open`));
      await sleep(300);
      assert.equal(tg.sent.filter((m) => m.chat_id === -100600).length, 0, 'nothing announced before approval');

      tg.click({ from: jeff, message: card, data: `approve:${id}`, chat: opsGroup });
      await tg.waitForSent(inChat(opsGroup.id, new RegExp(`Approved by jeff: athena may run post_message \\(${id}\\)`)));
      await tg.waitForSent(inChat(opsGroup.id, /^Athena: Announced the deploy\.$/));
      assert.deepEqual(
        tg.sent.filter((m) => m.chat_id === -100600).map((m) => m.visible),
        ['Athena: Deploy at 17:00 today.'],
      );
      const answers = tg.callsOf('answerCallbackQuery');
      assert.equal(answers.length, 2, 'every click is answered');
      const decisions = ((await (await fetch(`${app.url}/api/audit?kind=approval_decision`, { headers: app.auth })).json()) as { entries: Array<{ actor: string; outcome: string }> }).entries;
      assert.deepEqual(decisions.map((e) => [e.actor, e.outcome]).sort(), [
        ['222', 'refused_not_approver'],
        ['jeff', 'approved'],
      ]);

      // Flood limit: Telegram says wait 2 s; the answer arrives after that, once.
      tg.failNext('sendMessage', { retryAfter: 2 });
      tg.sendText({ from: jeff, text: '/personas' });
      const personas = await tg.waitForSent(inChat(111, /@apollo Apollo/));
      const tries = tg.callsOf('sendMessage').filter((c) => String(c.payload.text).includes('@apollo Apollo'));
      assert.deepEqual(
        tries.map((c) => c.status),
        [429, 200],
      );
      assert.ok(tries[1]!.at - tries[0]!.at >= 2000, `retried after ${tries[1]!.at - tries[0]!.at} ms`);
      assert.equal(tg.sent.filter((m) => m.visible === personas.visible).length, 1);

      // /login in the group: the link goes to jeff's private chat, never to the group, and it signs him in.
      tg.sendText({ from: jeff, chat: opsGroup, text: '/login' });
      await tg.waitForSent(inChat(opsGroup.id, /Sent you a sign-in link by direct message, jeff\./));
      const dm = await tg.waitForSent(inChat(111, /sign-in link for the Pantheon console/));
      const link = /(http:\/\/\S+\/auth\/login\?token=\S+)/.exec(dm.visible)?.[1];
      assert.ok(link?.startsWith(app.url), dm.visible);
      assert.ok(!tg.sent.some((m) => m.chat_id === opsGroup.id && m.visible.includes('/auth/login')), 'no link in the group');
      const page = await fetch(link!);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Sign in as jeff/);

      assert.ok(!app.stdout().includes(TOKEN) && !app.stderr().includes(TOKEN), 'the bot token never reaches the log');

      // With no server running, `pantheon pairing` reads the database itself (port 1: nothing answers there).
      await stopApp();
      const offline = await runCli(['pairing', 'list', '--json', '--data-dir', join(dir.path, 'data'), '--port', '1'], { env: env(), cwd: dir.path, timeoutMs: 90_000 });
      assert.equal(offline.code, 0, offline.stderr);
      const rows = offline.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; chatId: string; code: string; approvedBy: string });
      assert.deepEqual(
        rows.map((r) => [r.kind, r.chatId, r.code]),
        [['approved', '333', code]],
      );
      assert.match(rows[0]!.approvedBy, /^cli:/);
    } finally {
      await stopApp();
      await dir.remove();
    }
  });

  it("webhook mode: a wrong secret gets 401; Telegram's delivery with the secret is answered", async () => {
    const secret = 'e2e-webhook-secret_123';
    const dir = await project(['mode: webhook', `webhookSecret: ${secret}`]);
    let app: RunningPantheon | undefined;
    try {
      app = await startPantheonProcess({ env: env(), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
      const update = { update_id: 1, message: { message_id: 1, date: 1, chat: { id: 111, type: 'private' }, from: { id: 111, is_bot: false, first_name: 'Jeff' }, text: 'forged' } };
      for (const headers of [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }] as Array<Record<string, string>>) {
        const res = await fetch(`${app.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
        assert.equal(res.status, 401);
      }
      const modelCalls = chatRequests(llm).length;

      tg.useWebhook(`${app.url}/webhooks/telegram`, secret);
      llm.enqueue({ text: 'Webhook answer.' });
      const delivered = tg.sendText({ from: jeff, text: 'over the webhook' });
      await tg.waitForSent(inChat(111, /^Pantheon: Webhook answer\.$/));
      assert.deepEqual(
        tg.deliveries.filter((d) => d.update_id === delivered.update_id).map((d) => d.status),
        [200],
      );
      assert.equal(chatRequests(llm).length, modelCalls + 1, 'the forged updates ran nothing');
      assert.equal(chatRequests(llm).at(-1)!.messages.at(-1)!.content, 'over the webhook');
    } finally {
      tg.useWebhook(undefined);
      if (app) assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
