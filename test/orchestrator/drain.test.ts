/**
 * A drain (orchestrator/turn/drain.ts): looks at a taken thread until no step asks for another
 * look, with the real steps and routing and the database, desk, outbox and graph faked.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from '@langchain/langgraph';
import type { Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { loadPersonas } from '../../core/config/load-personas.js';
import { PersonaRegistry } from '../../personas/registry.js';
import type { TurnDeps } from '../../orchestrator/turn/deps.js';
import { drain } from '../../orchestrator/turn/drain.js';
import type { Finish, PendingRow, ThreadSql } from '../../orchestrator/turn/thread-sql.js';

const { personas } = await loadPersonas({ env: {} });
const THREAD = 'local:drain';
const row = (id: string, text: string): PendingRow => ({
  id,
  status: 'pending',
  payload: { id, platform: 'local', threadId: THREAD, author: { id: 'jeff', name: 'Jeff' }, text, receivedAt: new Date(0).toISOString() } as Envelope,
});

function fakes(pending: PendingRow[][], graphResult: unknown = {}) {
  const log: string[] = [];
  const invoked: unknown[] = [];
  const sql = {
    finish: async (_t: string, f: Finish) => {
      log.push(`sql finish [${f.done.join(',')}]`);
      f.done = [];
      f.runs = [];
    },
    pending: async () => {
      log.push('sql pending');
      return pending.shift() ?? [];
    },
    hold: async (id: string) => {
      log.push(`sql hold ${id}`);
    },
  } as unknown as ThreadSql;
  const deps = {
    desk: { decisionFor: async () => null },
    commands: { match: (text: string) => (text === '/status' ? { command: { name: 'status', run: async () => 'all quiet' }, args: '' } : null) },
    outbox: {
      send: async (m: { idempotencyKey: string }) => {
        log.push(`post ${m.idempotencyKey}`);
        return { id: m.idempotencyKey };
      },
    },
    graph: {
      invoke: async (input: unknown) => {
        invoked.push(input);
        log.push('graph run');
        return graphResult;
      },
      getState: async () => {
        log.push('graph state');
        return { tasks: [], next: [], values: {} };
      },
    },
    checkpoints: { prime: (t: string, cp: unknown) => log.push(`prime ${t} ${cp === null ? 'never run' : 'latest'}`), forget: (t: string) => log.push(`forget ${t}`) },
    router: { personas: new PersonaRegistry(personas), bindings: [], knownHumans: ['jeff'], orchestratorPlatforms: new Set(['local']) },
    budgetSpent: async () => null,
    metrics: { runs: { inc: () => {} }, runDuration: { observe: () => {} } },
    logger: createLogger({ level: 'silent' }),
    durability: 'sync',
  } as unknown as TurnDeps;
  return { deps, sql, log, invoked };
}

describe('a drain', () => {
  test('a clean thread with one message: one turn, routed to the persona addressed, no statement of its own until the end', async () => {
    const f = fakes([]);
    const finish: Finish = { runs: [], done: [] };
    const clean = await drain(f.deps, f.sql, THREAD, { clean: true, pending: [row('m1', '@apollo hi')], latest: null }, finish);
    assert.equal(clean, true);
    assert.deepEqual(f.log, [`prime ${THREAD} never run`, 'graph run', `forget ${THREAD}`]);
    const input = f.invoked[0] as Command;
    assert.ok(input instanceof Command);
    assert.deepEqual([input.goto].flat(), ['p_apollo']);
    assert.equal((input.update as { start: string }).start, 'apollo');
    assert.deepEqual(finish.done, ['m1'], "left for the drain's end to write");
    assert.equal(finish.runs.length, 1);
  });

  test('a command, then the message beside it in a second look, after what the first answered is written', async () => {
    const f = fakes([[row('m1', '@apollo hi')]]);
    const finish: Finish = { runs: [], done: [] };
    const clean = await drain(f.deps, f.sql, THREAD, { clean: true, pending: [row('c1', '/status'), row('m1', '@apollo hi')], latest: null }, finish);
    assert.equal(clean, true);
    assert.deepEqual(f.log, [`prime ${THREAD} never run`, 'post c1:command', 'sql finish [c1]', 'sql pending', 'graph run', `forget ${THREAD}`]);
  });

  test('a thread not left clean: its graph state is read first', async () => {
    const f = fakes([]);
    await drain(f.deps, f.sql, THREAD, { clean: false, pending: [], latest: null }, { runs: [], done: [] });
    assert.deepEqual(f.log, [`prime ${THREAD} never run`, 'graph state', `forget ${THREAD}`]);
  });

  test('a turn that pauses on an approval is looked at again (nothing decided yet), and the thread is not left clean', async () => {
    const interrupt = { type: 'approval', approvalId: 'k7m2x', tool: 'ssh_run', persona: 'hephaestus', thread: THREAD, risk: 'infra', expiresAt: '' };
    const f = fakes([[]], { __interrupt__: [{ value: interrupt }] });
    const clean = await drain(f.deps, f.sql, THREAD, { clean: true, pending: [row('m1', '@hephaestus restart it')], latest: null }, { runs: [], done: [] });
    assert.equal(clean, false);
    assert.deepEqual(f.log, [`prime ${THREAD} never run`, 'graph run', 'sql finish [m1]', 'sql pending', `forget ${THREAD}`]);
  });

  test('a failing step: the checkpointer forgets the thread, and the error reaches the caller', async () => {
    const f = fakes([]);
    (f.deps.graph as unknown as { invoke: () => never }).invoke = () => {
      throw new Error('unused');
    };
    (f.deps.outbox as unknown as { send: () => never }).send = () => {
      throw new Error('outbox down');
    };
    await assert.rejects(drain(f.deps, f.sql, THREAD, { clean: true, pending: [row('c1', '/status')], latest: null }, { runs: [], done: [] }), /outbox down/);
    assert.equal(f.log.at(-1), `forget ${THREAD}`);
  });
});
