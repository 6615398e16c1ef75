import { Command } from '@langchain/langgraph';
import { HumanMessage } from '@langchain/core/messages';
import type { Envelope } from '../../core/chat/types.js';
import { nodeName } from '../graph/team-graph.js';
import type { TurnInfo } from '../graph/state.js';
import { authorName } from '../message-text.js';
import { routeBatch } from '../router.js';
import type { Step } from './chain.js';
import { runGraph } from './graph-run.js';
import { CLEAN, type Round, type ThreadView } from './round.js';
import { answered } from './thread-sql.js';

/**
 * The end of the chain: every message still waiting goes to ONE new turn, started at the first
 * persona they address that has budget left. Messages that arrive during the turn have jobs of
 * their own, queued behind this one: the first of them takes them all as the next turn. Only a
 * run that paused needs another look in this drain.
 */
export const route: Step<Round> = async (r) => {
  if (!r.rows.length) return;
  r.view = await startTurn(
    r,
    r.rows.map((row) => row.payload),
  );
  r.again = r.view.interrupts.length > 0;
};

async function startTurn(r: Round, batch: Envelope[]): Promise<ThreadView> {
  const { deps, thread: threadId, finish } = r;
  const ids = batch.map((e) => e.id);
  const last = batch.at(-1)!;
  const route = routeBatch(deps.router, batch);
  if (route.unknown.length) {
    const names = route.unknown.map((n) => `@${n}`).join(', ');
    const team = deps.router.personas
      .list()
      .map((p) => `@${p.id} (${p.role})`)
      .join(', ');
    await deps.outbox.send({
      idempotencyKey: `${ids[0]}:unknown-mention`,
      platform: last.platform,
      threadId,
      role: 'system',
      replyTo: last.id,
      text: `There is no persona named ${names}. The team is: ${team}.`,
    });
  }
  let view: ThreadView = CLEAN;
  /** Every persona addressed has spent its budget: nobody answers, and the messages say so. */
  let unanswered: string | null = null;
  if (route.personas.length) {
    const turn: TurnInfo = { inboundIds: ids, platform: last.platform, threadId, requestedBy: last.author.id };
    const messages = batch.map((e) => new HumanMessage({ id: e.id, content: e.text, name: authorName(e.author.name) }));
    const queue = [...route.personas];
    // Who starts: the first addressed persona with budget left (the graph checks the others as it goes).
    let start: string | undefined;
    let spent: string | null = null;
    while (!start && queue.length) {
      const head = queue.shift()!;
      spent = await deps.budgetSpent(head);
      if (!spent) start = head;
      else await deps.outbox.send({ idempotencyKey: `${threadId}:notice:${ids[0]}:budget-${head}`, platform: last.platform, threadId, role: 'system', text: spent, replyTo: last.id });
    }
    if (!start) unanswered = spent;
    if (start) {
      // Straight to the first persona: a Command as input saves the graph its START step (a task,
      // its writes and a checkpoint) on every turn.
      const input = new Command({ goto: nodeName(start), update: { messages, start, queue, turns: 1, handoff: null, turn } });
      view = await runGraph(r, last.platform, input, turn, ids);
    }
  }
  if (view === CLEAN) answered(finish, ids, unanswered ? { status: 'failed', error: unanswered } : { status: 'done' });
  return view;
}
