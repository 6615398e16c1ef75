import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger } from '../../core/log.js';
import { SlackAdapter } from '../../platforms/slack/adapter.js';
import { SlackApi } from '../../platforms/slack/api.js';
import { SlackInbound } from '../../platforms/slack/inbound.js';
import { registerSlackRoutes } from '../../platforms/slack/routes.js';
import type { Envelope, OutboundMessage } from '../../core/chat/types.js';
import { postSignedEvent, startFakeSlack, type FakeSlack, type FakeSlackApp } from '../fakes/slack/index.js';

const logger = createLogger({ level: 'silent' });
const SECRET = 'adapter-test-signing-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the Slack adapter against a fake Slack', () => {
  let slack: FakeSlack;
  let athena: FakeSlackApp;
  let apollo: FakeSlackApp;
  let adapter: SlackAdapter;
  let apis: Map<string, SlackApi>;
  const inbox: Envelope[] = [];
  const seen = new Set<string>();
  const ingress = async (e: Envelope) => {
    if (e.author.isBot || seen.has(e.id)) return { id: e.id, accepted: false };
    seen.add(e.id);
    inbox.push(e);
    return { id: e.id, accepted: true };
  };
  const msg = (m: Partial<OutboundMessage>): OutboundMessage => ({
    idempotencyKey: `k-${Math.random()}`,
    platform: 'slack',
    threadId: 'slack:T0PANTHEON:C1:100.000001',
    role: 'agent',
    text: 'hi',
    ...m,
  });

  before(async () => {
    slack = await startFakeSlack();
    athena = slack.addApp('athena');
    apollo = slack.addApp('apollo');
    slack.addUser({ id: 'U0JEFF', name: 'jeff' });
    apis = new Map([
      ['athena', new SlackApi({ persona: 'athena', botToken: athena.botToken, apiUrl: slack.apiUrl, logger })],
      ['apollo', new SlackApi({ persona: 'apollo', botToken: apollo.botToken, apiUrl: slack.apiUrl, logger })],
    ]);
    adapter = new SlackAdapter({ apis, voice: 'athena', displayName: (id) => id[0]!.toUpperCase() + id.slice(1), logger });
  });
  after(async () => {
    await slack.close();
  });

  it("posts as the persona's own app, in the thread; the system speaks with the voice's app", async () => {
    const { id } = await adapter.post(msg({ persona: 'apollo', text: 'On it: **rate limiting**' }));
    const [post] = slack.postsBy(apollo.botToken);
    assert.equal(post!.ts, id);
    assert.deepEqual([post!.channel, post!.threadTs, post!.text], ['C1', '100.000001', 'On it: *rate limiting*']);
    await adapter.post(msg({ role: 'system', text: 'Approved by jeff.' }));
    assert.equal(slack.postsBy(athena.botToken).at(-1)!.text, 'Approved by jeff.');
    // A persona without a Slack app speaks through the voice's app, named.
    await adapter.post(msg({ persona: 'hermes', text: 'hello' }));
    assert.equal(slack.postsBy(athena.botToken).at(-1)!.text, '*Hermes:* hello');
  });

  it('is idempotent per key and splits long answers into several posts', async () => {
    const key = 'same-key';
    const long = Array.from({ length: 600 }, (_, i) => `line ${i}`).join('\n');
    const before = slack.postsBy(apollo.botToken).length;
    const first = await adapter.post(msg({ idempotencyKey: key, persona: 'apollo', text: long }));
    const posted = slack.postsBy(apollo.botToken).length - before;
    assert.ok(posted >= 2, `split into ${posted}`);
    const again = await adapter.post(msg({ idempotencyKey: key, persona: 'apollo', text: long }));
    assert.equal(again.id, first.id);
    assert.equal(slack.postsBy(apollo.botToken).length - before, posted, 'nothing posted twice');
  });

  it('waits out a 429 with Retry-After and then delivers, once', async () => {
    slack.rateLimit('chat.postMessage', { retryAfterSec: 1, times: 1 });
    const started = Date.now();
    await adapter.post(msg({ persona: 'apollo', text: 'after the rate limit' }));
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.equal(slack.postsBy(apollo.botToken).filter((m) => m.text === 'after the rate limit').length, 1);
    assert.deepEqual(
      slack.calls
        .filter((c) => c.method === 'chat.postMessage')
        .slice(-2)
        .map((c) => c.status),
      [429, 200],
    );
  });

  it('edits in place with chat.update; draws approval cards as buttons', async () => {
    const { id } = await adapter.post(msg({ idempotencyKey: 'job-1', persona: 'apollo', text: 'deploy: 10%' }));
    await adapter.edit('slack:T0PANTHEON:C1:100.000001', id, msg({ persona: 'apollo', text: 'deploy: 100%' }));
    const edited = slack.messages.find((m) => m.ts === id)!;
    assert.deepEqual([edited.text, edited.history], ['deploy: 100%', ['deploy: 10%']]);

    await adapter.post(
      msg({
        role: 'system',
        text: 'Approval needed [k7m2p]',
        card: {
          approvalId: 'k7m2p',
          title: 'Approval needed [k7m2p]',
          fields: [{ label: 'Tool', value: 'ssh_run' }],
          actions: [
            { id: 'approve', label: 'Approve' },
            { id: 'deny', label: 'Deny' },
          ],
          fallbackText: 'Approval needed [k7m2p]: type approve k7m2p',
        },
      }),
    );
    const cardPost = slack.postsBy(athena.botToken).at(-1)!;
    assert.equal(cardPost.text, 'Approval needed [k7m2p]: type approve k7m2p');
    const buttons = cardPost.blocks!.find((b) => b.type === 'actions')!.elements;
    assert.deepEqual(
      buttons.map((b: { action_id: string; value: string }) => [b.action_id, b.value]),
      [
        ['pantheon_approve', 'k7m2p'],
        ['pantheon_deny', 'k7m2p'],
      ],
    );
  });

  it("a persona posting into another app's DM goes through the app that owns it", async () => {
    const dm = slack.dmChannel(athena, 'U0JEFF');
    await adapter.post(msg({ threadId: `slack:T0PANTHEON:${dm}`, persona: 'apollo', text: 'handed over' }));
    const post = slack.postsBy(athena.botToken).at(-1)!;
    assert.deepEqual([post.channel, post.threadTs, post.text], [dm, undefined, '*Apollo:* handed over']);
  });

  describe('inbound', () => {
    let inbound: SlackInbound;
    before(async () => {
      inbound = new SlackInbound({
        mode: 'socket',
        apps: [
          { persona: 'athena', botToken: athena.botToken, appToken: athena.appToken },
          { persona: 'apollo', botToken: apollo.botToken, appToken: apollo.appToken },
        ],
        apis,
        apiUrl: slack.apiUrl,
        ingress,
        adapter,
        logger,
      });
      await inbound.start();
      await slack.waitForConnections(2);
    });
    after(async () => {
      await inbound.stop();
    });

    it('Socket Mode: one envelope per message however many apps see it; redeliveries and bot posts are not taken', async () => {
      inbox.length = 0;
      const { ts, deliveries } = await slack.say({ user: 'U0JEFF', channel: 'C2', text: `<@${athena.botUserId}> plan the release` });
      assert.equal(deliveries.length, 3, 'message to both apps, app_mention to athena');
      assert.ok(
        deliveries.every((d) => d.acked),
        'every envelope acked',
      );
      const e = await until(() => inbox.find((x) => x.id === `slack:C2:${ts}`), 'the envelope');
      assert.equal(e.text, '@athena plan the release');
      assert.deepEqual(e.author, { id: 'U0JEFF', name: 'jeff' });
      assert.equal(e.threadId, `slack:T0PANTHEON:C2:${ts}`);
      await slack.sendEvent(athena, { type: 'app_mention', user: 'U0JEFF', text: `<@${athena.botUserId}> plan the release`, ts, channel: 'C2' }, { retryNum: 1 });
      await adapter.post(msg({ threadId: e.threadId, persona: 'athena', text: 'planning' }));
      await sleep(200);
      assert.deepEqual(
        inbox.map((x) => x.id),
        [e.id],
        "the redelivery and athena's own post (echoed to apollo) are not new messages",
      );
    });

    it('a DM goes to the persona whose app got it; a button click is `approve <id>` by the clicker', async () => {
      inbox.length = 0;
      const dm = slack.dmChannel(apollo, 'U0JEFF');
      await slack.say({ user: 'U0JEFF', channel: dm, text: 'how is the PR?' });
      const e = await until(() => inbox[0], 'the DM');
      assert.deepEqual([e.directTo, e.threadId], ['apollo', `slack:T0PANTHEON:${dm}`]);
      await slack.click(athena, { user: 'U0JEFF', channel: 'C2', messageTs: '200.000002', threadTs: '200.000001', actionId: 'pantheon_approve', value: 'k7m2p' });
      const click = await until(() => inbox[1], 'the click');
      assert.deepEqual([click.text, click.author.id, click.threadId], ['approve k7m2p', 'U0JEFF', 'slack:T0PANTHEON:C2:200.000001']);
    });
  });

  describe('HTTP mode routes', () => {
    let http: FastifyInstance;
    let url: string;
    let inbound: SlackInbound;
    before(async () => {
      inbound = new SlackInbound({
        mode: 'http',
        apps: [
          { persona: 'athena', botToken: athena.botToken },
          { persona: 'apollo', botToken: apollo.botToken },
        ],
        apis,
        apiUrl: slack.apiUrl,
        ingress,
        adapter,
        logger,
      });
      await inbound.start();
      http = Fastify();
      http.post('/api/json', async (req) => req.body); // the app's own JSON parsing is untouched
      registerSlackRoutes(http, { signingSecrets: ['another-app-secret', SECRET], inbound, logger });
      url = await http.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await inbound.stop();
      await http.close();
    });

    it('verifies signatures over the raw body, answers url_verification, takes events once', async () => {
      inbox.length = 0;
      const events = `${url}/webhooks/slack/events`;
      const challenge = await postSignedEvent(events, { type: 'url_verification', challenge: 'c-123', token: 't' }, { signingSecret: SECRET });
      assert.deepEqual([challenge.status, await challenge.json()], [200, { challenge: 'c-123' }]);
      const body = slack.eventBody(apollo, { type: 'app_mention', user: 'U0JEFF', text: `<@${apollo.botUserId}> hi`, ts: '300.000001', channel: 'C3' });
      assert.equal((await postSignedEvent(events, body, { signingSecret: 'wrong' })).status, 401);
      assert.equal((await postSignedEvent(events, body, { signingSecret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 })).status, 401);
      assert.equal(inbox.length, 0, 'nothing taken from refused requests');
      assert.equal((await postSignedEvent(events, body, { signingSecret: SECRET })).status, 200);
      assert.equal((await postSignedEvent(events, body, { signingSecret: SECRET, retryNum: 1 })).status, 200);
      assert.deepEqual(
        inbox.map((e) => [e.id, e.text]),
        [['slack:C3:300.000001', '@apollo hi']],
      );
      const json = await fetch(`${url}/api/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      assert.deepEqual(await json.json(), { a: 1 });
    });
  });
});
