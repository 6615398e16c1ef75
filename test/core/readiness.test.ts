import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { createHttpServer } from '../../core/http/index.js';
import { readiness } from '../../core/http/readiness.js';

const logger = createLogger({ level: 'silent' });

describe('/readyz', () => {
  it('answers each check by name, 503 when one fails, without the error text, unauthenticated; cached for a second', async () => {
    let calls = 0;
    let redisUp = true;
    const failures: string[] = [];
    const app = createHttpServer({
      logger,
      metrics: createMetrics(),
      bodyLimitBytes: 1024,
      consoleToken: 'tok-0123456789',
      ready: () => true,
      readiness: readiness(
        {
          database: () => {
            calls++;
            return true;
          },
          redis: async () => {
            if (!redisUp) throw new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.7:6379');
            return true;
          },
          connections: () => false,
          slow: () => new Promise<boolean>(() => {}),
        },
        { cacheMs: 50, timeoutMs: 100, onFailure: (name) => failures.push(name) },
      ),
    });
    try {
      let res = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'failing', checks: { database: 'ok', redis: 'ok', connections: 'failing', slow: 'failing' } });
      await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(calls, 1, 'cached');
      redisUp = false;
      await new Promise((r) => setTimeout(r, 60));
      res = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.json().checks.redis, 'failing');
      assert.doesNotMatch(res.body, /hunter2|10\.0\.0\.7|ECONNREFUSED/);
      assert.ok(failures.includes('redis'));
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on readiness');
    } finally {
      await app.close();
    }
  });

  it('503 "starting" until started; 200 when every check passes', async () => {
    let started = false;
    const app = createHttpServer({ logger, metrics: createMetrics(), bodyLimitBytes: 1024, consoleToken: 'tok-0123456789', ready: () => started, readiness: readiness({ database: () => true }) });
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      started = true;
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok', checks: { database: 'ok' } });
    } finally {
      await app.close();
    }
  });
});
