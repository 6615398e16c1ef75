/**
 * The fake GitHub's REST surface for issues, through the real octokit over HTTP: shapes,
 * pagination, error bodies, search and per-user notifications.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Octokit } from 'octokit';
import { createGitHubClient } from '../../github/client.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';

function client(fake: FakeGitHub, token: string): Octokit {
  return new Octokit({ auth: token, baseUrl: fake.url, throttle: { enabled: false }, retry: { enabled: false } });
}

async function rejection(p: Promise<unknown>): Promise<{ status: number; response: { data: any; headers: Record<string, string> } }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  assert.fail('expected the request to fail');
}

describe('fake GitHub: issues over REST', () => {
  let fake: FakeGitHub;
  let athena: Octokit;
  let apollo: Octokit;

  before(async () => {
    fake = await startFakeGitHub();
    fake.addUser('athena-bot', { token: 'athena-token' });
    fake.addUser('apollo-bot', { token: 'apollo-token' });
    fake.addUser('mallory', { token: 'mallory-token' });
    await fake.createRepo('acme', 'api', { 'README.md': '# api\n' });
    fake.setPermission('acme', 'api', 'athena-bot', 'write');
    fake.setPermission('acme', 'api', 'apollo-bot', 'write');
    athena = client(fake, 'athena-token');
    apollo = client(fake, 'apollo-token');
  });
  after(() => fake.close());

  it('authenticates tokens as users and reports rate limits on every answer', async () => {
    const me = await athena.rest.users.getAuthenticated();
    assert.equal(me.data.login, 'athena-bot');
    assert.equal(me.data.type, 'User');
    assert.equal(me.headers['x-ratelimit-limit'], '5000');
    assert.equal(me.headers['x-ratelimit-resource'], 'core');
    assert.ok(Number(me.headers['x-ratelimit-remaining']) < 5000);
    assert.ok(Number(me.headers['x-ratelimit-reset']) > Date.now() / 1000);

    const bad = await rejection(client(fake, 'nope').rest.users.getAuthenticated());
    assert.equal(bad.status, 401);
    assert.equal(bad.response.data.message, 'Bad credentials');
    assert.ok(bad.response.headers['x-ratelimit-limit']);

    const viaProduct = createGitHubClient({ auth: { token: 'apollo-token' }, apiUrl: fake.url, throttle: false });
    assert.equal((await viaProduct.rest.users.getAuthenticated()).data.login, 'apollo-bot');
    const seen = fake.requests.filter((r) => r.path === '/user');
    assert.deepEqual(
      seen.map((r) => [r.login, r.status]),
      [
        ['athena-bot', 200],
        [null, 401],
        ['apollo-bot', 200],
      ],
    );
  });

  it('creates, reads, edits and assigns issues in GitHub shapes', async () => {
    const repo = await athena.rest.repos.get({ owner: 'acme', repo: 'api' });
    assert.equal(repo.data.clone_url, `${fake.gitUrl}/acme/api.git`);
    assert.equal(repo.data.default_branch, 'main');
    assert.equal(repo.data.permissions?.push, true);

    const created = await athena.rest.issues.create({
      owner: 'acme',
      repo: 'api',
      title: 'Rate limiting',
      body: 'Acceptance: 429 after 100 req/min',
      labels: ['enhancement'],
      assignees: ['apollo-bot'],
    });
    assert.equal(created.status, 201);
    const issue = created.data;
    assert.equal(issue.number, 1);
    assert.notEqual(issue.id, issue.number);
    assert.equal(issue.user?.login, 'athena-bot');
    assert.equal(issue.html_url, `${fake.url}/acme/api/issues/1`);
    assert.equal(issue.url, `${fake.url}/repos/acme/api/issues/1`);
    assert.match(issue.node_id, /^I_/);
    assert.deepEqual(
      issue.assignees?.map((a) => a.login),
      ['apollo-bot'],
    );
    assert.deepEqual(
      issue.labels.map((l) => (typeof l === 'string' ? l : l.name)),
      ['enhancement'],
    );

    const edited = await athena.rest.issues.update({ owner: 'acme', repo: 'api', issue_number: 1, title: 'Rate limiting on the API', labels: ['enhancement', 'api'] });
    assert.equal(edited.data.title, 'Rate limiting on the API');
    await athena.rest.issues.addAssignees({ owner: 'acme', repo: 'api', issue_number: 1, assignees: ['athena-bot'] });
    await athena.rest.issues.addLabels({ owner: 'acme', repo: 'api', issue_number: 1, labels: ['p1'] });
    const got = await apollo.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: 1 });
    assert.deepEqual(got.data.assignees?.map((a) => a.login).sort(), ['apollo-bot', 'athena-bot']);
    assert.deepEqual(fake.issues('acme', 'api')[0].labels, ['enhancement', 'api', 'p1']);

    await apollo.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: 1, body: 'On it, @athena-bot' });
    const comments = await athena.rest.issues.listComments({ owner: 'acme', repo: 'api', issue_number: 1 });
    assert.equal(comments.data.length, 1);
    assert.equal(comments.data[0].user?.login, 'apollo-bot');
    assert.equal(fake.comments('acme', 'api', 1)[0].body, 'On it, @athena-bot');

    // Unassignable users are a 422 on create, like GitHub.
    const invalid = await rejection(athena.rest.issues.create({ owner: 'acme', repo: 'api', title: 'x', assignees: ['mallory'] }));
    assert.equal(invalid.status, 422);
    assert.equal(invalid.response.data.message, 'Validation Failed');
    assert.deepEqual(invalid.response.data.errors, [{ resource: 'Issue', field: 'assignees', code: 'invalid', value: 'mallory' }]);
  });

  it('paginates with Link headers that octokit follows', async () => {
    for (let i = 0; i < 7; i++) await athena.rest.issues.create({ owner: 'acme', repo: 'api', title: `chore ${i}`, labels: ['chore'] });
    const first = await athena.rest.issues.listForRepo({ owner: 'acme', repo: 'api', labels: 'chore', per_page: 3 });
    assert.equal(first.data.length, 3);
    assert.match(first.headers.link ?? '', /<http:\/\/127\.0\.0\.1:\d+\/repos\/acme\/api\/issues\?[^>]*page=2[^>]*>; rel="next"/);
    assert.match(first.headers.link ?? '', /page=3[^>]*>; rel="last"/);
    const all = await athena.paginate(athena.rest.issues.listForRepo, { owner: 'acme', repo: 'api', labels: 'chore', per_page: 3 });
    assert.equal(all.length, 7);
    assert.deepEqual(
      all.map((i) => i.title),
      [6, 5, 4, 3, 2, 1, 0].map((n) => `chore ${n}`),
    );
    const assigned = await athena.rest.issues.listForRepo({ owner: 'acme', repo: 'api', assignee: 'apollo-bot' });
    assert.deepEqual(
      assigned.data.map((i) => i.number),
      [1],
    );
  });

  it('answers unknown resources with 404 and invalid input with 422 bodies', async () => {
    const missing = await rejection(athena.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: 999 }));
    assert.equal(missing.status, 404);
    assert.equal(missing.response.data.message, 'Not Found');
    assert.match(missing.response.data.documentation_url, /^https:\/\/docs\.github\.com/);
    const noRepo = await rejection(athena.rest.repos.get({ owner: 'acme', repo: 'nope' }));
    assert.equal(noRepo.status, 404);
    const noTitle = await rejection(athena.request('POST /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'api' } as never));
    assert.equal(noTitle.status, 422);
    assert.deepEqual(noTitle.response.data.errors, [{ resource: 'Issue', field: 'title', code: 'missing_field' }]);
    const anonymous = await rejection(new Octokit({ baseUrl: fake.url }).rest.users.getAuthenticated());
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.response.data.message, 'Requires authentication');
  });

  it('searches issues by repo, type, state, assignee and text', async () => {
    const hits = await athena.rest.search.issuesAndPullRequests({ q: 'repo:acme/api is:issue is:open assignee:apollo-bot limiting' });
    assert.equal(hits.data.total_count, 1);
    assert.equal(hits.data.items[0].number, 1);
    const none = await athena.rest.search.issuesAndPullRequests({ q: 'repo:acme/api is:pr' });
    assert.equal(none.data.total_count, 0);
    const chores = await athena.rest.search.issuesAndPullRequests({ q: 'repo:acme/api label:chore "chore 3"' });
    assert.deepEqual(
      chores.data.items.map((i) => i.title),
      ['chore 3'],
    );
    assert.equal(hits.headers['x-ratelimit-resource'], 'search');
  });

  it('keeps notifications per user, with reasons, and marks threads read', async () => {
    const forApollo = await apollo.rest.activity.listNotificationsForAuthenticatedUser();
    assert.equal(forApollo.data.length, 1);
    const thread = forApollo.data[0];
    assert.equal(thread.reason, 'assign');
    assert.equal(thread.subject.type, 'Issue');
    assert.equal(thread.subject.url, `${fake.url}/repos/acme/api/issues/1`);
    assert.equal(thread.repository.full_name, 'acme/api');

    const forAthena = await athena.rest.activity.listNotificationsForAuthenticatedUser();
    assert.equal(forAthena.data[0].reason, 'mention');
    assert.match(forAthena.data[0].subject.latest_comment_url ?? '', /\/issues\/comments\/\d+$/);

    const read = await apollo.rest.activity.markThreadAsRead({ thread_id: Number(thread.id) });
    assert.equal(read.status, 205);
    assert.equal((await apollo.rest.activity.listNotificationsForAuthenticatedUser()).data.length, 0);
    assert.equal((await apollo.rest.activity.listNotificationsForAuthenticatedUser({ all: true })).data.length, 1);

    // A new comment makes the thread unread again.
    await athena.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: 1, body: 'Thanks' });
    const again = await apollo.rest.activity.listNotificationsForAuthenticatedUser();
    assert.equal(again.data.length, 1);
    assert.equal(again.data[0].id, thread.id);
  });

  it('answers collaborator permissions', async () => {
    const apolloPerm = await athena.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'apollo-bot' });
    assert.equal(apolloPerm.data.permission, 'write');
    assert.equal(apolloPerm.data.user?.login, 'apollo-bot');
    const owner = await athena.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'acme' });
    assert.equal(owner.data.permission, 'admin');
    const outsider = await athena.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'mallory' });
    assert.equal(outsider.data.permission, 'read');
    fake.setPermission('acme', 'api', 'apollo-bot', 'none');
    const revoked = await athena.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'api', username: 'apollo-bot' });
    assert.equal(revoked.data.permission, 'read');
    fake.setPermission('acme', 'api', 'apollo-bot', 'write');
  });

  it('hides private repositories from users without access', async () => {
    await fake.createRepo('acme', 'secret', { 'a.txt': 'a\n' }, { private: true, defaultBranch: 'trunk' });
    const hidden = await rejection(apollo.rest.repos.get({ owner: 'acme', repo: 'secret' }));
    assert.equal(hidden.status, 404);
    const clone = await fetch(`${fake.gitUrl}/acme/secret.git/info/refs?service=git-upload-pack`);
    assert.equal(clone.status, 401);
    assert.match(clone.headers.get('www-authenticate') ?? '', /^Basic/);
    fake.setPermission('acme', 'secret', 'apollo-bot', 'read');
    const visible = await apollo.rest.repos.get({ owner: 'acme', repo: 'secret' });
    assert.equal(visible.data.private, true);
    assert.equal(visible.data.default_branch, 'trunk');
    assert.equal(visible.data.permissions?.push, false);
    const file = await apollo.rest.repos.getContent({ owner: 'acme', repo: 'secret', path: 'a.txt' });
    assert.equal(Buffer.from((file.data as { content: string }).content, 'base64').toString(), 'a\n');
  });

  it('injects failures such as secondary rate limits', async () => {
    fake.injectFailure({ method: 'GET', path: '/repos/acme/api', status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit' } });
    const limited = await rejection(athena.rest.repos.get({ owner: 'acme', repo: 'api' }));
    assert.equal(limited.status, 429);
    assert.equal(limited.response.headers['retry-after'], '1');
    assert.equal((await athena.rest.repos.get({ owner: 'acme', repo: 'api' })).status, 200);
  });
});
