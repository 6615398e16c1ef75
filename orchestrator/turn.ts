import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { Command } from '@langchain/langgraph';
import { HumanMessage } from '@langchain/core/messages';
import type { Envelope } from '../core/chat/types.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { JobQueue } from '../core/queue/types.js';
import { withRun } from '../agents/run-context.js';
import type { OutboxPort } from '../tools/types.js';
import { isApprovalInterrupt, type ApprovalInterrupt, type ApprovalResume } from './approvals/types.js';
import type { ApprovalDesk } from './approval-desk.js';
import { INGRESS_QUEUE, type IngressJob } from './ingress.js';
import { nodeName, type TeamGraph } from './graph/team-graph.js';
import type { TurnInfo } from './graph/state.js';
import { authorName } from './message-text.js';
import { internalErrorText, reportInternalError } from '../core/internal-error.js';
import type { ChatCommands } from './commands.js';
import { routeBatch, type RouterConfig } from './router.js';
import { openThread, pendingFor, releaseSql, type PendingRow, type ThreadLeases, type ThreadOpening } from './thread-lease.js';
import type { ThreadLocks } from './thread-lock.js';
import { statement } from '../core/db/statements.js';
import type { CheckpointRow } from './checkpoint/pg-saver.js';


export interface TurnDeps {
  pool: pg.Pool;
  queue: JobQueue;
  graph: TeamGraph;
  outbox: OutboxPort;
  locks: ThreadLocks;
  /** Set when several processes run workers (BullMQ): one run per thread across them. */
  leases?: ThreadLeases;
  router: RouterConfig;
  desk: ApprovalDesk;
  metrics: Metrics;
  logger: Logger;
  durability: 'sync' | 'async' | 'exit';
  /** A message when the persona has spent its daily budget, else null. */
  budgetSpent: (personaId: string) => Promise<string | null>;
  /** Threads this process left with no run in progress and nothing paused (only used without leases). */
  cleanThreads: Set<string>;
  /** Slash commands answered before routing (`/status`, `/cancel <job>`...). */
  commands?: ChatCommands;
  /** The checkpointer, when it can serve a thread's latest checkpoint read in passing (PgCheckpointSaver). */
  checkpoints?: { prime(threadId: string, row: CheckpointRow | null): void; forget(threadId: string): void };
}

/** A finished graph run, recorded when the drain ends (with the inbound messages it answered). */
interface RunRecord {
  id: string;
  inbound: string | null;
  status: 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  error: string | null;
}

/** What a drain leaves to write at its end, in one statement (with the lease's release). */
interface Finish {
  runs: RunRecord[];
  /** Inbound messages answered. */
  done: string[];
}

const graphConfig = (deps: TurnDeps, threadId: string, channel: string, inbound?: string, requestedBy?: string) => ({
  configurable: { thread_id: threadId, pantheon_channel: channel, pantheon_inbound: inbound, pantheon_requested_by: requestedBy },
  durability: deps.durability,
  recursionLimit: 100,
});

export async function handleIngressJob(deps: TurnDeps, job: IngressJob): Promise<void> {
  const threadId = 'envelope' in job ? job.envelope.threadId : job.drain;
  await withThread(deps, threadId);
}

/**
 * One run at a time per thread: in this process, and across processes when leases are on.
 * The thread is opened (taken, and what waits in it read) in one statement, and what the drain
 * did (its runs, the messages it answered, the lease's release) is written in one more.
 */
async function withThread(deps: TurnDeps, threadId: string): Promise<void> {
  await deps.locks.run(threadId, async () => {
    const finish: Finish = { runs: [], done: [] };
    if (!deps.leases) {
      const { neverRun, pending, latest } = await openThread(deps.pool, threadId);
      let clean = false;
      try {
        clean = await drainThread(deps, threadId, { clean: neverRun || deps.cleanThreads.has(threadId), pending, latest }, finish);
      } finally {
        if (clean) deps.cleanThreads.add(threadId);
        else deps.cleanThreads.delete(threadId);
        await writeFinish(deps.pool, threadId, finish);
      }
      return;
    }
    const result = await deps.leases.withLease(
      threadId,
      (opening) => drainThread(deps, threadId, opening, finish),
      (clean, owner) => writeFinish(deps.pool, threadId, finish, { owner, clean }),
    );
    // Another process holds the thread: it drains what is pending before it lets go, but a
    // message may land just after its last look, so look again shortly.
    if (!result.ran) await deps.queue.add<IngressJob>(INGRESS_QUEUE, 'drain', { drain: threadId }, { delay: 500, jobId: `drain:${threadId}:${Date.now()}` });
  });
}

/**
 * Everything waiting for one thread, in order: finish a run a crash interrupted, resume a run
 * whose approval was decided, answer approval commands, then hand every message that arrived
 * meanwhile to ONE next turn. A thread paused on an approval holds new messages until it is decided.
 * Answers whether the thread is left clean.
 */
async function drainThread(deps: TurnDeps, threadId: string, opening: ThreadOpening, finish: Finish): Promise<boolean> {
  // The opening read the latest checkpoint: the graph's first read of it needs no statement.
  deps.checkpoints?.prime(threadId, opening.latest);
  try {
    return await drainRounds(deps, threadId, opening, finish);
  } finally {
    deps.checkpoints?.forget(threadId);
  }
}

async function drainRounds(deps: TurnDeps, threadId: string, opening: ThreadOpening, finish: Finish): Promise<boolean> {
  // What we know of the thread's graph: read from the checkpoint unless it was left clean, then kept from our own runs.
  let known = opening.clean ? CLEAN : await readThread(deps, threadId);
  let waiting: PendingRow[] | null = opening.pending;
  for (let round = 0; round < 50; round++) {
    const { interrupts, next, turn } = known;
    const interrupt = interrupts[0];
    if (interrupt) {
      // Several tool calls may wait at once; any decided one resumes the run (the guard reads each
      // call's own decision from its approval row, so undecided ones simply wait again).
      let decision: ApprovalResume | null = null;
      for (const i of interrupts) if ((decision = await deps.desk.decisionFor(i.approvalId))) break;
      if (decision) {
        known = await invoke(deps, finish, threadId, turn?.channel ?? 'local', new Command({ resume: decision }), turn);
        waiting = null;
        continue;
      }
    } else if (next.length > 0 && turn) {
      // A run cut short by a crash: resume from its last checkpoint, not from the start.
      deps.logger.info({ thread: threadId, next }, 'resuming an interrupted run');
      known = await invoke(deps, finish, threadId, turn.channel, null, turn, turn.inboundIds);
      waiting = null;
      continue;
    }

    // The opening read what was waiting; after a run or a command of ours, write what it answered and look again.
    if (!waiting) await writeFinish(deps.pool, threadId, finish);
    const batch: PendingRow[] = waiting ?? (await pendingFor(deps.pool, threadId));
    waiting = null;
    // Finished before a crash, not yet marked: never answer twice.
    const finished = batch.filter((r) => turn?.inboundIds.includes(r.id) && next.length === 0 && !interrupt);
    finish.done.push(...finished.map((r) => r.id));
    const open = batch.filter((r) => !finished.includes(r));

    const commands = open.filter((r) => deps.desk.isCommand(r.payload.text) || deps.commands?.match(r.payload.text));
    for (const row of commands) {
      const chat = deps.commands?.match(row.payload.text);
      if (chat) await answerCommand(deps, row.payload, chat);
      else await deps.desk.handleCommand(row.payload);
      finish.done.push(row.id);
    }
    if (commands.length) continue; // a decision here may have unpaused this thread

    const messages = open.filter((r) => !commands.includes(r));
    if (!messages.length) break;
    if (interrupt) {
      await holdWhilePaused(deps, messages, interrupt.approvalId, interrupt.persona);
      break;
    }
    known = await runTurn(deps, finish, threadId, messages.map((r) => r.payload));
    // Messages that arrived during the turn have jobs of their own, queued behind this one: the
    // first of them takes them all as the next turn. Only a paused run needs another look here.
    if (!known.interrupts.length) break;
  }
  return !known.interrupts.length && known.next.length === 0;
}

interface ThreadView {
  interrupts: ApprovalInterrupt[];
  next: string[];
  turn: TurnInfo | null;
}

const CLEAN: ThreadView = { interrupts: [], next: [], turn: null };

async function readThread(deps: TurnDeps, threadId: string): Promise<ThreadView> {
  const state = await deps.graph.getState({ configurable: { thread_id: threadId } });
  const interrupts = state.tasks.flatMap((t) => t.interrupts ?? []).map((i) => i.value).filter(isApprovalInterrupt);
  return { interrupts, next: [...state.next], turn: (state.values as { turn?: TurnInfo | null }).turn ?? null };
}

async function runTurn(deps: TurnDeps, finish: Finish, threadId: string, batch: Envelope[]): Promise<ThreadView> {
  const ids = batch.map((e) => e.id);
  const last = batch.at(-1)!;
  const route = routeBatch(deps.router, batch);
  if (route.unknown.length) {
    const names = route.unknown.map((n) => `@${n}`).join(', ');
    const team = deps.router.personas.list().map((p) => `@${p.id} (${p.role})`).join(', ');
    await deps.outbox.send({
      idempotencyKey: `${ids[0]}:unknown-mention`, channel: last.channel, threadId, role: 'system', replyTo: last.id,
      text: `There is no persona named ${names}. The team is: ${team}.`,
    });
  }
  let view: ThreadView = CLEAN;
  if (route.personas.length) {
    const turn: TurnInfo = { inboundIds: ids, channel: last.channel, threadId, requestedBy: last.author.id };
    const messages = batch.map((e) => new HumanMessage({ id: e.id, content: e.text, name: authorName(e.author.name) }));
    const queue = [...route.personas];
    // Who starts: the first addressed persona with budget left (the graph checks the others as it goes).
    let start: string | undefined;
    while (!start && queue.length) {
      const head = queue.shift()!;
      const spent = await deps.budgetSpent(head);
      if (!spent) start = head;
      else await deps.outbox.send({ idempotencyKey: `${threadId}:notice:${ids[0]}:budget-${head}`, channel: last.channel, threadId, role: 'system', text: spent, replyTo: last.id });
    }
    if (start) {
      // Straight to the first persona: a Command as input saves the graph its START step (a task,
      // its writes and a checkpoint) on every turn.
      const input = new Command({ goto: nodeName(start), update: { messages, start, queue, turns: 1, handoff: null, turn } });
      view = await invoke(deps, finish, threadId, last.channel, input, turn, ids);
    }
  }
  if (view === CLEAN) finish.done.push(...ids);
  return view;
}

/** Runs the graph (a new turn, a resume, or the rest of a crashed run); answers where the thread stands after it. */
async function invoke(deps: TurnDeps, finish: Finish, threadId: string, channel: string, input: unknown, turn: TurnInfo | null, finishes: string[] = []): Promise<ThreadView> {
  const runId = randomUUID();
  const started = performance.now();
  const startedAt = new Date();
  const first = turn?.inboundIds[0] ?? null;
  let outcome = 'ok';
  let error: string | null = null;
  try {
    const result = (await withRun({ runId, persona: 'team' }, () =>
      deps.graph.invoke(input as never, graphConfig(deps, threadId, channel, first ?? undefined, turn?.requestedBy)),
    )) as { __interrupt__?: Array<{ value: unknown }>; turn?: TurnInfo | null };
    const interrupts = (result.__interrupt__ ?? []).map((i) => i.value).filter(isApprovalInterrupt);
    return { interrupts, next: interrupts.length ? ['paused'] : [], turn: result.turn ?? turn };
  } catch (err) {
    outcome = 'error';
    error = (err as Error)?.message ?? String(err);
    // The chat learns that it failed and its reference; the error's text (a database's refusal
    // names tables and values) stays in the log and the run's record.
    const { ref } = reportInternalError(deps.logger, err, { thread: threadId, run: runId }, 'team run failed');
    await deps.outbox.send({
      idempotencyKey: `${threadId}:run-failed:${first ?? runId}`, channel, threadId, role: 'system', replyTo: first ?? undefined,
      text: internalErrorText('The team could not answer', ref),
    });
    return readThread(deps, threadId);
  } finally {
    deps.metrics.runs.inc({ persona: 'team', outcome });
    deps.metrics.runDuration.observe({ persona: 'team' }, (performance.now() - started) / 1000);
    // Written with the drain's end (see writeFinish).
    finish.runs.push({ id: runId, inbound: first, status: outcome === 'ok' ? 'done' : 'failed', startedAt, finishedAt: new Date(), error: error?.slice(0, 2000) ?? null });
    finish.done.push(...finishes);
  }
}

/**
 * Records the drain's runs and marks the messages it answered, and releases the thread's lease
 * when one is held, in one statement. Until it is written, a crash leaves the messages pending;
 * the next drain finds them answered in the checkpoint and only marks them (see drainThread).
 */
async function writeFinish(pool: pg.Pool, threadId: string, finish: Finish, lease?: { owner: string; clean: boolean }): Promise<void> {
  const { runs, done } = finish;
  if (!runs.length && !done.length && !lease) return;
  finish.runs = [];
  finish.done = [];
  const values = [
    done, threadId,
    runs.map((r) => r.id), runs.map((r) => r.inbound), runs.map((r) => r.status),
    runs.map((r) => r.startedAt.toISOString()), runs.map((r) => r.finishedAt.toISOString()), runs.map((r) => r.error),
  ];
  const record = `INSERT INTO runs (id, conversation, persona, inbound_id, status, started_at, finished_at, error)
     SELECT r.id, $2, 'team', r.inbound, r.status, r.started, r.finished, r.error
     FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[]) AS r(id, inbound, status, started, finished, error)`;
  const answered = `finished AS (UPDATE inbound_messages SET status = 'done', processed_at = now() WHERE id = ANY($1::text[]))`;
  if (!lease) {
    await pool.query(statement(pool, 'drain_finish', `WITH ${answered} ${record}`, values));
    return;
  }
  // $9: the lease's owner, $10: whether the thread is left clean.
  await pool.query(statement(pool, 'drain_finish_release',
    `WITH ${answered}, released AS (${releaseSql('$10')} WHERE thread = $2 AND owner = $9) ${record}`,
    [...values, lease.owner, lease.clean],
  ));
}

async function answerCommand(deps: TurnDeps, envelope: Envelope, matched: NonNullable<ReturnType<ChatCommands['match']>>): Promise<void> {
  let text: string;
  try {
    text = await matched.command.run(matched.args, envelope);
  } catch (err) {
    const { ref } = reportInternalError(deps.logger, err, { thread: envelope.threadId, command: matched.command.name }, 'chat command failed');
    text = internalErrorText(`/${matched.command.name} failed`, ref);
  }
  await deps.outbox.send({
    idempotencyKey: `${envelope.id}:command`, channel: envelope.channel, threadId: envelope.threadId, role: 'system', text, replyTo: envelope.id,
  });
}

async function holdWhilePaused(deps: TurnDeps, rows: PendingRow[], approvalId: string, persona: string): Promise<void> {
  for (const row of rows) {
    if (row.status === 'held') continue;
    await deps.pool.query(`UPDATE inbound_messages SET status = 'held' WHERE id = $1`, [row.id]);
    await deps.outbox.send({
      idempotencyKey: `${row.id}:held`, channel: row.payload.channel, threadId: row.payload.threadId, role: 'system', replyTo: row.id,
      text: `${persona} is waiting for approval ${approvalId} in this thread; your message will be answered once it is decided.`,
    });
  }
}

export type { ApprovalResume };
