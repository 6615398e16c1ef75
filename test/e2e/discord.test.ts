import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { startFakeDiscord, type FakeDiscord, type RecordedPost } from '../fakes/discord/index.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const ATHENA = 'athena-discord-token-e2e-0001';
const APOLLO = 'apollo-discord-token-e2e-0002';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const persona = (id: string, name: string, role: string, tools: string[]) =>
  [
    `id: ${id}`,
    `name: ${name}`,
    `role: ${role}`,
    `description: ${name} of the test team.`,
    `tools: [${tools.join(', ')}]`,
    `prompt: I am ${name}.`,
    `handles:`,
    `  discord: { token: "\${${id.toUpperCase()}_DISCORD_TOKEN}" }`,
  ].join('\n');

/** Waits for a post in a channel that `predicate` accepts. */
async function waitForPost(fake: FakeDiscord, channelId: string, predicate: (p: RecordedPost) => boolean, timeoutMs = 15_000): Promise<RecordedPost> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = fake.postsIn(channelId).find(predicate);
    if (hit) return hit;
    await sleep(25);
  }
  throw new Error(
    `no matching post in ${channelId}; posts:\n${fake
      .postsIn(channelId)
      .map((p) => `${p.bot.username}: ${p.content}`)
      .join('\n')}`,
  );
}

const lines = (fake: FakeDiscord, channelId: string) =>
  fake
    .postsIn(channelId)
    .filter((p) => p.kind === 'create')
    .map((p) => `${p.bot.username}: ${p.content}`);

describe('Discord end to end: the real process, the fake Discord, the scripted model', () => {
  let llm: FakeLLM;
  let fake: FakeDiscord;
  let app: RunningPantheon;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const world = {} as { guildId: string; general: string; ops: string; athenaId: string; apolloId: string; jeff: ReturnType<FakeDiscord['addHuman']>; carol: ReturnType<FakeDiscord['addHuman']> };

  before(async () => {
    llm = await startFakeLLM();
    fake = await startFakeDiscord();
    world.athenaId = fake.addBot(ATHENA, 'Athena').id;
    world.apolloId = fake.addBot(APOLLO, 'Apollo').id;
    world.jeff = fake.addHuman('jeff');
    world.carol = fake.addHuman('carol');
    world.guildId = fake.createGuild('olympus').id;
    world.general = fake.createChannel(world.guildId, 'general').id;
    world.ops = fake.createChannel(world.guildId, 'ops').id;

    dir = await tempDir();
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'athena.yaml'), persona('athena', 'Athena', 'pm', ['handoff', 'chat']));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), persona('apollo', 'Apollo', 'developer', ['handoff']));
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        `  - { id: jeff, discord: "${world.jeff.id}", approver: true }`,
        `  - { id: carol, discord: "${world.carol.id}" }`,
        'policy:',
        '  tools: { post_message: ask }',
        'channels:',
        `  discord: { apiUrl: "${fake.apiUrl}" }`,
      ].join('\n'),
    );
    app = await startPantheonProcess({
      env: modelEnv(llm, { ATHENA_DISCORD_TOKEN: ATHENA, APOLLO_DISCORD_TOKEN: APOLLO }),
      dataDir: join(dir.path, 'data'),
      cwd: dir.path,
      timeoutMs: 60_000, // a cold embedded database can be slow to create on a busy machine
    });
    await fake.waitConnected([ATHENA, APOLLO]);
  });

  after(async () => {
    const code = await app?.stop();
    await fake.close();
    await llm.close();
    await dir.remove();
    if (!app) return;
    assert.equal(code, 0);
    assert.ok(!app.stdout().includes(ATHENA) && !app.stdout().includes(APOLLO), 'bot tokens never reach the logs');
  });

  it("a mention in a thread is answered in that thread by the persona's own bot", async () => {
    llm.clear();
    llm.enqueue({ text: 'The build is green.' });
    const thread = fake.createThread(world.general, 'build status').id;
    await sleep(100);
    fake.say(thread, world.jeff, `<@${world.apolloId}> is the build green?`);
    const answer = await waitForPost(fake, thread, (p) => p.content === 'The build is green.');
    assert.equal(answer.bot.id, world.apolloId, "posted by apollo's own bot");
    assert.equal(llm.requests.at(-1)!.messages.at(-1)!.content, '@apollo is the build green?');
    assert.deepEqual(fake.postsIn(world.general), [], 'nothing in the parent channel');
    assert.ok(
      fake.log.typing.some((t) => t.channelId === thread && t.bot.id === world.apolloId),
      'apollo was shown typing there',
    );
  });

  it("a handoff shows both personas' posts, each from its own bot", async () => {
    llm.clear();
    llm.enqueue(
      { text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the API.' } }] },
      { text: 'On it: rate limiting as middleware.' },
    );
    const thread = fake.createThread(world.general, 'rate limiting').id;
    await sleep(100);
    fake.say(thread, world.jeff, `<@${world.athenaId}> we need rate limiting, get apollo on it`);
    await waitForPost(fake, thread, (p) => p.bot.id === world.apolloId);
    assert.deepEqual(lines(fake, thread), ['Athena: Handing this to Apollo.', 'Apollo: On it: rate limiting as middleware.']);
  });

  it("an approver's button click resumes the paused run; a non-approver's click is refused", async () => {
    llm.clear();
    llm.enqueue(
      { text: 'I will tell ops.', toolCalls: [{ name: 'post_message', args: { conversation: `discord:${world.guildId}:${world.ops}`, text: 'Deploy at 17:00 today.' } }] },
      { text: 'Told ops about the deploy.' },
    );
    const thread = fake.createThread(world.general, 'deploy').id;
    await sleep(100);
    fake.say(thread, world.jeff, `<@${world.athenaId}> tell ops we deploy at 17:00`);
    const card = await waitForPost(fake, thread, (p) => /Approval needed/.test(p.content));
    const id = /Approval needed \[([a-z0-9]+)\]/.exec(card.content)![1]!;
    assert.deepEqual(
      card.components[0].components.map((b: { label: string; custom_id: string }) => [b.label, b.custom_id]),
      [
        ['Approve', `approve:${id}`],
        ['Deny', `deny:${id}`],
      ],
    );
    assert.deepEqual(fake.postsIn(world.ops), [], 'nothing posted before approval');

    const refusedClick = fake.click(card.messageId, `approve:${id}`, world.carol);
    const refusal = await waitForPost(fake, thread, (p) => /not an approver/.test(p.content));
    assert.match(refusal.content, new RegExp(`carol is not an approver, so ${id} stays open`));
    assert.ok(
      fake.log.interactionCallbacks.some((c) => c.interactionId === refusedClick),
      'the refused click was acknowledged too',
    );
    await sleep(300);
    assert.deepEqual(fake.postsIn(world.ops), []);

    const click = fake.click(card.messageId, `approve:${id}`, world.jeff);
    await waitForPost(fake, thread, (p) => p.content === 'Told ops about the deploy.');
    const ack = fake.log.interactionCallbacks.find((c) => c.interactionId === click)!;
    assert.equal(ack.type, 6);
    assert.ok(
      lines(fake, thread).some((l) => new RegExp(`Approved by jeff: athena may run post_message \\(${id}\\)`).test(l)),
      lines(fake, thread).join('\n'),
    );
    assert.deepEqual(lines(fake, world.ops), ['Athena: Deploy at 17:00 today.']);
    assert.equal(llm.requests.length, 2, 'the model was not asked again while the run waited');
  });

  it('a 429 delays the answer, which is then delivered once', async () => {
    llm.clear();
    llm.enqueue({ text: 'Answer after the rate limit.' });
    fake.rateLimitNext({ token: APOLLO, retryAfterMs: 1500 });
    const thread = fake.createThread(world.general, 'limits').id;
    await sleep(100);
    fake.say(thread, world.jeff, `<@${world.apolloId}> ping`);
    const answer = await waitForPost(fake, thread, (p) => p.content === 'Answer after the rate limit.');
    const limited = fake.log.rateLimited.find((r) => r.bot.id === world.apolloId)!;
    assert.ok(limited, 'the first try was rate limited');
    assert.ok(answer.at - limited.at >= 1400, `delivered after Retry-After (${answer.at - limited.at} ms)`);
    await sleep(500);
    assert.equal(fake.postsIn(thread).filter((p) => p.content === 'Answer after the rate limit.').length, 1);
  });
});
