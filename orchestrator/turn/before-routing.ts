import { Command } from '@langchain/langgraph';
import type { MatchedCommand } from '../../core/chat/commands.js';
import type { Envelope } from '../../core/chat/types.js';
import { internalErrorText, reportInternalError } from '../../core/internal-error.js';
import type { ApprovalResume } from '../approvals/types.js';
import type { Next, Step } from './chain.js';
import { runGraph } from './graph-run.js';
import type { Round } from './round.js';
import { answered } from './thread-sql.js';

/**
 * Everything before routing, in order: first the thread's own graph (a decided approval, a
 * crashed run), then what waits in it (read, already answered, commands, held while paused).
 * Each step handles the look (and says whether the thread needs another) or passes it on with
 * `next()`; what is left is routed (route.ts).
 */
export const beforeRouting: Step<Round>[] = [approvalDecided, crashedRun, waiting, answeredBeforeCrash, commands, paused];

/**
 * A run whose approval was decided resumes with the decision. Several tool calls may wait at
 * once; any decided one resumes the run (the guard reads each call's own decision from its
 * approval row, so undecided ones simply wait again). The turn's messages, marked paused, are
 * marked again as the resumed run ends.
 */
async function approvalDecided(r: Round, next: Next): Promise<void> {
  const { interrupts, turn } = r.view;
  if (!interrupts.length) return next();
  let decision: ApprovalResume | null = null;
  for (const i of interrupts) if ((decision = await r.deps.desk.decisionFor(i.approvalId))) break;
  if (!decision) return next();
  r.view = await runGraph(r, turn?.platform ?? 'local', new Command({ resume: decision }), turn, turn?.inboundIds);
  ranGraph(r);
}

/** A run cut short by a crash resumes from its last checkpoint, not from the start. */
async function crashedRun(r: Round, next: Next): Promise<void> {
  const { interrupts, next: nodes, turn } = r.view;
  if (interrupts.length || !nodes.length || !turn) return next();
  r.deps.logger.info({ thread: r.thread, next: nodes }, 'resuming an interrupted run');
  r.view = await runGraph(r, turn.platform, null, turn, turn.inboundIds);
  ranGraph(r);
}

/**
 * What waits in the thread: as its opening read it on the first look; after a run or a command
 * of ours, read again once what they answered is written (so it is not read as waiting).
 */
async function waiting(r: Round, next: Next): Promise<void> {
  let rows = r.opened;
  r.opened = null;
  if (!rows) {
    await r.sql.finish(r.thread, r.finish);
    rows = await r.sql.pending(r.thread);
  }
  r.rows = rows;
  return next();
}

/** Messages a run answered before a crash, before the drain could mark them: marked now, never answered twice. */
function answeredBeforeCrash(r: Round, next: Next): Promise<void> {
  const { interrupts, next: nodes, turn, failure } = r.view;
  if (turn && !nodes.length && !interrupts.length) {
    const before = r.rows.filter((row) => turn.inboundIds.includes(row.id));
    if (before.length) {
      answered(
        r.finish,
        before.map((row) => row.id),
        failure ? { status: 'failed', error: failure } : { status: 'done' },
      );
      r.rows = r.rows.filter((row) => !before.includes(row));
    }
  }
  return next();
}

/**
 * Chat commands (`/status`, `/cancel <job>`, `approve <id>` / `deny <id>`...: the one registry,
 * core/chat/commands.ts) are answered here, in the order they arrived, never by a model. Then the
 * thread is looked at again: a decision may have unpaused it, and the messages beside the
 * commands wait for that look.
 */
async function commands(r: Round, next: Next): Promise<void> {
  const asked = r.rows.flatMap((row) => {
    const matched = r.deps.commands.match(row.payload.text);
    return matched ? [{ row, matched }] : [];
  });
  if (!asked.length) return next();
  for (const { row, matched } of asked) {
    await answerCommand(r, row.payload, matched);
    r.finish.done.push(row.id);
  }
  r.again = true;
}

/** A thread paused on an approval holds new messages (and says so, once each) until it is decided. */
async function paused(r: Round, next: Next): Promise<void> {
  const interrupt = r.view.interrupts[0];
  if (!interrupt || !r.rows.length) return next();
  for (const row of r.rows) {
    if (row.status === 'held') continue;
    await r.sql.hold(row.id);
    await r.deps.outbox.send({
      idempotencyKey: `${row.id}:held`,
      platform: row.payload.platform,
      threadId: row.payload.threadId,
      role: 'system',
      replyTo: row.id,
      text: `${interrupt.persona} is waiting for approval ${interrupt.approvalId} in this thread; your message will be answered once it is decided.`,
    });
  }
}

/** The graph ran: what the opening read is stale, and the thread needs another look. */
function ranGraph(r: Round): void {
  r.opened = null;
  r.again = true;
}

async function answerCommand(r: Round, envelope: Envelope, matched: MatchedCommand): Promise<void> {
  let text: string;
  try {
    text = await matched.command.run(matched.args, envelope);
  } catch (err) {
    const { ref } = reportInternalError(r.deps.logger, err, { thread: envelope.threadId, command: matched.command.name }, 'chat command failed');
    text = internalErrorText(`/${matched.command.name} failed`, ref);
  }
  await r.deps.outbox.send({
    idempotencyKey: `${envelope.id}:command`,
    platform: envelope.platform,
    threadId: envelope.threadId,
    role: 'system',
    text,
    replyTo: envelope.id,
  });
}
