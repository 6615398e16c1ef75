import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { startFakeMattermost, type FakeMattermost, type FakePost } from '../fakes/mattermost/index.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Which persona a model request was made for, from its system prompt. */
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';

const persona = (id: string, name: string, role: string, tokenVar: string) =>
  [
    `id: ${id}`,
    `name: ${name}`,
    `role: ${role}`,
    `description: ${name} on the test team.`,
    'tools: [handoff, chat]',
    'prompt: |',
    `  I am ${name}.`,
    'handles:',
    `  mattermost: { token: "\${${tokenVar}}" }`,
  ].join('\n');

/**
 * The real `pantheon start` process against a fake Mattermost and the scripted model server:
 * personas answer from their own bot accounts in the thread they were asked in, hand off to
 * each other, wait for an approver's button click, and keep listening through a deaf socket.
 */
describe('Mattermost end to end: the team in a Mattermost thread', () => {
  let llm: FakeLLM;
  let mm: FakeMattermost;
  let app: RunningPantheon;
  let dir: { path: string; remove: () => Promise<void> };

  /** A bot's posts in a thread after the root, as "username: text". */
  const lines = (rootId: string) =>
    mm
      .thread(rootId)
      .slice(1)
      .map((p) => `${mm.username(p.user_id)}: ${p.message}`);
  const replyIn = (rootId: string, match: (p: FakePost) => boolean, what: string) => mm.waitFor(() => mm.thread(rootId).slice(1).find(match), 15_000, what);

  before(async () => {
    llm = await startFakeLLM();
    mm = await startFakeMattermost();
    // The bot usernames are the personas' handles; apollo's differs from its persona id on purpose.
    const athena = mm.addBot('athena');
    const apollo = mm.addBot('apollo-bot');
    mm.addHuman('jeff');
    mm.addHuman('carol');
    mm.addChannel('town-square', { members: ['athena', 'apollo-bot', 'jeff', 'carol'] });
    mm.addChannel('ops-room', { members: ['jeff'] });

    dir = await tempDir();
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'athena.yaml'), persona('athena', 'Athena', 'pm', 'ATHENA_MM_TOKEN'));
    await writeFile(join(dir.path, 'personas', 'apollo.yaml'), persona('apollo', 'Apollo', 'developer', 'APOLLO_MM_TOKEN'));
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, mattermost: jeff, approver: true }',
        '  - { id: carol, mattermost: carol }',
        'policy:',
        '  tools: { post_message: ask }',
        'channels:',
        `  mattermost: { url: "${mm.url}", pingIntervalSeconds: 0.25 }`,
      ].join('\n'),
    );
    app = await startPantheonProcess({
      env: modelEnv(llm, { ATHENA_MM_TOKEN: athena.token, APOLLO_MM_TOKEN: apollo.token }),
      dataDir: join(dir.path, 'data'),
      cwd: dir.path,
      // A first start creates the embedded database, slow on a busy machine.
      timeoutMs: 90_000,
    });
    await mm.waitFor(() => mm.sockets('athena') === 1 && mm.sockets('apollo-bot') === 1, 10_000, 'a socket per bot');
  });

  after(async () => {
    const code = await app?.stop();
    await mm?.close();
    await llm?.close();
    await dir?.remove();
    assert.equal(code, 0, app?.stderr());
    assert.ok(!app.stdout().includes(mm.world.userByName('athena')!.token), 'bot tokens never reach the logs');
  });

  beforeEach(() => llm.clear());

  it("a mention answers in the thread from the persona's own account; a handoff shows both personas; a post seen by two bots runs once", async () => {
    llm.enqueue(
      { text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the public API.' } }] },
      { text: 'On it: rate limiting goes in as middleware.' },
    );
    const root = mm.post({ user: 'jeff', channel: 'town-square', message: '@athena we need rate limiting on the API, get apollo on it' });
    await replyIn(root.id, (p) => mm.username(p.user_id) === 'apollo-bot', "apollo's answer");
    await sleep(500);
    assert.deepEqual(lines(root.id), ['athena: Handing this to Apollo.', 'apollo-bot: On it: rate limiting goes in as middleware.']);
    assert.ok(
      mm
        .thread(root.id)
        .slice(1)
        .every((p) => p.root_id === root.id),
      'replies are in the thread',
    );
    assert.deepEqual(llm.requests.map(personaOf), ['athena', 'apollo'], 'both bots saw the post; it ran once');
    assert.ok(
      mm.typing.some((t) => t.username === 'athena' && t.parentId === root.id),
      'athena was shown typing in the thread',
    );

    // A reply in the thread that mentions apollo by his bot's username.
    llm.enqueue({ text: 'CI is green.' });
    mm.post({ user: 'carol', channel: 'town-square', rootId: root.id, message: '@apollo-bot is CI green?' });
    await replyIn(root.id, (p) => p.message === 'CI is green.', 'apollo in the thread');
    assert.equal(mm.username(mm.thread(root.id).at(-1)!.user_id), 'apollo-bot');
    assert.equal(llm.requests.at(-1)!.messages.at(-1)!.content, '@apollo is CI green?');
  });

  it("an approval card's buttons: a non-approver's click is refused, the approver's click resumes the run", async () => {
    llm.enqueue(
      { text: 'I will tell the ops room.', toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Deploy at 17:00 today.', reason: 'carol asked for it' } }] },
      { text: 'Posted the deploy time in ops-room.' },
    );
    const root = mm.post({ user: 'carol', channel: 'town-square', message: '@athena tell ops-room we deploy at 17:00' });
    const card = await replyIn(root.id, (p) => Array.isArray(p.props.attachments), 'the approval card');
    const id = /Approval needed \[([a-z0-9]+)\]/.exec(card.message)?.[1];
    assert.ok(id, card.message);
    const buttons = (card.props.attachments as Array<{ actions: Array<{ id: string; name: string }> }>)[0]!.actions;
    assert.deepEqual(
      buttons.map((b) => [b.id, b.name]),
      [
        ['approve', 'Approve'],
        ['deny', 'Deny'],
      ],
    );
    assert.deepEqual(mm.postsIn('ops-room'), [], 'nothing posted before approval');
    // The approver also gets the request in a direct message, with the buttons.
    const inDm = () => mm.posts.find((p) => p.channel_id !== card.channel_id && p.message.includes(`Approval needed [${id}]`));
    for (let i = 0; i < 100 && !inDm(); i++) await sleep(50);
    const dm = inDm();
    assert.ok(dm, 'the approver got the request privately');
    assert.equal(dm.channel_id, mm.directChannel(mm.username(dm.user_id), 'jeff').id, 'in a DM with jeff');
    assert.ok(Array.isArray(dm.props.attachments), 'with the buttons');

    const refused = await mm.click({ user: 'carol', postId: card.id, actionId: 'approve' });
    assert.equal(refused.status, 200);
    assert.ok(refused.ms < 1000, `the click was answered in ${refused.ms} ms`);
    assert.match(refused.ephemeralText ?? '', new RegExp(`approve ${id}`));
    await replyIn(root.id, (p) => /carol is not an approver/.test(p.message), 'the refusal');
    await sleep(300);
    assert.deepEqual(mm.postsIn('ops-room'), []);

    await mm.click({ user: 'jeff', postId: card.id, actionId: 'approve' });
    await replyIn(root.id, (p) => p.message === 'Posted the deploy time in ops-room.', 'the resumed run');
    assert.ok(
      lines(root.id).some((l) => new RegExp(`Approved by jeff: athena may run post_message \\(${id}\\)`).test(l)),
      lines(root.id).join('\n'),
    );
    // post_message queues its post in the outbox; it is delivered on its own, not necessarily before the reply.
    for (let i = 0; i < 100 && !mm.postsIn('ops-room').length; i++) await sleep(50);
    await sleep(300);
    const ops = mm.postsIn('ops-room');
    assert.deepEqual(
      ops.map((p) => [mm.username(p.user_id), p.message, p.root_id]),
      [['athena', 'Deploy at 17:00 today.', '']],
    );
    assert.equal(llm.requests.length, 2, 'the model was not asked again while the run waited');
  });

  it('a deaf socket is reconnected by the watchdog; the post sent while it was deaf is answered exactly once', async () => {
    assert.equal(mm.silence(), 2, "both bots' sockets go silent without closing");
    const silencedAt = Date.now();
    llm.enqueue({ text: 'Still here.' });
    const root = mm.post({ user: 'jeff', channel: 'town-square', message: '@athena are you still there?' });
    await mm.waitFor(() => mm.sockets('athena') === 1 && mm.sockets('apollo-bot') === 1, 5000, 'fresh sockets');
    const reconnectMs = Date.now() - silencedAt;
    // Deaf after two 250 ms intervals, noticed at the next tick, then a backoff of at most 250 ms.
    assert.ok(reconnectMs < 2000, `reconnected after ${reconnectMs} ms`);
    await replyIn(root.id, (p) => p.message === 'Still here.', 'the answer to the missed post');
    await sleep(1000);
    assert.deepEqual(lines(root.id), ['athena: Still here.']);
    assert.equal(llm.requests.length, 1);
    assert.match(app.stdout(), /went deaf; reconnecting/);
  });
});
