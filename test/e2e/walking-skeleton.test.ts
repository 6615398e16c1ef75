import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { cleanEnv, getMessages, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, modelEnv } from '../support/pantheon-process.js';

/**
 * The walking skeleton, as a user runs it: the real `pantheon start` process, the real HTTP API,
 * the real model SDKs talking to the scripted model server.
 */
describe('pantheon start: a persona answers end to end', () => {
  let fake: FakeLLM;
  before(async () => {
    fake = await startFakeLLM();
  });
  after(async () => {
    await fake.close();
  });

  it('apollo answers "@apollo ping" with the model\'s text over the OpenAI wire, and remembers across a restart', async () => {
    const dir = await tempDir();
    const env = modelEnv(fake);
    try {
      fake.clear();
      fake.enqueue({ text: 'pong from the model' });
      let app = await startPantheonProcess({ env, dataDir: dir.path });
      const res = await postMessage(app.url, 'ops-room', { text: '@apollo ping', user: 'alice' });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as { id: string };
      assert.ok(id);
      const reply = await waitForMessage(app.url, 'ops-room', (m) => m.role === 'agent');
      assert.equal(reply.persona, 'apollo');
      assert.equal(reply.author, 'apollo');
      assert.equal(reply.text, 'pong from the model');

      const first = fake.requests.filter((r) => r.wire === 'openai');
      assert.equal(first.length, 1);
      const system = first[0]!.messages.find((m) => m.role === 'system');
      assert.match(system?.content ?? '', /Apollo/);
      assert.equal(first[0]!.messages.at(-1)?.content, '@apollo ping');
      assert.equal(first[0]!.model, 'gpt-4.1-mini');

      assert.equal(await app.stop(), 0, 'a clean stop exits 0');

      // Restart on the same data dir: the conversation is still there and the next turn carries it.
      app = await startPantheonProcess({ env, dataDir: dir.path });
      const before = await getMessages(app.url, 'ops-room');
      assert.deepEqual(
        before.map((m) => [m.role, m.text]),
        [
          ['user', '@apollo ping'],
          ['agent', 'pong from the model'],
        ],
      );
      fake.enqueue({ text: 'second answer' });
      await postMessage(app.url, 'ops-room', { text: '@apollo and again?', user: 'alice' });
      await waitForMessage(app.url, 'ops-room', (m) => m.text === 'second answer');
      const second = fake.requests.filter((r) => r.wire === 'openai').at(-1)!;
      const turns = second.messages.filter((m) => m.role !== 'system').map((m) => [m.role, m.content]);
      assert.deepEqual(turns, [
        ['user', '@apollo ping'],
        ['assistant', 'pong from the model'],
        ['user', '@apollo and again?'],
      ]);
      assert.equal(await app.stop(), 0);
    } finally {
      await dir.remove();
    }
  });

  it('answers over the Anthropic wire, and falls back to the next provider when the first answers 500', async () => {
    const dir = await tempDir();
    await writeFile(join(dir.path, 'pantheon.yaml'), ['models:', '  default: openai:gpt-4.1-mini', '  fallback: [anthropic:claude-sonnet-4-5]', '  maxRetries: 0'].join('\n'));
    const env = cleanEnv({
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_API_KEY: 'sk-test-openai-key-000000000000',
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test-key-0000000000000',
    });
    try {
      fake.clear();
      fake.setResponder((req) => (req.wire === 'openai' ? { status: 500, error: 'upstream exploded' } : { text: `claude says hi (${req.model})` }));
      const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path });
      try {
        await postMessage(app.url, 'fallback', { text: '@hermes hello', user: 'bob' });
        const reply = await waitForMessage(app.url, 'fallback', (m) => m.role !== 'user');
        assert.equal(reply.role, 'agent');
        assert.equal(reply.persona, 'hermes');
        assert.equal(reply.text, 'claude says hi (claude-sonnet-4-5)');
        assert.ok(
          fake.requests.some((r) => r.wire === 'openai'),
          'the primary was tried first',
        );
        const anthropic = fake.requests.filter((r) => r.wire === 'anthropic');
        assert.equal(anthropic.length, 1);
        assert.equal(anthropic[0]!.messages.at(-1)?.content, '@hermes hello');
      } finally {
        assert.equal(await app.stop(), 0);
      }
    } finally {
      fake.setResponder(undefined);
      await dir.remove();
    }
  });

  it('answers clearly on bad input and keeps serving: unknown persona, 1 MB body; no mention goes to the orchestrator', async () => {
    const dir = await tempDir();
    const env = modelEnv(fake);
    const app = await startPantheonProcess({ env, dataDir: dir.path });
    try {
      fake.clear();
      await postMessage(app.url, 'errors', { text: '@zeus deploy it', user: 'carol' });
      const notice = await waitForMessage(app.url, 'errors', (m) => m.role === 'system');
      assert.match(notice.text, /no persona named @zeus/i);
      assert.match(notice.text, /@apollo/);
      assert.equal(fake.requests.length, 0, 'no model was called for an unknown persona');

      const big = await postMessage(app.url, 'errors', { text: 'x'.repeat(1024 * 1024), user: 'carol' });
      assert.equal(big.status, 413);
      const body = (await big.json()) as { error: { code: string; message: string } };
      assert.ok(body.error.message.length > 0);

      fake.enqueue({ text: 'the orchestrator here' });
      await postMessage(app.url, 'errors', { text: 'who is on call?', user: 'carol' });
      const reply = await waitForMessage(app.url, 'errors', (m) => m.role === 'agent');
      assert.equal(reply.persona, 'pantheon');
      assert.equal(reply.text, 'the orchestrator here');
      assert.match(fake.requests.at(-1)!.messages[0]!.content, /You are Pantheon, the orchestrator/);

      const health = await fetch(`${app.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      // The run is counted when the turn finishes, which can be just after its reply is visible.
      const metrics = await waitForMetrics(app.url, /pantheon_runs_total\{persona="team",outcome="ok"\} 1/);
      assert.match(metrics, /pantheon_inbound_events_total\{platform="local"\} 2/);
      assert.match(metrics, /pantheon_runs_total\{persona="team",outcome="ok"\} 1/);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('streams messages over SSE as they are posted', async () => {
    const dir = await tempDir();
    const env = modelEnv(fake);
    const app = await startPantheonProcess({ env, dataDir: dir.path });
    const abort = new AbortController();
    try {
      fake.enqueue({ text: 'streamed reply' });
      const stream = await fetch(`${app.url}/api/chat/live/stream`, { signal: abort.signal, headers: app.auth });
      assert.equal(stream.headers.get('content-type')?.startsWith('text/event-stream'), true);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      await postMessage(app.url, 'live', { text: '@artemis look at this', user: 'dave' });
      const seen: Array<{ role: string; text: string; persona: string | null }> = [];
      let buffer = '';
      while (seen.length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (data) seen.push(JSON.parse(data.slice(6)));
        }
      }
      assert.deepEqual(
        seen.map((m) => [m.role, m.persona, m.text]),
        [
          ['user', null, '@artemis look at this'],
          ['agent', 'artemis', 'streamed reply'],
        ],
      );
    } finally {
      abort.abort();
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('requires the bearer token on /api/* when PANTHEON_CONSOLE_TOKEN is set, and still listens on 127.0.0.1 only', async () => {
    const dir = await tempDir();
    const token = 'console-secret-token-123456';
    const env = modelEnv(fake, { PANTHEON_CONSOLE_TOKEN: token });
    const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path });
    try {
      assert.match(app.url, /^http:\/\/127\.0\.0\.1:/, 'a token no longer opens every interface');
      assert.equal((await fetch(`${app.url}/api/chat/x/messages`)).status, 401);
      assert.equal((await fetch(`${app.url}/api/chat/x/messages`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${app.url}/api/chat/x/messages`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      assert.ok(!existsSync(join(dir.path, 'data', 'console-token')), 'no token is generated when one is configured');
      const printed = await runCli(['token', '--data-dir', join(dir.path, 'data')], { env, cwd: dir.path });
      assert.equal(printed.stdout, `${token}\n`);
      assert.ok(!app.stdout().includes(token) && !app.stderr().includes(token), 'the token never reaches the logs');
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('without any configuration, /api/* needs a token generated at first start (0600 in the data dir), reused after, printed by `pantheon token`', async () => {
    const dir = await tempDir();
    const dataDir = join(dir.path, 'data');
    const env = modelEnv(fake);
    let app = await startPantheonProcess({ env, dataDir, cwd: dir.path });
    try {
      const file = join(dataDir, 'console-token');
      const token = readFileSync(file, 'utf8').trim();
      assert.match(token, /^[A-Za-z0-9_-]{40,}$/);
      assert.equal(statSync(file).mode & 0o777, 0o600, 'owner-only');
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.ok(!app.stdout().includes(token) && !app.stderr().includes(token), 'the token never reaches the logs');

      const anonymous = await fetch(`${app.url}/api/chat/general/messages`);
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'unauthorized');
      const post = await fetch(`${app.url}/api/chat/general/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'approve 1', user: 'jeff' }) });
      assert.equal(post.status, 401, 'nothing unauthenticated can post');
      const encoded = await fetch(`${app.url}/%61pi/chat/general/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'approve 1', user: 'jeff' }),
      });
      assert.equal(encoded.status, 401);
      assert.equal((await fetch(`${app.url}/api/chat/general/messages`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      const asHuman = await postMessage(app.url, 'general', { text: 'hello from jeff', user: 'jeff' }, { authorization: `Bearer ${token}` });
      assert.equal(asHuman.status, 202, 'the operator token may post as a named human');
      assert.equal((await waitForMessage(app.url, 'general', (m) => m.text === 'hello from jeff')).author, 'jeff');

      const printed = await runCli(['token', '--data-dir', dataDir], { env, cwd: dir.path });
      assert.equal(printed.code, 0, printed.stderr);
      assert.equal(printed.stdout, `${token}\n`);

      assert.equal(await app.stop(), 0);
      app = await startPantheonProcess({ env, dataDir, cwd: dir.path });
      assert.equal(readFileSync(file, 'utf8').trim(), token, 'the same token after a restart');
      assert.equal((await fetch(`${app.url}/api/chat/general/messages`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await app.stop();
      await dir.remove();
    }
  });

  it('`pantheon token` does not create a data dir that does not exist', async () => {
    const dir = await tempDir();
    try {
      const missing = join(dir.path, 'nowhere');
      const printed = await runCli(['token', '--data-dir', missing], { env: cleanEnv(), cwd: dir.path });
      assert.equal(printed.code, 1);
      assert.match(printed.stderr, /no API token yet: .*nowhere does not exist/);
      assert.ok(!existsSync(missing));
    } finally {
      await dir.remove();
    }
  });
});

describe('pantheon start: configuration errors', () => {
  it('exits 2 at start, saying what to set, when no model is configured', async () => {
    const dir = await tempDir();
    try {
      const { code, stderr } = await runCli(['start', '--data-dir', dir.path, '--port', '0'], { env: cleanEnv() });
      assert.equal(code, 2, stderr);
      assert.match(stderr, /No model configured for persona "\w+"/);
      assert.match(stderr, /PANTHEON_MODEL/);
      assert.match(stderr, /ANTHROPIC_API_KEY/);
    } finally {
      await dir.remove();
    }
  });

  it("exits 2 when a model's provider has no API key", async () => {
    const dir = await tempDir();
    try {
      const { code, stderr } = await runCli(['start', '--data-dir', dir.path, '--port', '0'], { env: cleanEnv({ PANTHEON_MODEL: 'anthropic:claude-sonnet-4-5' }) });
      assert.equal(code, 2, stderr);
      assert.match(stderr, /PANTHEON_MODEL/);
      assert.match(stderr, /need ANTHROPIC_API_KEY/);
      const badUrl = await runCli(['start', '--data-dir', dir.path, '--port', '0'], { env: cleanEnv({ PANTHEON_MODEL: 'openai:gpt-4.1-mini', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: '/v1' }) });
      assert.equal(badUrl.code, 2, badUrl.stderr);
      assert.match(badUrl.stderr, /base URL of provider "openai" is not a URL/);
    } finally {
      await dir.remove();
    }
  });

  it('exits 2 naming the persona file and the field', async () => {
    const dir = await tempDir();
    try {
      await mkdir(join(dir.path, 'personas'));
      await writeFile(join(dir.path, 'pantheon.yaml'), 'models:\n  default: openai:gpt-4.1-mini\n');
      await writeFile(join(dir.path, 'personas', 'apollo.yaml'), ['id: apollo', 'name: Apollo', 'role: wizard', 'description: x', 'tools: [github]', 'prompt: hi'].join('\n'));
      const { code, stderr } = await runCli(['start', '--data-dir', join(dir.path, 'data'), '--port', '0'], { env: cleanEnv(), cwd: dir.path });
      assert.equal(code, 2, stderr);
      assert.match(stderr, /apollo\.yaml/);
      assert.match(stderr, /\brole\b/);
      assert.match(stderr, /wizard/);
    } finally {
      await dir.remove();
    }
  });
});

async function waitForMetrics(url: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (pattern.test(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}
