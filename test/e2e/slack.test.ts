import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { postSignedEvent, startFakeSlack, type FakeSlack, type FakeSlackApp, type FakeSlackMessage } from '../fakes/slack/index.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';
const SIGNING_SECRET = 'e2e-slack-signing-secret';
const JEFF = 'U0JEFF';
const CAROL = 'U0CAROL';

const persona = (id: string, role: string) =>
  [
    `id: ${id}`,
    `name: ${id[0]!.toUpperCase()}${id.slice(1)}`,
    `role: ${role}`,
    `description: ${id} of the test team.`,
    'tools: [handoff, chat]',
    `prompt: I am ${id}.`,
    'handles:',
    `  slack: { botToken: "\${${id.toUpperCase()}_SLACK_BOT_TOKEN}", appToken: "\${${id.toUpperCase()}_SLACK_APP_TOKEN}" }`,
  ].join('\n');

const config = (mode: 'socket' | 'http') =>
  [
    'humans:',
    `  - { id: jeff, slack: ${JEFF}, approver: true }`,
    `  - { id: carol, slack: ${CAROL} }`,
    'policy:',
    '  tools: { post_message: ask }',
    'channels:',
    `  slack: { mode: ${mode}, apiUrl: "\${SLACK_API_URL}"${mode === 'http' ? ', signingSecret: "${SLACK_SIGNING_SECRET}"' : ''} }`,
  ].join('\n');

/** A working directory with pantheon.yaml and two personas, each with its own Slack app. */
async function team(mode: 'socket' | 'http') {
  const dir = await tempDir('pantheon-slack-');
  await mkdir(join(dir.path, 'personas'));
  await writeFile(join(dir.path, 'pantheon.yaml'), config(mode));
  await writeFile(join(dir.path, 'personas', 'athena.yaml'), persona('athena', 'pm'));
  await writeFile(join(dir.path, 'personas', 'apollo.yaml'), persona('apollo', 'developer'));
  return dir;
}

async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(40);
  }
}

describe('Slack end to end: the real process, the real Bolt, a fake Slack', () => {
  let llm: FakeLLM;
  let slack: FakeSlack;
  let athena: FakeSlackApp;
  let apollo: FakeSlackApp;
  /** One embedded database for both runs: creating one is the slowest part of a start. */
  let data: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    data = await tempDir('pantheon-slack-data-');
    llm = await startFakeLLM();
    slack = await startFakeSlack();
    athena = slack.addApp('athena');
    apollo = slack.addApp('apollo');
    slack.addUser({ id: JEFF, name: 'jeff' });
    slack.addUser({ id: CAROL, name: 'carol' });
  });
  after(async () => {
    await slack.close();
    await llm.close();
    await data.remove();
  });
  const start = (cwd: string) => startPantheonProcess({ env: env(), dataDir: data.path, cwd, timeoutMs: 90_000 });

  const env = () =>
    modelEnv(llm, {
      SLACK_API_URL: slack.apiUrl,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      ATHENA_SLACK_BOT_TOKEN: athena.botToken,
      ATHENA_SLACK_APP_TOKEN: athena.appToken,
      APOLLO_SLACK_BOT_TOKEN: apollo.botToken,
      APOLLO_SLACK_APP_TOKEN: apollo.appToken,
    });
  const inThread = (channel: string, thread: string) => (m: FakeSlackMessage) => m.botToken && m.channel === channel && m.threadTs === thread;
  const lines = (channel: string, thread: string) => slack.messages.filter(inThread(channel, thread)).map((m) => `${m.app}: ${m.text}`);

  it("Socket Mode: mentions answered in the thread by each persona's own app, handoffs, approval buttons, redeliveries, rate limits", async () => {
    const dir = await team('socket');
    llm.clear();
    let app: RunningPantheon | undefined;
    try {
      app = await start(dir.path);
      await slack.waitForConnections(2);

      // A thread someone started; a mention inside it is answered there, by apollo's own app.
      const root = await slack.say({ user: JEFF, channel: 'C0DEV', text: 'the login page is slow' });
      llm.enqueue({ text: 'Looking into the **login** latency now.' });
      const mention = await slack.say({ user: JEFF, channel: 'C0DEV', threadTs: root.ts, text: `<@${apollo.botUserId}> can you take this?` });
      const answer = await until(() => slack.postsBy(apollo.botToken).find(inThread('C0DEV', root.ts)), "apollo's answer");
      assert.equal(answer.text, 'Looking into the *login* latency now.');
      assert.equal(personaOf(llm.requests[0]!), 'apollo');
      assert.equal(llm.requests[0]!.messages.at(-1)!.content, '@apollo can you take this?');

      // Slack redelivers the mention (as if our ack were lost): nothing runs again.
      await slack.sendEvent(apollo, { type: 'app_mention', user: JEFF, text: `<@${apollo.botUserId}> can you take this?`, ts: mention.ts, thread_ts: root.ts, channel: 'C0DEV' }, { retryNum: 1 });
      await sleep(700);
      assert.equal(llm.requests.length, 1, 'the redelivered event was not answered again');
      assert.deepEqual(lines('C0DEV', root.ts), ['apollo: Looking into the *login* latency now.']);

      // A handoff: both personas speak in the thread, each through its own app.
      llm.enqueue(
        { text: 'Handing this to Apollo.', toolCalls: [{ name: 'handoff', args: { to: 'apollo', message: 'Add rate limiting to the API.' } }] },
        { text: 'On it: rate limiting goes in as middleware.' },
      );
      const ask = await slack.say({ user: JEFF, channel: 'C0PLAN', text: `<@${athena.botUserId}> we need rate limiting, get apollo on it` });
      await until(() => slack.postsBy(apollo.botToken).find(inThread('C0PLAN', ask.ts)), 'apollo in the handoff thread');
      assert.deepEqual(lines('C0PLAN', ask.ts), ['athena: Handing this to Apollo.', 'apollo: On it: rate limiting goes in as middleware.']);
      assert.deepEqual(llm.requests.slice(1).map(personaOf), ['athena', 'apollo']);

      // An approval: a non-approver's click is refused, an approver's click resumes the run.
      llm.enqueue(
        { text: 'I will tell the ops room.', toolCalls: [{ name: 'post_message', args: { conversation: `slack:${slack.teamId}:C0OPS`, text: 'Deploy at 17:00 today.' } }] },
        { text: 'Posted the deploy time in ops.' },
      );
      const deploy = await slack.say({ user: JEFF, channel: 'C0REL', text: `<@${athena.botUserId}> tell ops we deploy at 17:00` });
      const card = await until(() => slack.messages.find((m) => inThread('C0REL', deploy.ts)(m) && m.blocks), 'the approval card');
      const buttons = card.blocks!.find((b) => b.type === 'actions')!.elements as Array<{ action_id: string; value: string }>;
      const approvalId = buttons[0]!.value;
      assert.match(card.text, new RegExp(`Approval needed \\[${approvalId}\\]: athena wants to run post_message`));
      assert.deepEqual(
        buttons.map((b) => b.action_id),
        ['pantheon_approve', 'pantheon_deny'],
      );
      assert.equal(slack.messages.filter((m) => m.channel === 'C0OPS').length, 0, 'nothing posted before approval');

      await slack.click(athena, { user: CAROL, channel: 'C0REL', messageTs: card.ts, threadTs: deploy.ts, actionId: 'pantheon_approve', value: approvalId });
      const refusal = await until(() => slack.messages.find((m) => inThread('C0REL', deploy.ts)(m) && /not an approver/.test(m.text)), 'the refusal');
      assert.match(refusal.text, new RegExp(`carol is not an approver, so ${approvalId} stays open`));
      await sleep(300);
      assert.equal(slack.messages.filter((m) => m.channel === 'C0OPS').length, 0);

      await slack.click(athena, { user: JEFF, channel: 'C0REL', messageTs: card.ts, threadTs: deploy.ts, actionId: 'pantheon_approve', value: approvalId });
      await until(() => slack.messages.find((m) => inThread('C0REL', deploy.ts)(m) && m.text === 'Posted the deploy time in ops.'), "the resumed run's answer");
      const ops = slack.messages.filter((m) => m.channel === 'C0OPS');
      assert.deepEqual(
        ops.map((m) => [m.app, m.text]),
        [['athena', 'Deploy at 17:00 today.']],
        "posted once, by athena's app",
      );
      assert.ok(lines('C0REL', deploy.ts).some((l) => l === `athena: Approved by jeff: athena may run post_message (${approvalId}).`));

      // chat.postMessage answers 429 with Retry-After: the answer waits, then arrives once.
      slack.rateLimit('chat.postMessage', { retryAfterSec: 2 });
      llm.enqueue({ text: 'Answer after the rate limit.' });
      const limited = await slack.say({ user: JEFF, channel: 'C0DEV', text: `<@${apollo.botUserId}> quick one` });
      const started = Date.now();
      const late = await until(() => slack.postsBy(apollo.botToken).find((m) => m.threadTs === limited.ts), 'the rate-limited answer');
      assert.equal(late.text, 'Answer after the rate limit.');
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage');
      const refused = posts.findIndex((c) => c.status === 429);
      assert.ok(refused >= 0, 'Slack did rate-limit the post');
      assert.ok(posts[refused + 1]!.at - posts[refused]!.at >= 1900, 'the retry waited for Retry-After');
      assert.ok(Date.now() - started < 15_000);
      assert.equal(slack.postsBy(apollo.botToken).filter((m) => m.threadTs === limited.ts).length, 1);
      const logs = app.stdout() + app.stderr();
      for (const secret of [athena.botToken, athena.appToken, apollo.botToken, apollo.appToken]) assert.ok(!logs.includes(secret), 'no token in the logs');
      if (process.env.SLACK_E2E_LOGS)
        console.log(
          logs
            .split('\n')
            .filter((l) => /slack/i.test(l))
            .join('\n'),
        );
    } finally {
      if (app) assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('HTTP mode: signed events are taken once, bad signatures and old timestamps get 401 and nothing runs, clicks arrive by the interactions route', async () => {
    const dir = await team('http');
    llm.clear();
    let app: RunningPantheon | undefined;
    try {
      app = await start(dir.path);
      const eventsUrl = `${app.url}/webhooks/slack/events`;
      const postedBefore = slack.messages.filter((m) => m.botToken).length;
      slack.useHttp({ eventsUrl, interactionsUrl: `${app.url}/webhooks/slack/interactions`, signingSecret: SIGNING_SECRET });

      const verify = await postSignedEvent(eventsUrl, { type: 'url_verification', challenge: 'abc123', token: 'x' }, { signingSecret: SIGNING_SECRET });
      assert.deepEqual([verify.status, await verify.json()], [200, { challenge: 'abc123' }]);

      const event = { type: 'app_mention', user: JEFF, text: `<@${apollo.botUserId}> status?`, ts: `${Math.floor(Date.now() / 1000)}.000777`, channel: 'C0HTTP' };
      const body = slack.eventBody(apollo, event);
      const forged = await postSignedEvent(eventsUrl, body, { signingSecret: 'not-the-secret' });
      const stale = await postSignedEvent(eventsUrl, body, { signingSecret: SIGNING_SECRET, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
      assert.deepEqual([forged.status, stale.status], [401, 401]);
      assert.equal(((await stale.json()) as { error: { code: string } }).error.code, 'unauthorized');
      await sleep(500);
      assert.equal(llm.requests.length, 0, 'nothing ran');
      assert.equal(slack.messages.filter((m) => m.botToken).length, postedBefore, 'nothing was posted');

      llm.enqueue({ text: 'All green.' });
      const started = Date.now();
      const ok = await postSignedEvent(eventsUrl, body, { signingSecret: SIGNING_SECRET });
      assert.equal(ok.status, 200);
      assert.ok(Date.now() - started < 1000, 'answered within a second');
      const retried = await postSignedEvent(eventsUrl, body, { signingSecret: SIGNING_SECRET, retryNum: 1 });
      assert.equal(retried.status, 200);
      await until(() => slack.postsBy(apollo.botToken).find((m) => m.threadTs === event.ts), "apollo's answer");
      await sleep(700);
      assert.deepEqual(lines('C0HTTP', event.ts), ['apollo: All green.'], 'answered once');
      assert.equal(llm.requests.length, 1);

      // A click arrives by the interactions route and reaches the approval desk as the clicker's answer.
      const click = await slack.click(apollo, { user: JEFF, channel: 'C0HTTP', messageTs: event.ts, threadTs: event.ts, actionId: 'pantheon_deny', value: 'zzzzz' });
      assert.equal(click.status, 200);
      await until(() => lines('C0HTTP', event.ts).includes('athena: There is no approval request zzzzz.'), "the desk's answer to the click");
    } finally {
      slack.useHttp(null);
      if (app) assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
