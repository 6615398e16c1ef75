/**
 * Pull requests on the fake GitHub with real git: clone and push over smart HTTP with a token,
 * open a PR from the pushed branch, read its real diff, review inline, push again, merge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Octokit } from 'octokit';
import { cloneAs, startFakeGitHub, type FakeGitHub, type GitClient } from '../fakes/github/index.js';

function client(fake: FakeGitHub, token: string): Octokit {
  return new Octokit({ auth: token, baseUrl: fake.url, throttle: { enabled: false }, retry: { enabled: false } });
}

async function rejection(p: Promise<unknown>): Promise<{ status: number; message: string; response: { data: any } }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  assert.fail('expected the request to fail');
}

const APP = Array.from({ length: 12 }, (_, i) => `export const line${i + 1} = ${i + 1};`).join('\n') + '\n';

describe('fake GitHub: pull requests backed by real git', () => {
  let fake: FakeGitHub;
  let apollo: Octokit;
  let artemis: Octokit;
  let owner: Octokit;
  let work: GitClient;
  const repo = { owner: 'acme', repo: 'api' };

  before(async () => {
    fake = await startFakeGitHub();
    fake.addUser('acme', { token: 'acme-token', type: 'Organization' });
    fake.addUser('apollo-bot', { token: 'apollo-token' });
    fake.addUser('artemis-bot', { token: 'artemis-token' });
    fake.addUser('mallory', { token: 'mallory-token' });
    await fake.createRepo('acme', 'api', { 'README.md': '# api\n', 'src/app.ts': APP });
    fake.setPermission('acme', 'api', 'apollo-bot', 'write');
    fake.setPermission('acme', 'api', 'artemis-bot', 'write');
    apollo = client(fake, 'apollo-token');
    artemis = client(fake, 'artemis-token');
    owner = client(fake, 'acme-token');
  });
  after(async () => {
    await work?.cleanup();
    await fake.close();
  });

  it('clones anonymously-readable repos and pushes only with a token that has write access', async () => {
    await apollo.rest.issues.create({ ...repo, title: 'Rate limiting', assignees: ['apollo-bot'] });
    work = await cloneAs(`${fake.gitUrl}/acme/api.git`, 'apollo-bot', 'apollo-token');
    assert.equal((await work.run('log', '--format=%an %s')).trim(), 'acme Initial commit');
    await work.run('checkout', '-b', 'feature/rate-limit');
    await work.write('src/app.ts', APP.replace('line5 = 5', 'line5 = 50'));
    await work.write('src/limit.ts', 'export function limit() {\n  return 100;\n}\n');
    await work.run('add', '-A');
    await work.run('commit', '-m', 'Add rate limiting');
    await work.run('push', '-u', 'origin', 'feature/rate-limit');
    assert.equal((await fake.git('acme', 'api', 'log', '--format=%an %s', 'feature/rate-limit', '-1')).trim(), 'apollo-bot Add rate limiting');

    const pushes = fake.requests.filter((r) => r.path === '/git/acme/api.git/git-receive-pack');
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0].login, 'apollo-bot');
    assert.equal(pushes[0].status, 200);
    // The clone itself was anonymous; the push was challenged, then authenticated.
    const refsForPush = fake.requests.filter((r) => r.path === '/git/acme/api.git/info/refs' && r.query === 'service=git-receive-pack');
    assert.deepEqual(
      refsForPush.map((r) => r.status),
      [401, 200],
    );

    const intruder = await cloneAs(`${fake.gitUrl}/acme/api.git`, 'mallory', 'mallory-token');
    try {
      await intruder.run('commit', '--allow-empty', '-m', 'sneaky');
      await assert.rejects(intruder.run('push', 'origin', 'HEAD:main'), /denied to mallory|403/);
    } finally {
      await intruder.cleanup();
    }
    const badToken = await cloneAs(`${fake.gitUrl}/acme/api.git`, 'apollo-bot', 'wrong-token');
    try {
      await assert.rejects(badToken.run('push', 'origin', 'HEAD:refs/heads/x'), /Authentication failed|401|Invalid username/);
    } finally {
      await badToken.cleanup();
    }
  });

  it('opens a PR only from a branch that exists, with 422 bodies otherwise', async () => {
    const missing = await rejection(apollo.rest.pulls.create({ ...repo, title: 'x', head: 'nope', base: 'main' }));
    assert.equal(missing.status, 422);
    assert.equal(missing.response.data.message, 'Validation Failed');
    assert.deepEqual(missing.response.data.errors, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);

    const pr = await apollo.rest.pulls.create({ ...repo, title: 'Add rate limiting', head: 'feature/rate-limit', base: 'main', body: 'Closes #1' });
    assert.equal(pr.status, 201);
    assert.equal(pr.data.number, 2);
    assert.equal(pr.data.head.ref, 'feature/rate-limit');
    assert.equal(pr.data.head.sha, (await work.run('rev-parse', 'HEAD')).trim());
    assert.equal(pr.data.head.repo?.clone_url, `${fake.gitUrl}/acme/api.git`);
    assert.equal(pr.data.base.ref, 'main');
    assert.equal(pr.data.user.login, 'apollo-bot');
    assert.equal(pr.data.html_url, `${fake.url}/acme/api/pull/2`);
    assert.equal(pr.data.changed_files, 2);
    assert.equal(pr.data.additions, 4);
    assert.equal(pr.data.deletions, 1);

    const again = await rejection(apollo.rest.pulls.create({ ...repo, title: 'dup', head: 'feature/rate-limit', base: 'main' }));
    assert.equal(again.status, 422);
    assert.match(again.response.data.errors[0].message, /already exists/);

    const listed = await artemis.rest.pulls.list({ ...repo, state: 'open' });
    assert.deepEqual(
      listed.data.map((p) => p.number),
      [2],
    );
    const asIssues = await artemis.rest.issues.listForRepo({ ...repo, state: 'all' });
    assert.ok(asIssues.data.find((i) => i.number === 2)?.pull_request);
  });

  it('serves the real unified diff and paginated files with patches', async () => {
    const diff = await artemis.rest.pulls.get({ ...repo, pull_number: 2, mediaType: { format: 'diff' } });
    const text = diff.data as unknown as string;
    assert.match(text, /^diff --git a\/src\/app\.ts b\/src\/app\.ts/m);
    assert.match(text, /^-export const line5 = 5;$/m);
    assert.match(text, /^\+export const line5 = 50;$/m);
    assert.match(text, /^\+\+\+ b\/src\/limit\.ts$/m);

    // GitHub's documented media type, as a plain HTTP client would send it.
    const raw = await fetch(`${fake.url}/repos/acme/api/pulls/2`, { headers: { accept: 'application/vnd.github.diff', authorization: 'Bearer artemis-token' } });
    assert.equal(raw.status, 200);
    assert.equal(await raw.text(), text);

    const page1 = await artemis.rest.pulls.listFiles({ ...repo, pull_number: 2, per_page: 1 });
    assert.equal(page1.data.length, 1);
    assert.match(page1.headers.link ?? '', /rel="next"/);
    const files = await artemis.paginate(artemis.rest.pulls.listFiles, { ...repo, pull_number: 2, per_page: 1 });
    assert.deepEqual(
      files.map((f) => [f.filename, f.status, f.additions, f.deletions]),
      [
        ['src/app.ts', 'modified', 1, 1],
        ['src/limit.ts', 'added', 3, 0],
      ],
    );
    assert.match(files[1].patch ?? '', /^@@ -0,0 \+1,3 @@\n\+export function limit\(\) \{/);
  });

  it('requests reviewers and takes a review with inline comments in one call', async () => {
    const self = await rejection(apollo.rest.pulls.requestReviewers({ ...repo, pull_number: 2, reviewers: ['apollo-bot'] }));
    assert.equal(self.status, 422);
    const outsider = await rejection(apollo.rest.pulls.requestReviewers({ ...repo, pull_number: 2, reviewers: ['mallory'] }));
    assert.match(outsider.response.data.message, /may only be requested from collaborators/);
    const requested = await apollo.rest.pulls.requestReviewers({ ...repo, pull_number: 2, reviewers: ['artemis-bot'] });
    assert.deepEqual(
      requested.data.requested_reviewers?.map((u) => u.login),
      ['artemis-bot'],
    );
    const notes = await artemis.rest.activity.listNotificationsForAuthenticatedUser();
    assert.deepEqual(
      notes.data.map((n) => [n.reason, n.subject.type, n.subject.url]),
      [['review_requested', 'PullRequest', `${fake.url}/repos/acme/api/pulls/2`]],
    );

    const offDiff = await rejection(
      artemis.rest.pulls.createReview({ ...repo, pull_number: 2, event: 'COMMENT', body: 'x', comments: [{ path: 'src/app.ts', line: 12, side: 'RIGHT', body: 'far away' }] }),
    );
    assert.equal(offDiff.status, 422);
    assert.deepEqual(offDiff.response.data.errors, ['Line could not be resolved']);

    const review = await artemis.rest.pulls.createReview({
      ...repo,
      pull_number: 2,
      event: 'REQUEST_CHANGES',
      body: 'Make the limit configurable.',
      comments: [
        { path: 'src/limit.ts', line: 2, side: 'RIGHT', body: 'Hard-coded 100?' },
        { path: 'src/app.ts', line: 5, side: 'LEFT', body: 'Why change this?' },
      ],
    });
    assert.equal(review.data.state, 'CHANGES_REQUESTED');
    assert.equal(review.data.user?.login, 'artemis-bot');
    const comments = await apollo.rest.pulls.listReviewComments({ ...repo, pull_number: 2 });
    assert.deepEqual(
      comments.data.map((c) => [c.path, c.line, c.side, c.pull_request_review_id]),
      [
        ['src/limit.ts', 2, 'RIGHT', review.data.id],
        ['src/app.ts', 5, 'LEFT', review.data.id],
      ],
    );
    assert.match(comments.data[0].diff_hunk, /^@@ -0,0 \+1,3 @@[\s\S]*return 100;$/);

    const reply = await apollo.rest.pulls.createReplyForReviewComment({ ...repo, pull_number: 2, comment_id: comments.data[0].id, body: 'Now read from config.' });
    assert.equal(reply.status, 201);
    assert.equal(reply.data.in_reply_to_id, comments.data[0].id);
    assert.equal(fake.reviewComments('acme', 'api', 2).length, 3);
    const pr = await apollo.rest.pulls.get({ ...repo, pull_number: 2 });
    assert.deepEqual(
      pr.data.requested_reviewers?.map((u) => u.login),
      [],
    );
    const own = await rejection(apollo.rest.pulls.createReview({ ...repo, pull_number: 2, event: 'APPROVE' }));
    assert.equal(own.status, 422);
    assert.deepEqual(own.response.data.errors, ['Can not approve your own pull request']);
  });

  it('lists and resolves review threads via GraphQL (and the REST resolved flag)', async () => {
    const query = `query($owner: String!, $name: String!, $number: Int!) {
      repository(owner: $owner, name: $name) { pullRequest(number: $number) {
        reviewThreads(first: 50) { nodes { id isResolved comments(first: 20) { nodes { databaseId body author { login } } } } } } } }`;
    const threads = await apollo.graphql<any>(query, { owner: 'acme', name: 'api', number: 2 });
    const nodes = threads.repository.pullRequest.reviewThreads.nodes;
    assert.equal(nodes.length, 2);
    assert.deepEqual(
      nodes[0].comments.nodes.map((c: any) => c.author.login),
      ['artemis-bot', 'apollo-bot'],
    );
    assert.equal(nodes[0].isResolved, false);
    await artemis.graphql(`mutation($id: ID!) { resolveReviewThread(input: { threadId: $id }) { thread { isResolved } } }`, { id: nodes[0].id });
    const rest = await apollo.rest.pulls.listReviewComments({ ...repo, pull_number: 2 });
    assert.deepEqual(
      rest.data.map((c) => (c as any).resolved),
      [true, false, true],
    );
  });

  it('moves the PR head on push and merges server-side, closing the linked issue', async () => {
    await work.write('src/limit.ts', 'export function limit(max = Number(process.env.LIMIT ?? 100)) {\n  return max;\n}\n');
    await work.run('commit', '-am', 'Configurable limit');
    await work.run('push');
    const head = (await work.run('rev-parse', 'HEAD')).trim();
    const pr = await artemis.rest.pulls.get({ ...repo, pull_number: 2 });
    assert.equal(pr.data.head.sha, head);
    assert.equal(pr.data.commits, 2);
    assert.equal(fake.pulls('acme', 'api')[0].headSha, head);

    await artemis.rest.pulls.createReview({ ...repo, pull_number: 2, event: 'APPROVE' });
    const reviews = await apollo.rest.pulls.listReviews({ ...repo, pull_number: 2 });
    assert.deepEqual(
      reviews.data.map((r) => r.state),
      ['CHANGES_REQUESTED', 'COMMENTED', 'APPROVED'],
    );

    const forbidden = await rejection(client(fake, 'mallory-token').rest.pulls.merge({ ...repo, pull_number: 2 }));
    assert.equal(forbidden.status, 403);
    const stale = await rejection(owner.rest.pulls.merge({ ...repo, pull_number: 2, sha: 'deadbeef' }));
    assert.equal(stale.status, 409);
    const merged = await owner.rest.pulls.merge({ ...repo, pull_number: 2, merge_method: 'merge' });
    assert.equal(merged.data.merged, true);
    const log = await fake.git('acme', 'api', 'log', '--format=%an|%s|%P', '-1', 'main');
    const [author, subject, parents] = log.trim().split('|');
    assert.equal(author, 'acme');
    assert.equal(subject, 'Merge pull request #2 from acme/feature/rate-limit');
    assert.equal(parents.split(' ')[1], head);
    assert.equal(merged.data.sha, (await fake.git('acme', 'api', 'rev-parse', 'main')).trim());

    const after = await apollo.rest.pulls.get({ ...repo, pull_number: 2 });
    assert.equal(after.data.merged, true);
    assert.equal(after.data.state, 'closed');
    assert.equal(after.data.merged_by?.login, 'acme');
    assert.match((await apollo.rest.pulls.get({ ...repo, pull_number: 2, mediaType: { format: 'diff' } })).data as unknown as string, /limit\.ts/);
    assert.equal((await apollo.rest.issues.get({ ...repo, issue_number: 1 })).data.state, 'closed');
    const notMergeable = await rejection(owner.rest.pulls.merge({ ...repo, pull_number: 2 }));
    assert.equal(notMergeable.status, 405);
  });

  it('lists renamed, removed and binary files like GitHub', async () => {
    await work.run('fetch', 'origin');
    await work.run('checkout', '-b', 'chore/layout', 'origin/main');
    await work.write('docs/README.md', '# api\n');
    await work.run('rm', '-q', 'README.md');
    await work.run('rm', '-q', 'src/limit.ts');
    await work.write('logo.png', '\u0000\u0001PNG\u0000binary');
    await work.run('add', '-A');
    await work.run('commit', '-m', 'Layout');
    await work.run('push', '-u', 'origin', 'chore/layout');
    const pr = await apollo.rest.pulls.create({ ...repo, title: 'Layout', head: 'acme:chore/layout', base: 'main' });
    const files = await apollo.paginate(apollo.rest.pulls.listFiles, { ...repo, pull_number: pr.data.number });
    const byName = Object.fromEntries(files.map((f) => [f.filename, f]));
    assert.equal(byName['docs/README.md'].status, 'renamed');
    assert.equal(byName['docs/README.md'].previous_filename, 'README.md');
    assert.equal(byName['src/limit.ts'].status, 'removed');
    assert.equal(byName['src/limit.ts'].deletions, 3);
    assert.match(byName['src/limit.ts'].patch ?? '', /^@@ -1,3 \+0,0 @@/);
    assert.equal(byName['logo.png'].status, 'added');
    assert.equal(byName['logo.png'].patch, undefined);
    assert.equal(files.length, 3);
  });
});
