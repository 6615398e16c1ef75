import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { linkFor, signIn, submitLink, type ConsoleSession } from '../support/console-session.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * The web console's API on the real process (docs/api.md): login links (once, expiring, from the
 * CLI with and without a server, and by /login in the local chat as a direct message), the
 * session cookie, CSRF, approvals by approvers only and attributed to them, the bearer token still
 * working, the built console served at `/`, and each view's endpoint answering what a person sees.
 */
const TOKEN = 'console-e2e-token-0123456789abcdef';
const HUMANS = ['humans:', '  - { id: jeff, local: jeff, approver: true }', '  - { id: carol, local: carol }'];
const CONFIG = [...HUMANS, 'policy:', '  tools: { post_message: ask }', 'console:', '  loginLinkMinutes: 0.15', ''].join('\n');
/** The same team with the default link lifetime: the link made before the server starts must outlive its start. */
const LONG_LINKS = [...HUMANS, 'policy:', '  tools: { post_message: ask }', ''].join('\n');

/** A GET sent with its path exactly as written (fetch would resolve the dots). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** An SSE stream read as it arrives; `events` fills up until `close()`. */
async function openStream(url: string, headers: Record<string, string>): Promise<{ status: number; events: SseEvent[]; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  if (res.body) {
    void (async () => {
      let buffer = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          }
        }
      } catch {
        /* aborted */
      }
    })();
  }
  return { status: res.status, events, close: () => abort.abort() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('the web console API (the real process)', () => {
  let fake: FakeLLM;
  let dir: { path: string; remove: () => Promise<void> };
  let app: RunningPantheon;
  let earlyLink: string;
  const dataDir = () => join(dir.path, 'data');

  before(async () => {
    fake = await startFakeLLM();
    dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), CONFIG);
    await writeFile(join(dir.path, 'long-links.yaml'), LONG_LINKS);
    const built = join(dir.path, 'console');
    await mkdir(join(built, 'assets'), { recursive: true });
    await writeFile(join(built, 'index.html'), '<!doctype html><title>Pantheon</title><div id="app"></div><script type="module" src="/assets/app-3f9a1c.js"></script>');
    await writeFile(join(built, 'assets', 'app-3f9a1c.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
    const env = modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: TOKEN, PANTHEON_CONSOLE_DIR: built });
    // Without a server: the CLI writes the link into the database itself.
    const migrated = await runCli(['migrate', '--data-dir', dataDir()], { env, cwd: dir.path, timeoutMs: 90_000 });
    assert.equal(migrated.code, 0, migrated.stderr);
    const offline = await runCli(['login-link', 'jeff', '--config', 'long-links.yaml', '--data-dir', dataDir()], { env, cwd: dir.path, timeoutMs: 60_000 });
    assert.equal(offline.code, 0, offline.stderr);
    earlyLink = offline.stdout.trim();
    assert.match(earlyLink, /^http:\/\/127\.0\.0\.1:3000\/auth\/login\?token=[A-Za-z0-9_-]{40,}$/);
    app = await startPantheonProcess({ env, dataDir: dataDir(), cwd: dir.path });
  });
  after(async () => {
    await app?.stop();
    await dir?.remove();
    await fake?.close();
  });

  it('without a session every page, asset and API call is refused; a browser gets a page saying how to sign in', async () => {
    const page = await fetch(`${app.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 401);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /\/login.*pantheon login-link/s);
    assert.equal((await fetch(`${app.url}/approvals`, { headers: { accept: 'text/html' } })).status, 401);
    assert.equal((await fetch(`${app.url}/assets/app-3f9a1c.js`)).status, 401);
    for (const path of ['/api/personas', '/api/conversations', '/api/approvals', '/api/me', '/api/stats', '/api/settings']) {
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 401, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unauthorized');
    }
    const forged = await fetch(`${app.url}/api/me`, { headers: { cookie: 'pantheon_session=made-up-session-id' } });
    assert.equal(forged.status, 401);
  });

  it('a login link made without a server works once the server runs; the page does not use it up, the form does, once', async () => {
    const link = `${app.url}/auth/login?token=${new URL(earlyLink).searchParams.get('token')}`;
    for (let i = 0; i < 2; i++) {
      const page = await fetch(link);
      assert.equal(page.status, 200, 'a chat preview fetching the link does not use it up');
      assert.match(await page.text(), /Sign in as jeff/);
    }
    const session = await signIn(link);
    assert.deepEqual([session.human.id, session.human.approver], ['jeff', true]);
    const flags = session.setCookie.split(';').map((p) => p.trim());
    assert.ok(flags.includes('HttpOnly'), session.setCookie);
    assert.ok(flags.includes('SameSite=Lax'), session.setCookie);
    assert.ok(flags.includes('Path=/'), session.setCookie);
    assert.ok(!flags.includes('Secure'), 'no Secure flag over plain http (console.publicUrl https sets it)');
    assert.ok(Math.abs(Number(/Max-Age=(\d+)/.exec(session.setCookie)?.[1]) - 43_200) < 60, 'twelve hours');
    const again = await submitLink(link);
    assert.equal(again.status, 401);
    assert.match(await again.text(), /already been used/);
    assert.equal((await fetch(link)).status, 401, 'the page says so too');
  });

  it('pantheon login-link asks the running server; a link expires; a link for someone not in humans: is refused', async () => {
    const cli = await runCli(['login-link', 'carol', '--data-dir', dataDir()], { env: modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: TOKEN }), cwd: dir.path });
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.trim().startsWith(`${app.url}/auth/login?token=`), cli.stdout);
    const stale = await linkFor(app.url, { authorization: `Bearer ${TOKEN}` }, 'carol');
    const unknown = await runCli(['login-link', 'mallory', '--data-dir', dataDir()], { env: modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: TOKEN }), cwd: dir.path });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /mallory is not in humans: .*known: jeff, carol/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'one line, no stack');
    const carol = await signIn(cli.stdout.trim());
    assert.equal(carol.human.id, 'carol');
    await sleep(9500); // console.loginLinkMinutes: 0.15
    const expired = await submitLink(stale);
    assert.equal(expired.status, 401);
    assert.match(await expired.text(), /expired/);
  });

  it('CSRF: a change made with the cookie needs the token and a same-origin Origin; the bearer token still works and acts as the operator', async () => {
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const post = (headers: Record<string, string>) =>
      fetch(`${app.url}/api/conversations/${encodeURIComponent('local:csrf')}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ text: 'hello from the console' }),
      });
    const noToken = await post({ cookie: jeff.cookie, origin: app.url });
    assert.equal(noToken.status, 403);
    assert.equal(((await noToken.json()) as { error: { code: string } }).error.code, 'csrf_refused');
    const wrongToken = await post({ cookie: jeff.cookie, 'x-csrf-token': 'guess', origin: app.url });
    assert.equal(wrongToken.status, 403);
    const otherSite = await post({ ...jeff.headers(true), origin: 'https://evil.example' });
    assert.equal(otherSite.status, 403);
    assert.match(((await otherSite.json()) as { error: { message: string } }).error.message, /evil\.example/);
    fake.enqueue({ text: 'Hello jeff.' });
    const ok = await post({ ...jeff.headers(true), 'content-type': 'application/json' });
    assert.equal(ok.status, 202, await ok.clone().text());
    const shown = await getMessages(app.url, 'csrf');
    assert.equal(shown[0]?.author, 'jeff', 'posted as the signed-in human');
    // A session posting through the chat API is that human whatever it claims.
    await fetch(`${app.url}/api/chat/csrf/messages`, { method: 'POST', headers: jeff.headers(true), body: JSON.stringify({ text: 'as someone else?', user: 'carol' }) });
    assert.equal((await getMessages(app.url, 'csrf')).find((m) => m.text === 'as someone else?')?.author, 'jeff');

    const bearer = await fetch(`${app.url}/api/personas`, { headers: app.auth });
    assert.equal(bearer.status, 200);
    const me = (await (await fetch(`${app.url}/api/me`, { headers: app.auth })).json()) as { via: string; human: unknown };
    assert.deepEqual([me.via, me.human], ['token', null]);
    const scriptPost = await fetch(`${app.url}/api/conversations/${encodeURIComponent('local:csrf')}/messages`, {
      method: 'POST',
      headers: { ...app.auth, 'content-type': 'application/json' },
      body: '{"text":"x"}',
    });
    assert.equal(scriptPost.status, 403, 'posting as a human needs a session');
    const linkBySession = await fetch(`${app.url}/api/login-links`, { method: 'POST', headers: jeff.headers(true), body: JSON.stringify({ human: 'carol' }) });
    assert.equal(linkBySession.status, 403, 'a session cannot mint links for others');
  });

  it('an approver approves in the console (attributed, live in the stream, result in the timeline); a non-approver gets 403; the bearer token cannot decide', async () => {
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const carol = await signIn(await linkFor(app.url, app.auth, 'carol'));
    const thread = encodeURIComponent('local:deploys');
    fake.enqueue(
      { text: 'Announcing it.', toolCalls: [{ name: 'post_message', args: { conversation: 'ops-room', text: 'Deploy at 17:00 today.', reason: 'jeff asked to announce the deploy' } }] },
      { text: 'Posted the deploy time in ops-room.' },
    );
    // The conversation must exist before its stream can show it: jeff's message opens it.
    const first = await fetch(`${app.url}/api/conversations/${thread}/messages`, {
      method: 'POST',
      headers: jeff.headers(true),
      body: JSON.stringify({ text: '@athena tell ops-room we deploy at 17:00' }),
    });
    assert.equal(first.status, 202);
    const stream = await openStream(`${app.url}/api/conversations/${thread}/stream`, { cookie: jeff.cookie });
    assert.equal(stream.status, 200);
    try {
      const pending = await until('a pending approval', async () => {
        const body = (await (await fetch(`${app.url}/api/approvals`, { headers: jeff.headers() })).json()) as { canDecide: boolean; pending: Array<Record<string, unknown>> };
        return body.pending.find((a) => a.thread === 'local:deploys') && body;
      });
      assert.equal(pending.canDecide, true);
      const request = pending.pending.find((a) => a.thread === 'local:deploys')!;
      assert.equal(request.persona, 'athena');
      assert.equal(request.tool, 'post_message');
      assert.equal(request.askedBy, 'jeff');
      assert.equal(request.status, 'pending');
      assert.match(JSON.stringify(request.args), /Deploy at 17:00 today/);
      assert.equal(request.reason, 'jeff asked to announce the deploy');
      const id = request.id as string;
      await until('the approval in the stream', async () => stream.events.some((e) => e.event === 'approval' && (e.data.approval as { id: string }).id === id));

      const carolView = (await (await fetch(`${app.url}/api/approvals`, { headers: carol.headers() })).json()) as { canDecide: boolean };
      assert.equal(carolView.canDecide, false);
      const refused = await fetch(`${app.url}/api/approvals/${id}/approve`, { method: 'POST', headers: carol.headers(true), body: '{}' });
      assert.equal(refused.status, 403);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'not_approver');
      const byToken = await fetch(`${app.url}/api/approvals/${id}/approve`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(byToken.status, 403);
      await sleep(300);
      assert.deepEqual(await getMessages(app.url, 'ops-room'), [], 'nothing posted before an approver decided');

      const approved = await fetch(`${app.url}/api/approvals/${id}/approve`, { method: 'POST', headers: jeff.headers(true), body: '{}' });
      assert.equal(approved.status, 200, await approved.clone().text());
      const decided = ((await approved.json()) as { approval: Record<string, unknown> }).approval;
      assert.deepEqual([decided.status, decided.decidedBy], ['approved', 'jeff']);
      const twice = await fetch(`${app.url}/api/approvals/${id}/deny`, { method: 'POST', headers: jeff.headers(true), body: '{"reason":"changed my mind"}' });
      assert.equal(twice.status, 409);

      await waitForMessage(app.url, 'deploys', (m) => m.text === 'Posted the deploy time in ops-room.');
      assert.deepEqual(
        (await getMessages(app.url, 'ops-room')).map((m) => m.text),
        ['Deploy at 17:00 today.'],
      );
      await until('the tool call with its result in the stream', async () =>
        stream.events.find((e) => e.event === 'tool_call' && e.data.tool === 'post_message' && e.data.outcome === 'ok' && typeof e.data.result === 'string'),
      );
      assert.ok(
        stream.events.some((e) => e.event === 'approval' && (e.data.approval as { status: string }).status === 'approved'),
        'the decision arrives live',
      );
      assert.ok(
        stream.events.some((e) => e.event === 'message' && e.data.text === 'Posted the deploy time in ops-room.'),
        JSON.stringify(stream.events),
      );

      const detail = (await (await fetch(`${app.url}/api/conversations/${thread}`, { headers: carol.headers() })).json()) as {
        conversation: Record<string, unknown>;
        timeline: Array<Record<string, unknown>>;
      };
      assert.equal(detail.conversation.id, 'local:deploys');
      const kinds = detail.timeline.map((e) => e.kind);
      assert.ok(kinds.includes('message') && kinds.includes('tool_call') && kinds.includes('approval'), kinds.join(','));
      const call = detail.timeline.find((e) => e.kind === 'tool_call')!;
      assert.match(JSON.stringify(call.args), /Deploy at 17:00 today/);
      assert.equal(call.approvalId, id);
      assert.ok(typeof call.result === 'string' && call.result.length > 0, `the tool's result: ${JSON.stringify(call)}`);
      assert.ok(
        detail.timeline.some((e) => e.kind === 'message' && /Approved by jeff: athena may run post_message .*\(in the console\)/.test(String(e.text))),
        'the decision is said in the conversation',
      );

      const audit = (await (await fetch(`${app.url}/api/audit?kind=approval_decision&approval=${id}`, { headers: jeff.headers() })).json()) as { entries: Array<{ actor: string; outcome: string }> };
      assert.deepEqual(audit.entries.map((e) => [e.actor, e.outcome]).sort(), [
        ['carol', 'refused_not_approver'],
        ['jeff', 'approved'],
      ]);
    } finally {
      stream.close();
    }
  });

  it('/login in the local chat sends the link to the human’s direct conversation only, and it signs them in', async () => {
    const before = (await getMessages(app.url, 'general')).length;
    await postMessage(app.url, 'general', { text: '/login', user: 'carol' });
    const reply = await waitForMessage(app.url, 'general', (m) => m.role === 'system' && /sign-in link by direct message/.test(m.text));
    assert.match(reply.text, /carol/);
    const general = await getMessages(app.url, 'general');
    assert.ok(general.length > before, 'general.length > before');
    assert.ok(!general.some((m) => m.text.includes('/auth/login')), 'never in the shared conversation');
    const dm = await waitForMessage(app.url, 'dm-carol', (m) => m.text.includes('/auth/login?token='));
    const link = /(http:\/\/\S+\/auth\/login\?token=[A-Za-z0-9_-]+)/.exec(dm.text)![1]!;
    assert.ok(link.startsWith(app.url), link);
    const carol = await signIn(link);
    assert.equal(carol.human.id, 'carol');
    // A session reading the direct conversation sees no link (jeff must not sign in as carol).
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const asJeff = ((await (await fetch(`${app.url}/api/chat/dm-carol/messages`, { headers: jeff.headers() })).json()) as { messages: Array<{ text: string }> }).messages;
    assert.ok(
      asJeff.some((m) => m.text.includes('[sign-in link]')),
      JSON.stringify(asJeff),
    );
    assert.ok(!asJeff.some((m) => m.text.includes('/auth/login?token=')), 'no link shown to a session');
    const timeline = ((await (await fetch(`${app.url}/api/conversations/${encodeURIComponent('local:dm-carol')}`, { headers: jeff.headers() })).json()) as { timeline: Array<{ text?: string }> })
      .timeline;
    assert.ok(!JSON.stringify(timeline).includes('/auth/login?token='), 'nor in the console timeline');
    await postMessage(app.url, 'general', { text: '/login', user: 'stranger' });
    await waitForMessage(app.url, 'general', (m) => m.role === 'system' && /stranger is not in humans:/.test(m.text));
  });

  it('each view answers what a person sees: team, conversations, work, stats, settings (secrets masked), memory, audit', async () => {
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const get = async (path: string) => {
      const res = await fetch(`${app.url}${path}`, { headers: jeff.headers() });
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const team = (await get('/api/personas')) as { personas: Array<Record<string, unknown>>; team: { today: { calls: number } } };
    assert.deepEqual(team.personas.map((p) => p.id).sort(), ['apollo', 'artemis', 'athena', 'hephaestus', 'hermes', 'perseus']);
    const athena = team.personas.find((p) => p.id === 'athena')!;
    assert.equal(athena.role, 'pm');
    assert.equal(athena.model, 'openai:gpt-4.1-mini');
    assert.ok(['idle', 'running', 'waiting_for_approval'].includes(athena.status as string));
    assert.ok((athena.today as { calls: number }).calls >= 2, 'her model calls today');
    assert.ok(team.team.today.calls >= 2, 'team.team.today.calls >= 2');

    const { conversations } = (await get('/api/conversations')) as { conversations: Array<{ id: string; lastActivityAt: string; platform: string; canPost: boolean }> };
    assert.ok(conversations.length >= 4, 'conversations.length >= 4');
    const times = conversations.map((c) => c.lastActivityAt);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest activity first');
    assert.ok(
      conversations.some((c) => c.id === 'local:deploys' && c.canPost && c.platform === 'local'),
      JSON.stringify(conversations),
    );
    assert.equal((await fetch(`${app.url}/api/conversations/${encodeURIComponent('local:nobody-here')}`, { headers: jeff.headers() })).status, 404);

    const work = (await get('/api/work?all=1')) as { items: Array<{ links: unknown[] }> };
    assert.ok(Array.isArray(work.items), 'Array.isArray(work.items)');

    const stats = (await get('/api/stats?days=2')) as { usagePerDay: Array<{ persona: string; calls: number }>; runsPerHour: Array<{ runs: number }>; queue: { now: Record<string, unknown> } };
    assert.ok(
      stats.usagePerDay.some((r) => r.persona === 'athena' && r.calls >= 2),
      JSON.stringify(stats.usagePerDay),
    );
    assert.ok(stats.runsPerHour.reduce((n, h) => n + h.runs, 0) >= 1, 'stats.runsPerHour.reduce((n, h) => n + h.runs, 0) >= 1');
    assert.ok(stats.queue.now && 'ingress' in stats.queue.now, JSON.stringify(stats.queue));

    const settings = await get('/api/settings');
    const text = JSON.stringify(settings);
    assert.ok(!text.includes(TOKEN), 'the API token is masked');
    assert.ok(!text.includes('sk-test-openai-key'), 'no provider key');
    assert.equal((settings.config as { console: { token: string } }).console.token, '***');
    const doctor = settings.doctor as { sections: Array<{ title: string; facts: Array<{ mark: string }> }> };
    assert.ok(
      doctor.sections.some((s) => s.title === 'Database' && s.facts.some((f) => f.mark === 'ok')),
      JSON.stringify(doctor),
    );

    const memory = await get('/api/memory/stats');
    assert.equal(typeof (memory.counts as { total: number }).total, 'number', JSON.stringify(memory));
    const audit = (await get('/api/audit?persona=athena&tool=post_message&since=1h')) as { entries: Array<{ persona: string; tool: string }> };
    assert.ok(audit.entries.length >= 1 && audit.entries.every((e) => e.persona === 'athena' && e.tool === 'post_message'), JSON.stringify(audit.entries));
  });

  it('serves the built console at / with content types, caching and client routes; logout ends the session', async () => {
    const jeff = await signIn(await linkFor(app.url, app.auth, 'jeff'));
    const index = await fetch(`${app.url}/`, { headers: jeff.headers() });
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await index.text(), /<div id="app">/);
    const asset = await fetch(`${app.url}/assets/app-3f9a1c.js`, { headers: { ...jeff.headers(), 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-encoding'), 'gzip');
    assert.match(await asset.text(), /console\.log/);
    const route = await fetch(`${app.url}/approvals/k7m2x`, { headers: jeff.headers() });
    assert.equal(route.status, 200);
    assert.match(await route.text(), /<div id="app">/, 'a client route gets index.html');
    assert.equal((await fetch(`${app.url}/assets/missing-0000.js`, { headers: jeff.headers() })).status, 404);
    for (const path of ['/assets/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc/passwd']) {
      const res = await rawGet(app.url, path, jeff.headers());
      assert.ok(!res.body.includes('root:'), `${path} stays inside the console: ${res.status}`);
    }
    const apiMiss = await fetch(`${app.url}/api/nothing-here`, { headers: jeff.headers() });
    assert.equal(apiMiss.status, 404);
    assert.match(apiMiss.headers.get('content-type') ?? '', /json/);

    const out = await fetch(`${app.url}/api/logout`, { method: 'POST', headers: jeff.headers(true), body: '{}' });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await fetch(`${app.url}/api/me`, { headers: jeff.headers() })).status, 401);
  });
});
