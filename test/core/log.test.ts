import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, registerSecret } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { createHttpServer, listen } from '../../core/http/index.js';

/** A logger whose lines are kept in memory, as a person reading the log file would see them. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, text: () => lines.join('') };
}

function assertNoneLeak(text: string, secrets: string[]): void {
  for (const s of secrets) assert.ok(!text.includes(s), `secret ${s.slice(0, 8)}… must not appear in:\n${text}`);
}

test('secret fields are redacted at the top of a log object and nested up to three levels', () => {
  const { logger, text } = capturingLogger();
  const secrets = {
    token: 'plain-token-value-111',
    apiKey: 'api-key-value-222',
    auth: 'Bearer header-value-333',
    handle: 'mattermost-handle-token-444',
  };
  logger.info({ token: secrets.token }, 'top level');
  logger.info({ provider: { apiKey: secrets.apiKey } }, 'one level down');
  logger.info({ headers: { authorization: secrets.auth, accept: 'application/json' } }, 'headers');
  logger.info({ handles: { mattermost: { token: secrets.handle } } }, 'a persona handle');
  const out = text();
  assertNoneLeak(out, Object.values(secrets));
  assert.ok(out.includes('[REDACTED]'));
  assert.ok(out.includes('application/json'), 'other fields are kept');
});

// pino's redact paths have no recursive wildcard, so core/log.ts also walks each log object.
test('a secret field four levels down is redacted (logging a whole persona)', () => {
  const { logger, text } = capturingLogger();
  const bot = 'slack-bot-token-555-unregistered';
  logger.info({ persona: { id: 'apollo', handles: { slack: { botToken: bot } } } }, 'a whole persona');
  const out = text();
  assertNoneLeak(out, [bot]);
  assert.ok(out.includes('"id":"apollo"'));
});

test('a registered secret is scrubbed from messages and errors', () => {
  const { logger, text } = capturingLogger();
  const secret = 'registered-secret-9f8e7d6c';
  registerSecret(secret);
  logger.error({ err: new Error(`request to https://api.example.com?key=${secret} failed`) }, 'model call failed');
  logger.warn(`retrying with ${secret}`);
  const out = text();
  assertNoneLeak(out, [secret]);
  assert.match(out, /key=\[REDACTED\] failed/);
  assert.match(out, /retrying with \[REDACTED\]/);
});

test('well-known token shapes are scrubbed even when never registered', () => {
  const { logger, text } = capturingLogger();
  const shapes = ['sk-ant-abcdefghijklmnopqrstu', 'ghp_abcdefghijklmnopqrstuvwxyz012345', 'xoxb-1234567890-abcdef'];
  logger.info(`keys: ${shapes.join(' ')}`);
  assertNoneLeak(text(), shapes);
});

test('an Authorization header sent to the server never reaches the log', async () => {
  const { logger, text } = capturingLogger();
  const consoleToken = 'console-token-never-registered-1234';
  const wrongToken = 'wrong-token-never-registered-5678';
  const app = createHttpServer({ logger, metrics: createMetrics({ defaultMetrics: false }), bodyLimitBytes: 1024, consoleToken, ready: () => true });
  app.get('/api/whoami', async (request) => {
    // A careless route that logs the whole request and its headers.
    request.log.info({ req: request, headers: request.headers }, 'whoami called');
    return { ok: true };
  });
  app.get('/api/fail', async () => {
    throw new Error('boom');
  });
  const { url } = await listen(app, { host: '127.0.0.1', port: 0 });
  try {
    const ok = await fetch(`${url}/api/whoami?token=${consoleToken}`, { headers: { authorization: `Bearer ${consoleToken}` } });
    assert.equal(ok.status, 200);
    const denied = await fetch(`${url}/api/whoami`, { headers: { authorization: `Bearer ${wrongToken}` } });
    assert.equal(denied.status, 401);
    const failed = await fetch(`${url}/api/fail`, { headers: { authorization: `Bearer ${consoleToken}` } });
    assert.equal(failed.status, 500);
  } finally {
    await app.close();
  }
  const out = text();
  assert.ok(out.includes('whoami called'), 'the route did log');
  assert.ok(out.includes('request failed'), 'the 500 was logged');
  assertNoneLeak(out, [consoleToken, wrongToken]);
  assert.ok(out.includes('[REDACTED]'));
});
