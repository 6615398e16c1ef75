import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Octokit } from 'octokit';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { modelEnv, startPantheonProcess, tempDir, type RunningPantheon } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Which persona a model request was made for, from its system prompt. */
const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';
const SECRET = 'whsec-e2e-0123456789';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * GitHub inbound end to end: the real `pantheon start` process, the fake GitHub (real REST,
 * real signed webhooks, notifications) and the scripted model server. A persona's reply lands
 * on GitHub as a comment made with that persona's own token.
 */
describe('GitHub inbound: webhooks and polling wake the right persona', () => {
  let llm: FakeLLM;
  let gh: FakeGitHub;
  const as = (login: string) => new Octokit({ auth: `tok-${login}`, baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });

  before(async () => {
    llm = await startFakeLLM();
    gh = await startFakeGitHub();
    for (const login of ['apollo-bot', 'athena-bot', 'artemis-bot', 'hermes-bot', 'perseus-bot', 'hephaestus-bot', 'jeff', 'mallory']) gh.addUser(login, { token: `tok-${login}` });
    await gh.createRepo('acme', 'api', { 'README.md': '# api\n' });
    for (const login of ['apollo-bot', 'athena-bot', 'artemis-bot']) gh.setPermission('acme', 'api', login, 'write');
    gh.setPermission('acme', 'api', 'jeff', 'admin');
  });
  after(async () => {
    await gh?.close();
    await llm?.close();
  });

  /** Writes pantheon.yaml and starts the process with every persona's GitHub token set. */
  async function start(dir: string, github: string): Promise<RunningPantheon> {
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'pantheon.yaml'), `humans:\n  - { id: jeff, github: jeff, approver: true }\ngithub:\n${github}`);
    const tokens = Object.fromEntries(['apollo', 'athena', 'artemis', 'hermes', 'perseus', 'hephaestus'].map((p) => [`${p.toUpperCase()}_GITHUB_TOKEN`, `tok-${p}-bot`]));
    // A generous start-up allowance: creating the embedded database is slow on a busy machine.
    return startPantheonProcess({ env: modelEnv(llm, tokens), dataDir: join(dir, 'data'), cwd: dir, timeoutMs: 120_000 });
  }

  it('webhooks: bad signatures are refused, redeliveries run once, assignment wakes apollo who answers as himself, strangers get a refusal', async () => {
    const dir = await tempDir('pantheon-gh-e2e-');
    llm.clear();
    llm.setResponder((req) => ({ text: `${personaOf(req)} here: on it.` }));
    const app = await start(dir.path, `  apiUrl: ${gh.url}\n  webhookSecret: ${SECRET}\n  throttle: false\n`);
    try {
      gh.setWebhook(`${app.url}/webhooks/github`, SECRET);
      const { data: issue } = await as('athena-bot').rest.issues.create({ owner: 'acme', repo: 'api', title: 'Add rate limiting', body: 'Limit the public API to 100 req/min per key.' });
      const thread = (n: number) => gh.comments('acme', 'api', n);

      // Unsigned and wrongly signed: 401, and nothing runs.
      const forged = {
        action: 'assigned',
        issue: { number: issue.number, title: 'x', body: 'x', html_url: 'x', user: { login: 'jeff' } },
        assignee: { login: 'apollo-bot' },
        repository: { name: 'api', full_name: 'acme/api', owner: { login: 'acme' } },
        sender: { login: 'jeff', type: 'User' },
      };
      assert.equal((await gh.sendWebhook('issues', forged, { signature: null })).status, 401);
      assert.equal((await gh.sendWebhook('issues', forged, { secret: 'not-the-secret' })).status, 401);
      await sleep(1000);
      assert.equal(llm.requests.length, 0, 'no model request for a refused webhook');

      // A real assignment by a human: apollo wakes (his own system prompt) and answers on the issue, as apollo-bot.
      await as('jeff').rest.issues.addAssignees({ owner: 'acme', repo: 'api', issue_number: issue.number, assignees: ['apollo-bot'] });
      const delivery = await until('the assignment webhook', () => gh.deliveries.find((d) => d.event === 'issues' && d.action === 'assigned' && d.payload.issue?.id === issue.id && d.status !== null));
      assert.equal(delivery.status, 202);
      const reply = await until("apollo's comment", () => thread(issue.number).find((c) => c.author === 'apollo-bot'));
      assert.match(reply.body, /^apollo here: on it\./);
      assert.deepEqual(llm.requests.map(personaOf), ['apollo']);
      const ask = llm.requests[0]!.messages.at(-1)!.content;
      assert.match(ask, /jeff assigned apollo/);
      assert.match(ask, /untrusted content from GitHub[\s\S]*100 req\/min/);
      const post = gh.requests.find((r) => r.method === 'POST' && r.path === `/repos/acme/api/issues/${issue.number}/comments`);
      assert.equal(post?.login, 'apollo-bot', "posted with apollo's own token");

      // The same delivery again (GitHub's redelivery): acknowledged, not processed twice.
      const redelivered = await gh.sendWebhook('issues', delivery.payload, { deliveryId: delivery.id });
      assert.equal(redelivered.status, 200);
      // A comment mentioning apollo, delivered twice under one id, runs once.
      const mention = {
        action: 'created',
        issue: delivery.payload.issue,
        comment: { id: 990001, body: '@apollo-bot please include a test', user: { login: 'jeff', type: 'User' }, html_url: 'x' },
        repository: delivery.payload.repository,
        sender: { login: 'jeff', type: 'User' },
      };
      assert.equal((await gh.sendWebhook('issue_comment', mention, { deliveryId: 'dup-1' })).status, 202);
      assert.equal((await gh.sendWebhook('issue_comment', mention, { deliveryId: 'dup-1' })).status, 200);
      await until('the second answer', () => thread(issue.number).filter((c) => c.author === 'apollo-bot').length === 2);
      await sleep(1500);
      assert.equal(llm.requests.length, 2, 'the assignment and the mention, once each');
      assert.equal(thread(issue.number).filter((c) => c.author === 'apollo-bot').length, 2);

      // A stranger (neither in humans: nor a collaborator) mentions apollo: one polite refusal, no run.
      const { data: other } = await as('jeff').rest.issues.create({ owner: 'acme', repo: 'api', title: 'Public question' });
      await as('mallory').rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: other.number, body: '@apollo-bot push my branch to main' });
      const refusal = await until('the refusal', () => thread(other.number).find((c) => c.author === 'apollo-bot'));
      assert.match(refusal.body, /@mallory.*only take requests from this repository's maintainers/);
      await sleep(1000);
      assert.equal(llm.requests.length, 2, 'no model request for a stranger');
    } finally {
      llm.setResponder(undefined);
      gh.setWebhook('', '');
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('polling: an assignment reaches apollo through his notifications, without webhooks', async () => {
    const dir = await tempDir('pantheon-gh-e2e-poll-');
    llm.clear();
    llm.setResponder((req) => ({ text: `${personaOf(req)} polled: on it.` }));
    // What the webhook test left in apollo's inbox is old news: start from a read inbox.
    await as('apollo-bot').request('PUT /notifications', { last_read_at: new Date(Date.now() + 1000).toISOString() });
    const app = await start(dir.path, `  apiUrl: ${gh.url}\n  throttle: false\n  polling: { enabled: true, intervalSeconds: 1 }\n`);
    try {
      const { data: issue } = await as('athena-bot').rest.issues.create({ owner: 'acme', repo: 'api', title: 'Add request logging' });
      await as('jeff').rest.issues.addAssignees({ owner: 'acme', repo: 'api', issue_number: issue.number, assignees: ['apollo-bot'] });
      const reply = await until("apollo's comment", () => gh.comments('acme', 'api', issue.number).find((c) => c.author === 'apollo-bot'));
      assert.match(reply.body, /^apollo polled: on it\./);
      assert.deepEqual(llm.requests.map(personaOf), ['apollo']);
      const poll = gh.requests.find((r) => r.path === '/notifications' && r.login === 'apollo-bot');
      assert.ok(poll, 'apollo read his own notifications');
      const thread = gh.notifications('apollo-bot').find((t) => t.number === issue.number);
      assert.equal(thread?.unread, false, 'marked read');
      await sleep(2500);
      assert.equal(llm.requests.length, 1, 'later polls do not wake apollo again');
    } finally {
      llm.setResponder(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
