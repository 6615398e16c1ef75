/**
 * Token and cost accounting end to end: model calls over HTTP to the scripted server,
 * rows written to Postgres by PgUsageRecorder into a table made by the migration file,
 * totals per persona from usageForRun, and the Prometheus instruments.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createMetrics } from '../../core/metrics.js';
import { postgresSkip, TEST_POSTGRES_URL } from '../support/postgres.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { createPersonaModel, PgUsageRecorder, usageForRun, withRun } from '../../agents/index.js';

const DATABASE_URL = TEST_POSTGRES_URL;
const schema = `usage_test_${randomBytes(4).toString('hex')}`;
let admin: pg.Pool;
let pool: pg.Pool;
let fake: FakeLLM;

before(async () => {
  fake = await startFakeLLM();
  if (postgresSkip) return;
  admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
  const sql = await readFile(new URL('../../core/db/migrations/0003_model_usage.sql', import.meta.url), 'utf8');
  await pool.query(sql);
});

after(async () => {
  await pool?.end();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  await fake?.close();
});

test('every call is recorded with its tokens, a cost for priced models, and summed per persona', { skip: postgresSkip }, async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const recorder = new PgUsageRecorder(pool);
  const env = {
    OPENAI_API_KEY: 'sk-test-openai',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
  };
  const models = { maxRetries: 0, providers: { local: { type: 'openai' as const, baseUrl: fake.openaiBaseUrl } } };
  const athena = createPersonaModel({ persona: { id: 'athena', model: 'anthropic:claude-sonnet-4-5', fallbackModels: ['local:llama3'] }, models, env, recorder, metrics });
  const apollo = createPersonaModel({ persona: { id: 'apollo', model: 'openai:gpt-4.1-mini' }, models, env, recorder, metrics });

  fake.enqueue(
    { text: 'plan ready', usage: { input: 1000, output: 200 } },
    { status: 500, error: 'boom' },
    { text: 'local answer', usage: { input: 300, output: 50 } },
    { text: 'code written', usage: { input: 2000, output: 500 } },
    { text: 'unlabelled', usage: { input: 10, output: 5 } },
  );
  await withRun({ runId: 'run-1', persona: 'athena' }, async () => {
    await athena.invoke('plan the work');
    await athena.invoke('again'); // anthropic fails (not retried), the local model answers
  });
  await withRun({ runId: 'run-1', persona: 'apollo' }, () => apollo.invoke('write the code'));
  await apollo.invoke('outside any run');

  const { rows } = await pool.query('SELECT run_id, persona, provider, model, input_tokens, output_tokens, cost_usd::float8 AS cost, latency_ms, ok FROM model_usage ORDER BY id');
  assert.equal(rows.length, 5);
  assert.deepEqual(
    rows.map((r) => [r.run_id, r.persona, r.provider, r.model, r.input_tokens, r.output_tokens, r.ok]),
    [
      ['run-1', 'athena', 'anthropic', 'claude-sonnet-4-5', 1000, 200, true],
      ['run-1', 'athena', 'anthropic', 'claude-sonnet-4-5', 0, 0, false],
      ['run-1', 'athena', 'local', 'llama3', 300, 50, true],
      ['run-1', 'apollo', 'openai', 'gpt-4.1-mini', 2000, 500, true],
      [null, 'apollo', 'openai', 'gpt-4.1-mini', 10, 5, true],
    ],
  );
  // claude-sonnet-4-5: $3 in / $15 out per MTok; gpt-4.1-mini: $0.40 / $1.60; unpriced local model: 0.
  assert.ok(Math.abs(rows[0].cost - (1000 * 3 + 200 * 15) / 1e6) < 1e-9);
  assert.equal(rows[2].cost, 0);
  assert.ok(Math.abs(rows[3].cost - (2000 * 0.4 + 500 * 1.6) / 1e6) < 1e-9);
  assert.ok(rows.every((r) => r.latency_ms >= 0));

  const perPersona = await usageForRun(pool, 'run-1');
  assert.deepEqual(
    perPersona.map((p) => ({ ...p, costUsd: Math.round(p.costUsd * 1e6) })),
    [
      { persona: 'apollo', calls: 1, failedCalls: 0, inputTokens: 2000, outputTokens: 500, costUsd: 1600 },
      { persona: 'athena', calls: 3, failedCalls: 1, inputTokens: 1300, outputTokens: 250, costUsd: 6000 },
    ],
  );
  assert.deepEqual(await usageForRun(pool, 'no-such-run'), []);

  const text = await metrics.registry.metrics();
  assert.match(text, /pantheon_model_tokens_total\{persona="athena",provider="anthropic",model="claude-sonnet-4-5",direction="input"\} 1000/);
  assert.match(text, /pantheon_model_tokens_total\{persona="apollo",provider="openai",model="gpt-4.1-mini",direction="output"\} 505/);
  assert.match(text, /pantheon_model_latency_seconds_count\{provider="anthropic",model="claude-sonnet-4-5",outcome="error"\} 1/);
});
