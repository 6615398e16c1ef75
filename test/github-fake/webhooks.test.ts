/**
 * Webhooks from the fake GitHub: signed (verified with @octokit/webhooks), sent after the REST
 * answer in the order things happened, shaped like @octokit/webhooks-examples.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhooks } from '@octokit/webhooks';
import examples from '@octokit/webhooks-examples';
import { Octokit } from 'octokit';
import { cloneAs, startFakeGitHub, type FakeGitHub, type GitClient, type WebhookDelivery } from '../fakes/github/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'webhook-secret';

function client(fake: FakeGitHub, token: string): Octokit {
  return new Octokit({ auth: token, baseUrl: fake.url, throttle: { enabled: false }, retry: { enabled: false } });
}

/**
 * Keys GitHub adds only for apps, orgs or enterprises, or that the fake does not model; `draft`
 * on plain issues and `changes` outside `edited` appear in single examples only.
 */
const OPTIONAL = new Set([
  'draft',
  'changes',
  'installation',
  'organization',
  'enterprise',
  'performed_via_github_app',
  'milestone',
  'active_lock_reason',
  'auto_merge',
  'reactions',
  'timeline_url',
  'type',
  'sub_issues_summary',
  'issue_dependencies_summary',
  'pinned_comment',
  'user_view_type',
]);

/** Keys of the example payload (top level and one level into objects) missing from ours. */
function missingKeys(event: string, payload: Record<string, any>): string[] {
  const definition = (examples as unknown as any[]).find((d) => d.name === event);
  const example = definition?.examples.find((e: any) => e.action === payload.action) ?? definition?.examples[0];
  assert.ok(example, `no example for ${event}`);
  const missing: string[] = [];
  for (const [key, value] of Object.entries(example)) {
    if (OPTIONAL.has(key)) continue;
    if (!(key in payload)) {
      missing.push(key);
      continue;
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && payload[key] && typeof payload[key] === 'object') {
      for (const inner of Object.keys(value)) if (!OPTIONAL.has(inner) && !(inner in payload[key])) missing.push(`${key}.${inner}`);
    }
  }
  return missing;
}

describe('fake GitHub: webhooks', () => {
  let fake: FakeGitHub;
  let receiver: WebhookReceiver;
  let work: GitClient;
  const verifier = new Webhooks({ secret: SECRET });
  const repo = { owner: 'acme', repo: 'api' };

  before(async () => {
    receiver = await startWebhookReceiver();
    fake = await startFakeGitHub({ webhookUrl: receiver.url, webhookSecret: SECRET });
    fake.addUser('acme', { token: 'acme-token' });
    fake.addUser('athena-bot', { token: 'athena-token' });
    fake.addUser('apollo-bot', { token: 'apollo-token' });
    fake.addUser('artemis-bot', { token: 'artemis-token' });
    await fake.createRepo('acme', 'api', { 'src/app.ts': 'export const a = 1;\n' });
    for (const login of ['athena-bot', 'apollo-bot', 'artemis-bot']) fake.setPermission('acme', 'api', login, 'write');
  });
  after(async () => {
    await work?.cleanup();
    await fake.close();
    await receiver.close();
  });

  it('signs every delivery so @octokit/webhooks verifies it, with unique delivery ids', async () => {
    await client(fake, 'athena-token').rest.issues.create({ ...repo, title: 'Rate limiting', body: 'cc @artemis-bot', assignees: ['apollo-bot'] });
    // Nothing is delivered before the REST answer; then in order.
    await fake.settled();
    const events = fake.deliveries.map((d) => `${d.event}.${d.action}`);
    assert.deepEqual(events, ['issues.opened', 'issues.assigned']);
    assert.equal(receiver.received.length, 2);
    for (const hook of receiver.received) {
      assert.equal(await verifier.verify(hook.body, String(hook.headers['x-hub-signature-256'])), true);
      assert.ok(hook.headers['x-github-delivery']);
    }
    assert.notEqual(receiver.received[0].headers['x-github-delivery'], receiver.received[1].headers['x-github-delivery']);
    assert.equal(receiver.received[1].headers['x-github-event'], 'issues');
    const assigned = JSON.parse(receiver.received[1].body);
    assert.equal(assigned.assignee.login, 'apollo-bot');
    assert.equal(assigned.sender.login, 'athena-bot');
    assert.equal(assigned.repository.full_name, 'acme/api');
    assert.equal(fake.deliveries[1].status, 200);
    assert.deepEqual(missingKeys('issues', assigned), []);
  });

  it('lets tests send hand-made, badly signed and redelivered webhooks', async () => {
    const payload = { action: 'opened', issue: { number: 99 } };
    const good = await fake.sendWebhook('issues', payload, { deliveryId: 'fixed-id' });
    assert.equal(good.status, 200);
    await fake.sendWebhook('issues', payload, { deliveryId: 'fixed-id' });
    await fake.sendWebhook('issues', payload, { secret: 'wrong' });
    await fake.sendWebhook('issues', payload, { signature: null });
    const last4 = receiver.received.slice(-4);
    assert.deepEqual(last4.map((h) => h.headers['x-github-delivery']).slice(0, 2), ['fixed-id', 'fixed-id']);
    assert.equal(await verifier.verify(last4[1].body, String(last4[1].headers['x-hub-signature-256'])), true);
    assert.equal(await verifier.verify(last4[2].body, String(last4[2].headers['x-hub-signature-256'])), false);
    assert.equal(last4[3].headers['x-hub-signature-256'], undefined);
  });

  it('sends the pull request lifecycle: opened, review_requested, reviews, comments, synchronize, merged', async () => {
    const apollo = client(fake, 'apollo-token');
    const artemis = client(fake, 'artemis-token');
    work = await cloneAs(`${fake.gitUrl}/acme/api.git`, 'apollo-bot', 'apollo-token');
    await work.run('checkout', '-b', 'feature');
    await work.write('src/app.ts', 'export const a = 2;\n');
    await work.run('commit', '-am', 'Bump a');
    await work.run('push', '-u', 'origin', 'feature');
    const start = fake.deliveries.length;

    await apollo.rest.pulls.create({ ...repo, title: 'Bump a', head: 'feature', base: 'main', body: 'Closes #1' });
    await apollo.rest.pulls.requestReviewers({ ...repo, pull_number: 2, reviewers: ['artemis-bot'] });
    await artemis.rest.pulls.createReview({
      ...repo,
      pull_number: 2,
      event: 'REQUEST_CHANGES',
      body: 'Please explain',
      comments: [{ path: 'src/app.ts', line: 1, side: 'RIGHT', body: 'Why 2?' }],
    });
    await apollo.rest.issues.createComment({ ...repo, issue_number: 2, body: 'Fixed, @artemis-bot' });
    await work.write('src/app.ts', 'export const a = 3;\n');
    await work.run('commit', '-am', 'Use 3');
    await work.run('push');
    const synchronize = await fake.waitForDelivery('pull_request', 'synchronize');
    await client(fake, 'acme-token').rest.pulls.merge({ ...repo, pull_number: 2 });
    await fake.settled();

    const seen = fake.deliveries.slice(start).map((d) => `${d.event}.${d.action}`);
    assert.deepEqual(seen, [
      'pull_request.opened',
      'pull_request.review_requested',
      'pull_request_review_comment.created',
      'pull_request_review.submitted',
      'issue_comment.created',
      'pull_request.synchronize',
      'pull_request.closed',
      'issues.closed',
    ]);
    const byName = (name: string): WebhookDelivery => fake.deliveries.slice(start).find((d) => `${d.event}.${d.action}` === name)!;
    assert.equal(byName('pull_request.review_requested').payload.requested_reviewer.login, 'artemis-bot');
    assert.equal(byName('pull_request_review.submitted').payload.review.state, 'changes_requested'.toUpperCase());
    assert.equal(byName('pull_request_review_comment.created').payload.comment.path, 'src/app.ts');
    assert.ok(byName('issue_comment.created').payload.issue.pull_request, 'a PR conversation comment carries issue.pull_request');
    const head = (await work.run('rev-parse', 'HEAD')).trim();
    assert.equal(synchronize.payload.after, head);
    assert.equal(synchronize.payload.pull_request.head.sha, head);
    assert.equal(synchronize.payload.sender.login, 'apollo-bot');
    const closed = byName('pull_request.closed').payload;
    assert.equal(closed.pull_request.merged, true);
    assert.equal(closed.sender.login, 'acme');

    for (const d of fake.deliveries.slice(start)) {
      assert.deepEqual(missingKeys(d.event, d.payload), [], `${d.event}.${d.action} lacks keys of the example payload`);
      assert.equal(d.status, 200);
    }
  });

  it('reports CI failures as check_run, check_suite and workflow_run with a downloadable job log', async () => {
    const apollo = client(fake, 'apollo-token');
    await work.run('checkout', '-b', 'broken');
    await work.write('src/app.ts', 'export const a = ;\n');
    await work.run('commit', '-am', 'Break it');
    await work.run('push', '-u', 'origin', 'broken');
    await apollo.rest.pulls.create({ ...repo, title: 'Broken', head: 'broken', base: 'main' });
    await fake.settled();
    const start = fake.deliveries.length;
    const failure = await fake.setCheckFailure('acme', 'api', 3, { name: 'test', log: 'src/app.ts(1,18): error TS1109: Expression expected.\n' });
    await fake.settled();
    assert.deepEqual(
      fake.deliveries.slice(start).map((d) => `${d.event}.${d.action}`),
      ['check_run.completed', 'check_suite.completed', 'workflow_run.completed'],
    );
    const run = fake.deliveries[start].payload.check_run;
    assert.equal(run.conclusion, 'failure');
    assert.equal(run.head_sha, (await work.run('rev-parse', 'HEAD')).trim());
    assert.deepEqual(
      run.pull_requests.map((p: any) => p.number),
      [3],
    );
    for (const d of fake.deliveries.slice(start)) assert.deepEqual(missingKeys(d.event, d.payload), [], `${d.event} lacks keys`);

    const runs = await apollo.rest.checks.listForRef({ ...repo, ref: 'broken' });
    assert.equal(runs.data.total_count, 1);
    assert.equal(runs.data.check_runs[0].id, failure.jobId);
    const log = await apollo.rest.actions.downloadJobLogsForWorkflowRun({ ...repo, job_id: failure.jobId });
    assert.match(String(log.data), /error TS1109/);
    const jobs = await apollo.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: failure.workflowRunId });
    assert.equal(jobs.data.jobs[0].conclusion, 'failure');
    const notes = await apollo.rest.activity.listNotificationsForAuthenticatedUser();
    assert.ok(notes.data.some((n) => n.reason === 'ci_activity' && n.subject.url.endsWith('/pulls/3')));
  });
});
