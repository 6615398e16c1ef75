/**
 * "Its PR's checks fail → it reads the failing log and fixes", end to end: the real
 * `pantheon start` process, the fake GitHub (real git, signed webhooks) and a scripted model
 * playing apollo. apollo's open pull request gets a failed check with a log; the webhook wakes
 * him; he reads the log with get_failed_checks, fixes the code in his workspace, commits and
 * pushes; the pull request's head moves and he says what he fixed on the pull request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import { branchName } from '../../tools/workspace/naming.js';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest, type ScriptedResponse } from '../fakes/llm/index.js';
import { cloneAs, startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { modelEnv, startPantheonProcess, tempDir } from '../support/pantheon-process.js';
import { CALC_FILES, personaOf } from '../support/github-loop-team.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'whsec-checks-0123456789abcdef';
const APOLLO_TOKEN = 'ghp_apollo_checks_token_0123456789ab';
const JEFF_TOKEN = 'ghp_jeff_checks_token_0123456789abcd';
const ISSUE_TITLE = 'sum() must handle empty arrays';
const FAILING_LINE = 'AssertionError [ERR_ASSERTION]: Reduce of empty array with no initial value: sum([]) should be 0';
const CI_LOG = [
  ...Array.from({ length: 400 }, (_, i) => `2026-01-01T10:00:00.0000000Z npm verbose step ${i}`),
  '2026-01-01T10:00:01.0000000Z > calc@1.0.0 test',
  '2026-01-01T10:00:01.0000000Z > node test.js',
  `2026-01-01T10:00:01.0000000Z ${FAILING_LINE}`,
  '2026-01-01T10:00:01.0000000Z     at Object.<anonymous> (test.js:4:8)',
  '2026-01-01T10:00:01.0000000Z ##[error]Process completed with exit code 1.',
].join('\n');
const FIX = 'module.exports = function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n};\n';

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, diagnose: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}\n${await diagnose()}`);
}

interface Step {
  name: string;
  result: string;
}

/** apollo's tool calls since the last user message, with their results. */
function steps(req: FakeLLMRequest): Step[] {
  const lastUser = req.messages.map((m) => m.role).lastIndexOf('user');
  const results = new Map(req.messages.filter((m) => m.role === 'tool').map((m) => [m.toolCallId, m.content]));
  return req.messages.slice(lastUser + 1).flatMap((m) => (m.toolCalls ?? []).map((c) => ({ name: c.name, result: results.get(c.id) ?? '' })));
}

/**
 * apollo, woken by the failed check: read the failures, and only if the log names the failing
 * assertion, fix sum.js on his work branch, test, commit, push, and say what failed.
 */
function apollo(req: FakeLLMRequest, unexpected: string[]): ScriptedResponse {
  const wake = req.messages.findLast((m) => m.role === 'user')?.content ?? '';
  const pr = /\[GitHub acme\/calc#(\d+), pull request\] The check "[^"]+" failed/.exec(wake);
  if (!pr) {
    unexpected.push(`apollo woken by: ${wake.slice(0, 200)}`);
    return { text: 'Nothing for me here.' };
  }
  const number = Number(pr[1]);
  const done = steps(req);
  const last = done.at(-1);
  // A failing step stops the plan (the CI log itself says "exit code 1": that is what is being fixed).
  const failed = last && (/^(Error|Refused)/.test(last.result) || (last.name !== 'get_failed_checks' && /exit code [1-9]/.test(last.result)));
  if (failed) return { text: `Stopped: ${last.name} said: ${last.result.slice(0, 300)}` };
  const ws = 'acme-calc-1';
  const plan: Array<[string, Record<string, unknown>]> = [
    ['get_failed_checks', { repo: 'acme/calc', number }],
    ['clone', { repo: 'acme/calc', issue: 1 }],
    ['write_file', { workspace: ws, path: 'sum.js', content: FIX }],
    ['run_workspace_command', { workspace: ws, command: 'npm test' }],
    ['commit', { workspace: ws, message: 'Give reduce() an initial value so sum([]) is 0\n\nFixes the failing "test" check.' }],
    ['push', { workspace: ws }],
  ];
  // What the model "read" in the log decides whether it goes on: no failing line, no fix.
  if (done.length === 1 && !done[0]!.result.includes(FAILING_LINE)) return { text: `Stopped: the log did not say what failed: ${done[0]!.result.length} chars, ending ${done[0]!.result.slice(-400)}` };
  const step = plan[done.length];
  if (step) return { toolCalls: [{ name: step[0], args: step[1] }] };
  const quoted = /^(AssertionError[^\n]*)$/m.exec(done[0]!.result)?.[1] ?? '?';
  return { text: `The "test" check failed with \`${quoted}\`. Fixed: sum() now starts from 0; pushed to this pull request.` };
}

describe("GitHub: a failed check on apollo's pull request → he reads the log and pushes a fix", () => {
  let llm: FakeLLM;
  let gh: FakeGitHub;

  before(async () => {
    llm = await startFakeLLM();
    gh = await startFakeGitHub();
    gh.addUser('apollo-bot', { token: APOLLO_TOKEN });
    gh.addUser('jeff', { token: JEFF_TOKEN });
    await gh.createRepo('acme', 'calc', CALC_FILES, { private: true });
    gh.setPermission('acme', 'calc', 'apollo-bot', 'write');
    gh.setPermission('acme', 'calc', 'jeff', 'admin');
  });
  after(async () => {
    await gh?.close();
    await llm?.close();
  });

  it('the check fails with a log; apollo quotes it, fixes sum.js, pushes; the PR head moves and passes', async () => {
    // The starting point, as apollo's earlier work left it: issue #1, his work branch with a
    // commit that does not fix the bug yet, and his open pull request from it.
    const jeff = new Octokit({ auth: JEFF_TOKEN, baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
    const apolloApi = new Octokit({ auth: APOLLO_TOKEN, baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
    const issue = (await jeff.rest.issues.create({ owner: 'acme', repo: 'calc', title: ISSUE_TITLE, body: 'sum([]) throws.' })).data.number;
    assert.equal(issue, 1);
    const branch = branchName('apollo', issue, ISSUE_TITLE);
    const start = await cloneAs(`${gh.gitUrl}/acme/calc.git`, 'apollo-bot', APOLLO_TOKEN);
    try {
      await start.run('checkout', '-q', '-b', branch);
      await writeFile(join(start.dir, 'README.md'), '# calc\n\nsum() of numbers.\n');
      await start.run('add', 'README.md');
      await start.run('-c', 'user.name=Apollo', '-c', 'user.email=apollo-bot@users.noreply.github.com', 'commit', '-qm', 'Document sum()');
      await start.run('push', '-q', 'origin', branch);
    } finally {
      await start.cleanup();
    }
    const opened = (await apolloApi.rest.pulls.create({ owner: 'acme', repo: 'calc', title: 'Make sum() handle empty arrays', head: branch, base: 'main', body: 'Closes #1' })).data;
    const firstHead = opened.head.sha;

    const dir = await tempDir('pantheon-gh-checks-');
    await mkdir(join(dir.path, 'data'), { recursive: true });
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'apollo.yaml'),
      [
        'id: apollo',
        'name: Apollo',
        'role: developer',
        'description: Developer who turns issues into pull requests.',
        'tools: [github, workspace]',
        'prompt: I am Apollo.',
        'github: { login: apollo-bot, token: "${APOLLO_GITHUB_TOKEN}" }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        'humans:',
        '  - { id: jeff, local: jeff, github: jeff, approver: true }',
        'orchestrator: { defaultPersona: apollo }',
        `github: { apiUrl: "${gh.url}", webhookSecret: "${SECRET}", throttle: false }`,
        '',
      ].join('\n'),
    );
    const unexpected: string[] = [];
    llm.clear();
    llm.setResponder((req) => {
      if (personaOf(req) === 'apollo') return apollo(req, unexpected);
      unexpected.push(`${personaOf(req)}: ${req.messages.at(-1)?.content.slice(0, 200)}`);
      return { text: 'ok' };
    });
    const app = await startPantheonProcess({ env: modelEnv(llm, { APOLLO_GITHUB_TOKEN: APOLLO_TOKEN }), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
    const prComments = () => gh.comments('acme', 'calc', opened.number).filter((c) => c.author === 'apollo-bot');
    const diagnose = () =>
      [
        `model calls: ${llm.requests.map(personaOf).join(', ')}`,
        `last answer: ${JSON.stringify(llm.requests.at(-1)?.messages.at(-1)?.content ?? '').slice(0, 600)}`,
        `deliveries: ${gh.deliveries.map((d) => `${d.event}.${d.action}→${d.status}`).join(', ')}`,
        `unexpected: ${unexpected.join(' | ')}`,
        `stdout (warn/error): ${app
          .stdout()
          .split('\n')
          .filter((l) => /"level":(40|50)/.test(l))
          .slice(-10)
          .join('\n')}`,
        `stderr: ${app.stderr().slice(-1500)}`,
      ].join('\n');
    try {
      gh.setWebhook(`${app.url}/webhooks/github`, SECRET);
      const failure = await gh.setCheckFailure('acme', 'calc', opened.number, { name: 'test', log: CI_LOG });
      assert.equal(failure.headSha, firstHead);

      // apollo's answer lands on the pull request, under his own account, quoting the log.
      const comment = await until("apollo's comment on the pull request", () => prComments()[0], 60_000, diagnose);
      assert.match(
        comment.body,
        new RegExp(`^The "test" check failed with \`${FAILING_LINE.replace(/[[\]().]/g, '\\$&')}\`\\. Fixed: sum\\(\\) now starts from 0; pushed to this pull request\\.`),
        await diagnose(),
      );

      // The pull request's head moved to apollo's new commit, on his branch, on top of the old head.
      const [pr] = gh.pulls('acme', 'calc');
      assert.notEqual(pr!.headSha, firstHead, 'the head moved');
      assert.equal(pr!.head, branch);
      assert.equal(pr!.state, 'open');
      const log = await gh.git('acme', 'calc', 'log', '--format=%an <%ae>|%s', `${firstHead}..${pr!.headSha}`);
      assert.deepEqual(log.trim().split('\n'), ['Apollo <apollo-bot@users.noreply.github.com>|Give reduce() an initial value so sum([]) is 0']);
      assert.equal(await gh.git('acme', 'calc', 'show', `${pr!.headSha}:sum.js`), FIX);
      await gh.waitForDelivery('pull_request', 'synchronize');

      // Checked out, the new head passes the test the check failed on.
      const checkout = await cloneAs(`${gh.gitUrl}/acme/calc.git`, 'jeff', JEFF_TOKEN);
      try {
        await checkout.run('checkout', '-q', pr!.headSha);
        const passing = await exec('npm', ['test'], { cwd: checkout.dir, env: { PATH: process.env.PATH, HOME: checkout.dir } });
        assert.match(passing.stdout, /all tests passed/);
      } finally {
        await checkout.cleanup();
      }

      // He read the failing job's log himself, with his own token; the three CI webhooks woke him once.
      const logReads = gh.requests.filter((r) => r.path === `/repos/acme/calc/actions/jobs/${failure.jobId}/logs`);
      assert.deepEqual([...new Set(logReads.map((r) => r.login))], ['apollo-bot']);
      const pushes = gh.requests.filter((r) => r.path.endsWith('/git-receive-pack') && r.method === 'POST' && r.status === 200);
      assert.deepEqual([...new Set(pushes.map((r) => r.login))], ['apollo-bot']);
      const toolCalls = llm.requests.flatMap((r) => r.messages.flatMap((m) => m.toolCalls ?? [])).map((c) => c.name);
      assert.equal(new Set(llm.requests.map((r) => r.messages.findLast((m) => m.role === 'user')?.content)).size, 1, 'one wake');
      assert.ok(toolCalls.includes('get_failed_checks'));
      // The push's synchronize event wakes nobody: no second comment, no other model call.
      await sleep(500);
      assert.equal(prComments().length, 1);
      assert.deepEqual(unexpected, []);
    } finally {
      llm.setResponder(undefined);
      gh.setWebhook('', '');
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
