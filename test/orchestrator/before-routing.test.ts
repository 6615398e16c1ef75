/**
 * The steps before routing (orchestrator/turn/before-routing.ts), one look at a thread, with the
 * database, the approval desk, the outbox and the graph faked (the command registry is the real
 * one, with the approval commands over the fake desk): which step takes what, which one ends the
 * look, and what reaches routing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from '@langchain/langgraph';
import type { Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { approvalCommands } from '../../orchestrator/approvals/commands.js';
import type { ApprovalInterrupt, ApprovalResume } from '../../orchestrator/approvals/types.js';
import { ChatCommands } from '../../orchestrator/commands.js';
import type { TurnDeps } from '../../orchestrator/turn/deps.js';
import { beforeRouting } from '../../orchestrator/turn/before-routing.js';
import { chain, run, type Step } from '../../orchestrator/turn/chain.js';
import { CLEAN, type Round, type ThreadView } from '../../orchestrator/turn/round.js';
import type { PendingRow, ThreadSql } from '../../orchestrator/turn/thread-sql.js';

const THREAD = 'local:steps';
const row = (id: string, text: string, status = 'pending'): PendingRow => ({
  id,
  status,
  payload: { id, platform: 'local', threadId: THREAD, author: { id: 'jeff', name: 'Jeff' }, text, receivedAt: new Date(0).toISOString() } as Envelope,
});
const pausedOn = (approvalId: string): ApprovalInterrupt => ({
  type: 'approval',
  approvalId,
  tool: 'ssh_run',
  persona: 'hephaestus',
  thread: THREAD,
  risk: 'infra',
  expiresAt: new Date(0).toISOString(),
});
const turnOf = (...inboundIds: string[]) => ({ inboundIds, platform: 'local', threadId: THREAD, requestedBy: 'jeff' });

/** A round over fakes that record what each part was asked to do, in one log. */
function fakeRound(opts: { view?: ThreadView; opened?: PendingRow[] | null; pending?: PendingRow[]; decisions?: Record<string, ApprovalResume>; graphResult?: unknown } = {}) {
  const log: string[] = [];
  const invoked: unknown[] = [];
  const sql = {
    finish: async (_t: string, f: { done: string[] }) => {
      log.push(`sql finish [${f.done.join(',')}]`);
      f.done = [];
    },
    pending: async () => {
      log.push('sql pending');
      return opts.pending ?? [];
    },
    hold: async (id: string) => {
      log.push(`sql hold ${id}`);
    },
  } as unknown as ThreadSql;
  const desk = {
    answer: async (_c: unknown, e: Envelope) => {
      log.push(`desk ${e.text}`);
      return 'Approved';
    },
    decisionFor: async (id: string) => opts.decisions?.[id] ?? null,
  };
  const commands = new ChatCommands();
  commands.register({ name: 'status', description: 'what is going on', run: async () => 'all quiet' });
  for (const command of approvalCommands(desk)) commands.register(command);
  const deps = {
    desk,
    commands,
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
        return opts.graphResult ?? {};
      },
      getState: async () => ({ tasks: [], next: [], values: {} }),
    },
    metrics: { runs: { inc: () => {} }, runDuration: { observe: () => {} } },
    logger: createLogger({ level: 'silent' }),
    durability: 'sync',
  } as unknown as TurnDeps;
  const round: Round = {
    deps,
    sql,
    thread: THREAD,
    finish: { runs: [], done: [] },
    view: opts.view ?? CLEAN,
    opened: opts.opened === undefined ? [] : opts.opened,
    rows: [],
    again: false,
  };
  /** Stands in for routing: records what reached it. */
  const routed: string[][] = [];
  const route: Step<Round> = async (r) => {
    routed.push(r.rows.map((x) => x.id));
    log.push('route');
  };
  const look = () => {
    round.again = false;
    return run(chain(...beforeRouting, route), round);
  };
  return { round, log, invoked, routed, look };
}

describe('the steps before routing', () => {
  test("in order: the thread's own run first (a decided approval, a crashed run), then what waits (read, already answered, commands, paused)", () => {
    assert.deepEqual(
      beforeRouting.map((s) => s.name),
      ['approvalDecided', 'crashedRun', 'waiting', 'answeredBeforeCrash', 'commands', 'paused'],
    );
  });

  test('plain messages pass every step to routing; the first look uses what the opening read, without a statement', async () => {
    const f = fakeRound({ opened: [row('m1', '@apollo hi'), row('m2', 'and this')] });
    await f.look();
    assert.deepEqual(f.routed, [['m1', 'm2']]);
    assert.deepEqual(f.log, ['route']);
    assert.equal(f.round.opened, null, "the opening's read is used once");
  });

  test('a later look writes what was answered, then reads what waits', async () => {
    const f = fakeRound({ opened: null, pending: [row('m3', 'next')] });
    f.round.finish.done.push('m1');
    await f.look();
    assert.deepEqual(f.log, ['sql finish [m1]', 'sql pending', 'route']);
    assert.deepEqual(f.routed, [['m3']]);
  });

  test('commands are answered in the order they came, and end the look: nothing is routed, the thread is looked at again', async () => {
    const f = fakeRound({ opened: [row('c1', '/status'), row('m1', '@apollo hi'), row('c2', 'approve k7m2x')] });
    await f.look();
    assert.deepEqual(f.log, ['post c1:command', 'desk approve k7m2x', 'post c2:command']);
    assert.deepEqual(f.routed, []);
    assert.equal(f.round.again, true);
    assert.deepEqual(f.round.finish.done, ['c1', 'c2']);
    // The next look: the message beside the commands is read again and routed.
    const next = fakeRound({ opened: null, pending: [row('m1', '@apollo hi')] });
    await next.look();
    assert.deepEqual(next.routed, [['m1']]);
  });

  test('only what the registry matches is a command: "approve this" and an unknown slash word are routed', async () => {
    const f = fakeRound({ opened: [row('m1', 'approve this'), row('m2', '/nope'), row('m3', 'Deny #K7M2X: too risky')] });
    await f.look();
    assert.deepEqual(f.log, ['desk Deny #K7M2X: too risky', 'post m3:command']);
    assert.deepEqual(f.round.finish.done, ['m3']);
    const next = fakeRound({ opened: [row('m1', 'approve this'), row('m2', '/nope')] });
    await next.look();
    assert.deepEqual(next.routed, [['m1', 'm2']]);
  });

  test('a paused thread holds new messages (once each), says so, and routes nothing', async () => {
    const f = fakeRound({ view: { interrupts: [pausedOn('k7m2x')], next: ['paused'], turn: turnOf('m0') }, opened: [row('m1', 'hello'), row('m2', 'again', 'held')] });
    await f.look();
    assert.deepEqual(f.log, ['sql hold m1', 'post m1:held']);
    assert.deepEqual(f.routed, []);
    assert.equal(f.round.again, false, 'nothing more to do until the approval is decided');
    assert.deepEqual(f.invoked, []);
  });

  test('a paused thread with a command among its messages: the command is answered, nothing is held, and it is looked at again', async () => {
    const f = fakeRound({ view: { interrupts: [pausedOn('k7m2x')], next: ['paused'], turn: turnOf('m0') }, opened: [row('m1', 'hello'), row('c1', 'approve k7m2x')] });
    await f.look();
    assert.deepEqual(f.log, ['desk approve k7m2x', 'post c1:command']);
    assert.equal(f.round.again, true);
  });

  test('a decided approval resumes the run before anything waiting is read', async () => {
    const decision: ApprovalResume = { approved: true, by: 'jeff' };
    const f = fakeRound({ view: { interrupts: [pausedOn('aaaa'), pausedOn('k7m2x')], next: ['paused'], turn: turnOf('m0') }, opened: [row('m1', 'hello')], decisions: { k7m2x: decision } });
    await f.look();
    assert.deepEqual(f.log, ['graph run']);
    assert.ok(f.invoked[0] instanceof Command);
    assert.deepEqual((f.invoked[0] as Command).resume, decision);
    assert.equal(f.round.again, true);
    assert.equal(f.round.opened, null, 'what the opening read is stale once the graph ran');
    assert.deepEqual(f.round.view, { interrupts: [], next: [], turn: turnOf('m0'), failure: null });
    assert.equal(f.round.finish.runs.length, 1);
    assert.deepEqual(f.round.finish.done, ['m0'], "the turn's message, paused until now, is marked as the resumed run ended");
    assert.equal(f.round.finish.outcomes?.get('m0')?.status ?? 'done', 'done');
  });

  test('a resumed run that pauses again leaves its messages paused; one whose persona could not answer marks them failed, with what the chat was told', async () => {
    const decision: ApprovalResume = { approved: true, by: 'jeff' };
    const view = { interrupts: [pausedOn('k7m2x')], next: ['paused'], turn: turnOf('m0') };
    const again = fakeRound({ view, opened: [], decisions: { k7m2x: decision }, graphResult: { __interrupt__: [{ value: pausedOn('b2c3d') }], turn: turnOf('m0') } });
    await again.look();
    assert.deepEqual(again.round.finish.outcomes?.get('m0'), { status: 'paused' });
    const told = 'Hephaestus could not answer: openai:gpt-4.1-mini had a server error (500).';
    const failed = fakeRound({ view, opened: [], decisions: { k7m2x: decision }, graphResult: { turn: turnOf('m0'), failure: { inbound: 'm0', text: told } } });
    await failed.look();
    assert.deepEqual(failed.round.finish.outcomes?.get('m0'), { status: 'failed', error: told });
    assert.equal(failed.round.view.failure, told);
  });

  test('an undecided approval: the look goes on to what waits', async () => {
    const f = fakeRound({ view: { interrupts: [pausedOn('k7m2x')], next: ['paused'], turn: turnOf('m0') }, opened: [row('c1', '/status')] });
    await f.look();
    assert.deepEqual(f.log, ['post c1:command']);
  });

  test('a run a crash cut short resumes from its checkpoint and answers its messages', async () => {
    const f = fakeRound({ view: { interrupts: [], next: ['apollo'], turn: turnOf('m1', 'm2') }, opened: [row('m1', 'hi'), row('m2', 'there')] });
    await f.look();
    assert.deepEqual(f.log, ['graph run']);
    assert.equal(f.invoked[0], null, 'resumed, not restarted');
    assert.deepEqual(f.round.finish.done, ['m1', 'm2']);
    assert.equal(f.round.again, true);
  });

  test('messages a finished run answered before a crash are marked, never answered twice', async () => {
    const f = fakeRound({ view: { interrupts: [], next: [], turn: turnOf('m1') }, opened: [row('m1', 'hi'), row('m2', 'new')] });
    await f.look();
    assert.deepEqual(f.round.finish.done, ['m1']);
    assert.deepEqual(f.routed, [['m2']]);
    const failed = fakeRound({ view: { interrupts: [], next: [], turn: turnOf('m1'), failure: 'Apollo could not answer.' }, opened: [row('m1', 'hi')] });
    await failed.look();
    assert.deepEqual(failed.round.finish.outcomes?.get('m1'), { status: 'failed', error: 'Apollo could not answer.' }, 'as the run ended for it');
  });

  test('nothing waiting: routing gets an empty look, and the drain ends', async () => {
    const f = fakeRound({ opened: [] });
    await f.look();
    assert.deepEqual(f.routed, [[]]);
    assert.equal(f.round.again, false);
  });
});
