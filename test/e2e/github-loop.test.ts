import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { cloneAs, startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, type ApiMessage } from '../support/pantheon-process.js';
import { APOLLO_REPLY, ARTEMIS_COMMENT, CALC_FILES, personaOf, scriptedTeam } from '../support/github-loop-team.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'whsec-loop-0123456789abcdef';
const PERSONAS = ['athena', 'apollo', 'artemis', 'perseus'] as const;
const TOKENS = Object.fromEntries(PERSONAS.map((p) => [p, `ghp_${p}_loop_token_0123456789abcdef`])) as Record<(typeof PERSONAS)[number], string>;
const JEFF_TOKEN = 'ghp_jeff_token_0123456789abcdef';

const PERSONA_FILES: Record<string, string> = {
  athena: 'role: pm\ndescription: Product manager who turns requests into issues.\ntools: [github, handoff]',
  apollo: 'role: developer\ndescription: Developer who turns issues into pull requests.\ntools: [github, workspace]',
  artemis: 'role: reviewer\ndescription: Reviewer, infrastructure lens.\nlens: reliability\ntools: [github]',
  perseus: 'role: reviewer\ndescription: Reviewer, security lens.\nlens: security\ntools: [github]',
};

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, diagnose?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${diagnose ? `\n${await diagnose()}` : ''}`);
}

/**
 * Issue 5's main scenario, end to end: the real `pantheon start` process, the fake GitHub
 * (real git repositories, signed webhooks to /webhooks/github) and the scripted model playing
 * the team. A human asks athena in local chat; the issue, the pull request, the reviews, the
 * requested change and its fix all happen on GitHub under each persona's own account, driven
 * only by webhooks; the chat thread hears the progress and the approval; nothing is merged.
 */
describe('GitHub loop: chat request → issue → pull request → reviews → approved, not merged', () => {
  let llm: FakeLLM;
  let gh: FakeGitHub;

  before(async () => {
    llm = await startFakeLLM();
    gh = await startFakeGitHub();
    for (const p of PERSONAS) gh.addUser(`${p}-bot`, { token: TOKENS[p] });
    gh.addUser('jeff', { token: JEFF_TOKEN });
    await gh.createRepo('acme', 'calc', CALC_FILES, { private: true });
    for (const p of PERSONAS) gh.setPermission('acme', 'calc', `${p}-bot`, 'write');
    gh.setPermission('acme', 'calc', 'jeff', 'admin');
  });
  after(async () => {
    await gh?.close();
    await llm?.close();
  });

  it('jeff asks athena; apollo fixes, artemis asks for a change, apollo addresses it, both reviewers approve; jeff is told', async () => {
    const dir = await tempDir('pantheon-gh-loop-');
    await mkdir(join(dir.path, 'data'), { recursive: true });
    await mkdir(join(dir.path, 'personas'));
    for (const p of PERSONAS) {
      const name = p[0]!.toUpperCase() + p.slice(1);
      const github = `github: { login: ${p}-bot, token: "\${${p.toUpperCase()}_GITHUB_TOKEN}" }`;
      await writeFile(join(dir.path, 'personas', `${p}.yaml`), `id: ${p}\nname: ${name}\n${PERSONA_FILES[p]}\nprompt: I am ${name}.\n${github}\n`);
    }
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      ['humans:', '  - { id: jeff, local: jeff, github: jeff, approver: true }', `github: { apiUrl: "${gh.url}", webhookSecret: "${SECRET}", throttle: false }`, ''].join('\n'),
    );
    const unexpected: string[] = [];
    llm.clear();
    llm.setResponder(scriptedTeam(unexpected));
    const env = modelEnv(llm, Object.fromEntries(PERSONAS.map((p) => [`${p.toUpperCase()}_GITHUB_TOKEN`, TOKENS[p]])));
    // A generous start-up allowance: creating the embedded database is slow on a busy machine.
    const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });
    const chat = () => getMessages(app.url, 'feature');
    const lines = (ms: ApiMessage[]) => ms.map((m) => `${m.role}/${m.persona ?? m.author}: ${m.text}`).join('\n');
    const diagnose = async () =>
      [
        `chat:\n${lines(await chat().catch(() => []))}`,
        `model calls: ${llm.requests.map(personaOf).join(', ')}`,
        `deliveries: ${gh.deliveries.map((d) => `${d.event}.${d.action}→${d.status}`).join(', ')}`,
        `unexpected: ${unexpected.join(' | ')}`,
        `stderr: ${app.stderr().slice(-2000)}`,
        `stdout (warn/error): ${app
          .stdout()
          .split('\n')
          .filter((l) => /"level":(40|50)/.test(l))
          .slice(-15)
          .join('\n')}`,
      ].join('\n');
    try {
      gh.setWebhook(`${app.url}/webhooks/github`, SECRET);
      assert.equal((await postMessage(app.url, 'feature', { text: '@athena we need a sum() that handles empty arrays, get it done', user: 'jeff' })).status, 202);

      // athena opens the issue, assigned to apollo, and answers with its link.
      const answer = await until("athena's answer", async () => (await chat()).find((m) => m.persona === 'athena'), 30_000, diagnose);
      const [issue] = gh.issues('acme', 'calc');
      assert.ok(issue, 'an issue exists');
      assert.equal(issue.author, 'athena-bot');
      assert.deepEqual(issue.assignees, ['apollo-bot']);
      assert.match(issue.body ?? '', /- \[ \] sum\(\[\]\) returns 0/);
      assert.equal(answer.text, `Opened ${issue.htmlUrl} and assigned it to Apollo.`);

      // Webhooks only from here: the assignment wakes apollo, his PR's review requests wake the reviewers,
      // artemis's requested change wakes apollo, his re-request wakes artemis, whose approval lands in chat.
      const approved = await until('the approval summary in chat', async () => (await chat()).find((m) => m.role === 'system' && /approved by every reviewer/.test(m.text)), 60_000, diagnose);
      const [pr] = gh.pulls('acme', 'calc');
      assert.ok(pr);
      assert.match(approved.text, new RegExp(`acme/calc#${pr.number} "Make sum\\(\\) handle empty arrays" is approved by every reviewer; merging waits for a human: ${pr.htmlUrl}`));

      // The pull request: apollo's, closes the issue, open, not merged, and nobody asked GitHub to merge it.
      assert.equal(pr.author, 'apollo-bot');
      assert.match(pr.body ?? '', /Closes #1\b/);
      assert.equal(pr.state, 'open');
      assert.equal(pr.merged, false);
      assert.ok(!gh.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/merge')), 'no merge request was made');
      assert.deepEqual(pr.requestedReviewers, [], 'nobody is still asked to review');

      // Its head is apollo's two pushed commits; checked out, `npm test` passes there and fails on main.
      const log = await gh.git('acme', 'calc', 'log', '--format=%an <%ae>|%s', `main..${pr.head}`);
      assert.deepEqual(log.trim().split('\n'), [
        'Apollo <apollo-bot@users.noreply.github.com>|Default sum() to an empty array',
        'Apollo <apollo-bot@users.noreply.github.com>|Make sum() return 0 for an empty array',
      ]);
      const checkout = await cloneAs(`${gh.gitUrl}/acme/calc.git`, 'jeff', JEFF_TOKEN);
      try {
        await checkout.run('checkout', '-q', pr.headSha);
        const passing = await exec('npm', ['test'], { cwd: checkout.dir, env: { PATH: process.env.PATH, HOME: checkout.dir } });
        assert.match(passing.stdout, /all tests passed/);
        await checkout.run('checkout', '-q', 'main');
        await assert.rejects(exec('npm', ['test'], { cwd: checkout.dir, env: { PATH: process.env.PATH, HOME: checkout.dir } }), 'main fails the same test');
      } finally {
        await checkout.cleanup();
      }

      // Reviews under each reviewer's own account; artemis's inline comment and apollo's reply in one thread.
      const reviews = gh
        .reviews('acme', 'calc', pr.number)
        .filter((r) => r.state !== 'COMMENTED')
        .map((r) => `${r.author}:${r.state}`);
      assert.deepEqual(
        reviews.filter((r) => r.startsWith('artemis')),
        ['artemis-bot:CHANGES_REQUESTED', 'artemis-bot:APPROVED'],
      );
      assert.deepEqual(
        reviews.filter((r) => r.startsWith('perseus')),
        ['perseus-bot:APPROVED'],
      );
      const inline = gh.reviewComments('acme', 'calc', pr.number);
      const root = inline.find((c) => c.author === 'artemis-bot');
      assert.ok(root && root.path === 'sum.js' && root.line === 2 && root.body === ARTEMIS_COMMENT, JSON.stringify(inline));
      const reply = inline.find((c) => c.author === 'apollo-bot');
      assert.equal(reply?.inReplyToId, root.id);
      assert.ok(reply?.body.startsWith(APOLLO_REPLY), reply?.body);

      // Every write went to GitHub with the token of the persona doing it.
      const writes = gh.requests.filter((r) => r.method !== 'GET' && r.status < 400 && !r.path.endsWith('/git-upload-pack'));
      const by = (re: RegExp) => [...new Set(writes.filter((r) => re.test(`${r.method} ${r.path}`)).map((r) => r.login))];
      assert.deepEqual(by(/^POST \/repos\/acme\/calc\/issues$/), ['athena-bot']);
      assert.deepEqual(by(/git-receive-pack$/), ['apollo-bot']);
      assert.deepEqual(by(/^POST \/repos\/acme\/calc\/pulls$/), ['apollo-bot']);
      assert.deepEqual(by(/requested_reviewers$/), ['apollo-bot']);
      assert.deepEqual(by(/\/comments\/\d+\/replies$|^POST \/repos\/acme\/calc\/pulls\/\d+\/comments$/), ['apollo-bot']);
      assert.deepEqual(by(/\/reviews$/).sort(), ['artemis-bot', 'perseus-bot']);
      assert.deepEqual(by(/^POST \/repos\/acme\/calc\/issues\/1\/comments$/), ['apollo-bot']);
      for (const r of writes) assert.equal(r.token, TOKENS[r.login?.replace(/-bot$/, '') as keyof typeof TOKENS], `${r.method} ${r.path} as ${r.login}`);

      // The chat thread jeff started shows athena's answer, apollo's mirrored progress, the reviews, and the approval.
      const feature = await chat();
      assert.ok(
        feature.some((m) => m.persona === 'apollo' && /^\[W-\d+\] on acme\/calc#1: On it: fixing sum\(\) for empty arrays/.test(m.text)),
        lines(feature),
      );
      assert.ok(
        feature.some((m) => m.persona === 'apollo' && new RegExp(`on acme/calc#1: Opened ${pr.htmlUrl}`).test(m.text)),
        lines(feature),
      );
      assert.ok(
        feature.some((m) => m.persona === 'artemis' && /Requested changes/.test(m.text)),
        lines(feature),
      );
      const order = ['athena', 'apollo', 'system'].map((who) => feature.findIndex((m) => (m.persona ?? m.role) === who));
      assert.ok(order[0]! < order[1]! && order[1]! < order[2]!, lines(feature));
      assert.match(approved.text, /@jeff\b/, 'jeff, who asked, is named in the approval');

      // The work item the chat request became is approved, owned by apollo, reviewed by both.
      const work = (await (await fetch(`${app.url}/api/work`, { headers: app.auth })).json()) as {
        items: Array<{ state: string; owner: string; originThread: string; externalRef: string; reviewers: string[] }>;
      };
      const item = work.items.find((i) => i.externalRef === 'github:acme/calc#1');
      assert.equal(item?.state, 'approved');
      assert.equal(item?.owner, 'apollo');
      assert.equal(item?.originThread, 'local:feature');
      assert.deepEqual([...item!.reviewers].sort(), ['artemis', 'perseus']);

      // Each persona was asked only about its own part; nothing else reached the model.
      assert.deepEqual(unexpected, []);
      const calls = llm.requests.filter((r) => r.wire !== 'embeddings').map(personaOf);
      for (const p of PERSONAS) assert.ok(calls.includes(p), `${p} worked`);
    } finally {
      llm.setResponder(undefined);
      gh.setWebhook('', '');
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
