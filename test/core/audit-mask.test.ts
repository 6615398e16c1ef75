import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretKey, maskArgs } from '../../core/audit/mask.js';
import { parseSince } from '../../core/audit/since.js';
import { registerSecret } from '../../core/log.js';

describe('maskArgs', () => {
  test('masks secret-looking keys at any depth, in any case', () => {
    const args = {
      repo: 'acme/api',
      token: 'abc',
      nested: { GitHub_Token: 'x', apiKey: 'y', 'API-KEY': 'z', headers: { Authorization: 'Bearer abc', accept: 'json' } },
      hosts: [{ name: 'staging-1', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----', password: 'hunter2' }],
      key: { id: 1 },
      clientSecret: 42,
      author: 'jeff',
      keyboard: 'qwerty',
      empty: { token: '' },
    };
    assert.deepEqual(maskArgs(args), {
      repo: 'acme/api',
      token: '***',
      nested: { GitHub_Token: '***', apiKey: '***', 'API-KEY': '***', headers: { Authorization: '***', accept: 'json' } },
      hosts: [{ name: 'staging-1', privateKey: '***', password: '***' }],
      key: '***',
      clientSecret: '***',
      author: 'jeff',
      keyboard: 'qwerty',
      empty: { token: '' },
    });
    assert.equal(args.token, 'abc', 'the input is not modified');
  });

  test('masks the argument names a tool declares secret', () => {
    assert.deepEqual(maskArgs({ command: 'ls', passcode: '1234', env: { DB_URL: 'postgres://u:p@h/db' } }, ['passcode', 'db_url']), {
      command: 'ls',
      passcode: '***',
      env: { DB_URL: '***' },
    });
  });

  test('scrubs registered secret values and token shapes inside strings', () => {
    registerSecret('s3cr3t-registered-value');
    const masked = maskArgs({
      command: 'curl -H "x-auth: s3cr3t-registered-value" https://example.com',
      body: ['push with ghp_abcdefghijklmnopqrstuvwxyz012345 now', 'sk-ant-api03-abcdefghijklmnop1234 leaked'],
    });
    assert.deepEqual(masked, {
      command: 'curl -H "x-auth: [REDACTED]" https://example.com',
      body: ['push with [REDACTED] now', '[REDACTED] leaked'],
    });
  });

  test('cuts long strings with a marker and keeps the result plain JSON', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const masked = maskArgs({
      content: 'a'.repeat(5000),
      when: new Date('2025-03-01T00:00:00Z'),
      data: Buffer.from('hello'),
      big: 10n,
      fn: () => 1,
      missing: undefined,
      nan: Number.NaN,
      circular,
      items: Array.from({ length: 105 }, (_, i) => i),
    }) as Record<string, unknown>;
    assert.equal(masked.content, `${'a'.repeat(2000)}…[truncated 3000 chars]`);
    assert.equal(masked.when, '2025-03-01T00:00:00.000Z');
    assert.equal(masked.data, '[binary 5 bytes]');
    assert.equal(masked.big, '10');
    assert.equal(masked.fn, '[function]');
    assert.equal('missing' in masked, false);
    assert.equal(masked.nan, 'NaN');
    assert.deepEqual(masked.circular, { name: 'loop', self: '[circular]' });
    const items = masked.items as unknown[];
    assert.equal(items.length, 101);
    assert.equal(items.at(-1), '…[5 more items]');
    assert.deepEqual(JSON.parse(JSON.stringify(masked)), masked);
    assert.equal(maskArgs(undefined), null);
    assert.equal(maskArgs('plain'), 'plain');
  });

  test('isSecretKey', () => {
    for (const k of ['token', 'botToken', 'api_key', 'SECRET', 'webhookSecret', 'password', 'db_passwd', 'authorization', 'Cookie', 'ssh_private_key', 'key']) assert.equal(isSecretKey(k), true, k);
    for (const k of ['author', 'keyboard', 'monkey_name', 'path', 'title', 'tokens_used_count']) assert.equal(isSecretKey(k), false, k);
  });
});

describe('parseSince', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  test('reads durations back from now and ISO times', () => {
    assert.equal(parseSince('30m', now).toISOString(), '2025-03-01T11:30:00.000Z');
    assert.equal(parseSince('2h', now).toISOString(), '2025-03-01T10:00:00.000Z');
    assert.equal(parseSince('7d', now).toISOString(), '2025-02-22T12:00:00.000Z');
    assert.equal(parseSince('1w', now).toISOString(), '2025-02-22T12:00:00.000Z');
    assert.equal(parseSince('45s', now).toISOString(), '2025-03-01T11:59:15.000Z');
    assert.equal(parseSince('2025-02-01T08:00:00Z', now).toISOString(), '2025-02-01T08:00:00.000Z');
  });
  test('refuses anything else with the accepted forms', () => {
    assert.throws(() => parseSince('yesterday', now), /cannot read the time "yesterday": use a duration back from now \(30m, 2h, 7d, 1w\) or an ISO date/);
    assert.throws(() => parseSince('2025-13-45', now), /cannot read the time/);
  });
});
