import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DiscordAdapter } from '../../platforms/discord/adapter.js';
import { PersonaBot } from '../../platforms/discord/bot.js';
import type { ApprovalCard, Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { discordModule } from '../../platforms/discord/module.js';
import type { ModuleContext } from '../../core/modules/types.js';
import { PersonaRegistry } from '../../personas/registry.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { startFakeDiscord, type FakeBot, type FakeChannel, type FakeDiscord, type FakeUser } from '../fakes/discord/index.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const ATHENA = 'athena-discord-token-0001';
const APOLLO = 'apollo-discord-token-0002';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the Discord adapter, with the real discord.js against the fake Discord', () => {
  let fake: FakeDiscord;
  let adapter: DiscordAdapter;
  let athenaBot: FakeBot;
  let apolloBot: FakeBot;
  let jeff: FakeUser;
  let general: FakeChannel;
  let guildId: string;
  const inbound: Envelope[] = [];

  before(async () => {
    fake = await startFakeDiscord();
    athenaBot = fake.addBot(ATHENA, 'Athena');
    apolloBot = fake.addBot(APOLLO, 'Apollo');
    jeff = fake.addHuman('jeff');
    guildId = fake.createGuild('olympus').id;
    general = fake.createChannel(guildId, 'general');
    const logger = createLogger({ level: 'silent' });
    adapter = new DiscordAdapter({
      bots: new Map([
        ['athena', new PersonaBot('athena', ATHENA, fake.apiUrl, logger)],
        ['apollo', new PersonaBot('apollo', APOLLO, fake.apiUrl, logger)],
      ]),
      systemPersona: 'athena',
      displayName: (id) => id[0]!.toUpperCase() + id.slice(1),
      ingress: async (e) => {
        inbound.push(e);
        return { id: e.id, accepted: true };
      },
      logger,
    });
    await adapter.start();
    const needed = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15); // Guilds, GuildMessages, DirectMessages, MessageContent
    assert.deepEqual(
      fake.gateway.identifies.map((i) => i.intents & needed),
      [needed, needed],
    );
  });
  after(async () => {
    await adapter.stop();
    await fake.close();
  });

  it('passes the thread-id contract', () => {
    assertThreadIdRoundTrip(adapter, [
      { guildId, channelId: general.id },
      { dm: 'apollo', channelId: '123' },
      { guildId: 'g:1', channelId: 'c#2' },
    ]);
  });

  it('hands a guild message heard by both bots on once, with the bot mention as @persona', async () => {
    inbound.length = 0;
    const msg = fake.say(general.id, jeff, `<@${apolloBot.id}> is the build green?`);
    const e = await until(() => inbound[0], 'the envelope');
    await sleep(200);
    assert.equal(inbound.length, 1, 'one envelope although two bots saw it');
    assert.equal(e.id, `discord:${msg.id}`);
    assert.equal(e.text, '@apollo is the build green?');
    assert.equal(e.threadId, `discord:${guildId}:${general.id}`);
    assert.equal(e.bindingKey, 'discord:general');
    assert.deepEqual(e.author, { id: jeff.id, name: 'jeff', isBot: false });
  });

  it('takes thread messages and DMs, and ignores bots', async () => {
    inbound.length = 0;
    const thread = fake.createThread(general.id, 'rate limiting');
    await sleep(100);
    fake.say(thread.id, jeff, `<@${athenaBot.id}> plan it`);
    fake.dm(jeff, apolloBot, 'just between us');
    await until(() => inbound.length >= 2 || undefined, 'two envelopes');
    const inThread = inbound.find((e) => e.text === '@athena plan it')!;
    assert.equal(inThread.threadId, `discord:${guildId}:${thread.id}`);
    assert.equal(inThread.bindingKey, 'discord:general', 'a thread is bound by its channel');
    const dm = inbound.find((e) => e.text === 'just between us')!;
    assert.equal(dm.directTo, 'apollo');
    assert.match(dm.threadId, /^discord:@apollo:\d+$/);

    // The team's own posts come back over the gateway; they are not handed on.
    inbound.length = 0;
    await adapter.post({ idempotencyKey: 'own-1', platform: 'discord', threadId: inThread.threadId, role: 'agent', persona: 'athena', text: 'a plan' });
    await sleep(200);
    assert.deepEqual(inbound, []);
  });

  it("posts as the persona's own bot; system messages and personas without a bot go through the system bot", async () => {
    const threadId = `discord:${guildId}:${general.id}`;
    const before = fake.log.posts.length;
    await adapter.post({ idempotencyKey: 'p-1', platform: 'discord', threadId, role: 'agent', persona: 'apollo', text: 'On it.' });
    await adapter.post({ idempotencyKey: 'p-2', platform: 'discord', threadId, role: 'system', text: 'Approved by jeff.' });
    await adapter.post({ idempotencyKey: 'p-3', platform: 'discord', threadId, role: 'agent', persona: 'hermes', text: 'me too' });
    const posts = fake.log.posts.slice(before).map((p) => [p.bot.username, p.content]);
    assert.deepEqual(posts, [
      ['Apollo', 'On it.'],
      ['Athena', 'Approved by jeff.'],
      ['Athena', '**Hermes**: me too'],
    ]);

    // In apollo's DM only apollo's bot can post, whoever speaks.
    const dm = fake.state.dmChannel(jeff, apolloBot);
    await adapter.post({ idempotencyKey: 'p-4', platform: 'discord', threadId: `discord:@apollo:${dm.id}`, role: 'system', text: 'Approval needed' });
    assert.equal(fake.postsIn(dm.id).at(-1)!.bot.username, 'Apollo');
  });

  it('splits long messages at 2000, posts a retried key once, edits in place and shows typing', async () => {
    const threadId = `discord:${guildId}:${general.id}`;
    const long = Array.from({ length: 200 }, (_, i) => `step ${i}: nothing to see here`).join('\n');
    const first = await adapter.post({ idempotencyKey: 'long-1', platform: 'discord', threadId, role: 'agent', persona: 'apollo', text: long });
    const parts = fake
      .postsBy(APOLLO)
      .filter((p) => p.kind === 'create')
      .slice(-4);
    assert.ok(parts.every((p) => p.content.length <= 2000));
    const created = fake.log.posts.filter((p) => p.body.nonce && p.kind === 'create' && p.content.includes('step '));
    assert.equal(created.map((p) => p.content).join('\n'), long);
    assert.equal(created[0]!.messageId, first.id);

    const again = await adapter.post({ idempotencyKey: 'long-1', platform: 'discord', threadId, role: 'agent', persona: 'apollo', text: long });
    assert.equal(again.id, first.id);
    assert.equal(fake.log.posts.filter((p) => p.content.includes('step ')).length, created.length, 'nothing new posted');

    await adapter.edit(threadId, first.id, { idempotencyKey: 'long-1:v2', platform: 'discord', threadId, role: 'agent', persona: 'apollo', text: 'done in 3 steps' });
    assert.equal(fake.state.messages.get(first.id)!.content, 'done in 3 steps');
    await adapter.typing(threadId, 'athena');
    assert.equal(fake.log.typing.at(-1)!.bot.username, 'Athena');
  });

  it('draws an approval card as buttons; a click is acknowledged and reads as the typed answer', async () => {
    const threadId = `discord:${guildId}:${general.id}`;
    const card: ApprovalCard = {
      approvalId: 'ab12',
      title: 'Approval needed [ab12]',
      fields: [],
      actions: [
        { id: 'approve', label: 'Approve' },
        { id: 'deny', label: 'Deny' },
      ],
      fallbackText: 'answer approve ab12 or deny ab12',
    };
    const posted = await adapter.post({ idempotencyKey: 'card-1', platform: 'discord', threadId, role: 'system', text: 'Approval needed [ab12]: answer approve ab12', card });
    const recorded = fake.log.posts.find((p) => p.messageId === posted.id)!;
    assert.equal(recorded.bot.username, 'Athena');
    assert.deepEqual(
      recorded.components[0].components.map((b: { custom_id: string }) => b.custom_id),
      ['approve:ab12', 'deny:ab12'],
    );

    inbound.length = 0;
    const interaction = fake.click(posted.id, 'approve:ab12', jeff);
    const e = await until(() => inbound[0], 'the click envelope');
    assert.equal(e.text, 'approve ab12');
    assert.equal(e.author.id, jeff.id);
    assert.equal(e.threadId, threadId);
    // Acknowledged once stored, so just after the envelope reached the ingress.
    const ack = await until(() => fake.log.interactionCallbacks.find((c) => c.interactionId === interaction), 'the acknowledgement');
    assert.equal(ack.type, 6, 'deferred update: the click is acknowledged');
  });

  it('waits out a 429 on one channel without holding up another', async () => {
    const other = fake.createChannel(guildId, 'random');
    await sleep(100);
    fake.rateLimitNext({ token: APOLLO, retryAfterMs: 1000 });
    const t0 = Date.now();
    const slow = adapter.post({ idempotencyKey: 'rl-1', platform: 'discord', threadId: `discord:${guildId}:${general.id}`, role: 'agent', persona: 'apollo', text: 'after the limit' });
    await until(() => fake.log.rateLimited.length > 0 || undefined, 'the 429');
    await adapter.post({ idempotencyKey: 'rl-2', platform: 'discord', threadId: `discord:${guildId}:${other.id}`, role: 'agent', persona: 'apollo', text: 'elsewhere' });
    const fastAt = Date.now() - t0;
    await slow;
    const slowAt = Date.now() - t0;
    assert.ok(fastAt < 800, `the other channel was not held up (${fastAt} ms)`);
    assert.ok(slowAt >= 950, `the limited post waited for Retry-After (${slowAt} ms)`);
    assert.equal(fake.postsBy(APOLLO).filter((p) => p.content === 'after the limit').length, 1);
  });
});

describe('discord bots that cannot connect', () => {
  it('a refused token is reported and does not stop the other bots', async () => {
    const fake = await startFakeDiscord();
    fake.addBot(ATHENA, 'Athena');
    fake.createGuild('olympus');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const adapter = new DiscordAdapter({
      bots: new Map([
        ['athena', new PersonaBot('athena', ATHENA, fake.apiUrl, logger)],
        ['apollo', new PersonaBot('apollo', 'not-a-known-token', fake.apiUrl, logger)],
      ]),
      systemPersona: 'athena',
      displayName: (id) => id,
      ingress: async (e) => ({ id: e.id, accepted: true }),
      logger,
    });
    try {
      await adapter.start();
      assert.equal(fake.gateway.sessions.size, 1, 'athena connected');
      await sleep(50);
      const refused = lines.map((l) => JSON.parse(l) as { persona?: string; msg: string }).find((l) => l.persona === 'apollo');
      assert.match(refused?.msg ?? '', /refused this bot's token: check handles\.discord\.token/);
      assert.ok(!lines.join('').includes('not-a-known-token'));
    } finally {
      await adapter.stop();
      await fake.close();
    }
  });
});

describe('the discord module', () => {
  const ctx = (discord: object | undefined, tokens: Record<string, string | undefined>) =>
    ({
      loaded: { config: { channels: { discord }, orchestrator: { defaultPersona: 'athena' } } },
      registry: new PersonaRegistry(
        Object.entries(tokens).map(([id, token]) => ({ id, name: id, role: 'custom', description: id, prompt: id, tools: [], handles: token ? { discord: { token } } : {} }) as unknown as Persona),
      ),
      logger: createLogger({ level: 'silent' }),
      ingress: async () => ({ id: 'x', accepted: true }),
    }) as unknown as ModuleContext;

  it('is off unless channels.discord is configured and some persona has a bot', async () => {
    assert.equal(await discordModule(ctx(undefined, { athena: 'tok' })), null);
    assert.equal(await discordModule(ctx({}, { athena: undefined })), null);
    const mod = await discordModule(ctx({ apiUrl: 'http://127.0.0.1:9/api' }, { athena: 'tok-athena-000000000000', apollo: undefined }));
    assert.equal(mod?.name, 'discord');
    assert.equal(mod?.adapters?.[0]?.name, 'discord');
  });
});
