import { AIMessage, RemoveMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type pg from 'pg';
import { storable } from '../../core/db/storable-text.js';
import { windowStart, type ThreadContext } from './context.js';

/**
 * Where the messages that leave a thread's checkpoint are kept (`transcript_archive`). A thread's
 * checkpoint is saved at every graph step; if it held the whole transcript, a step of a thread of
 * months would serialise and write thousands of messages. So once messages are both folded into
 * the rolling summary (or were left behind by /new) and posted, they move here, and the state
 * keeps only the window models are still sent.
 */
export interface TranscriptArchive {
  /**
   * Keeps `messages` as the thread's messages `first`, `first + 1`... Saving at the same places
   * again replaces them: a step re-run after a crash archives the same places, and with
   * `durability` other than `sync` the re-run's messages (the ones its checkpoint keeps) win.
   */
  save(threadId: string, first: number, messages: readonly BaseMessage[]): Promise<void>;
}

/** A message as the archive keeps it: what the console and an auditor read, not LangChain's class. */
export function archivedMessage(m: BaseMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { type: m.getType(), id: m.id ?? null, content: m.content };
  if (m.name) out.name = m.name;
  if (AIMessage.isInstance(m) && m.tool_calls?.length) out.tool_calls = m.tool_calls.map((c) => ({ id: c.id, name: c.name, args: c.args }));
  if (ToolMessage.isInstance(m)) {
    out.tool_call_id = m.tool_call_id;
    if (m.status) out.status = m.status;
  }
  return storable(out);
}

const SAVE = `INSERT INTO transcript_archive (thread_id, seq, message, tool_call_id)
SELECT $1, $2::int + (m.ord - 1)::int, m.message, m.message->>'tool_call_id'
FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS m(message, ord)
ON CONFLICT (thread_id, seq) DO UPDATE SET message = EXCLUDED.message, tool_call_id = EXCLUDED.tool_call_id, archived_at = EXCLUDED.archived_at`;

export function pgTranscriptArchive(pool: pg.Pool): TranscriptArchive {
  return {
    async save(threadId, first, messages) {
      if (!messages.length) return;
      await pool.query(SAVE, [threadId, first, JSON.stringify(messages.map(archivedMessage))]);
    },
  };
}

/**
 * The archived results of these tool calls of a thread, in the thread's order: what the console
 * shows a tool call with. Each result's text is cut to `chars` (a page shows no more).
 */
export async function archivedToolResults(pool: pg.Pool, threadId: string, callIds: readonly string[], chars = 8000): Promise<unknown[]> {
  if (!callIds.length) return [];
  const { rows } = await pool.query<{ tool_call_id: string; content: string | null; length: number }>(
    `SELECT tool_call_id, left(c, $3) AS content, length(c) AS length
       FROM (SELECT seq, tool_call_id, CASE jsonb_typeof(message->'content') WHEN 'string' THEN message->>'content' ELSE (message->'content')::text END AS c
               FROM transcript_archive WHERE thread_id = $1 AND tool_call_id = ANY($2::text[])) t
      ORDER BY seq`,
    [threadId, callIds, chars],
  );
  return rows.map((r) => ({ tool_call_id: r.tool_call_id, content: r.length > chars ? `${r.content ?? ''}… (${r.length - chars} more characters)` : (r.content ?? '') }));
}

/** What a step takes out of the thread's state: its first `count` messages, and the context that says so. */
export interface Trim {
  count: number;
  /** The messages leaving, to archive first. */
  leaving: BaseMessage[];
  /** Where they go in the whole thread (the archive's `seq` of the first). */
  first: number;
  /** Removes them from the state (the messages reducer deletes by id). */
  removals: RemoveMessage[];
  /** The context with `dropped` counting them. */
  context: ThreadContext;
}

/**
 * What may leave the state now: the messages before the window models are sent (folded into the
 * summary, or before a /new) that are also posted (before the cursor). Nothing when that is none.
 */
export function planTrim(messages: readonly BaseMessage[], cursor: number, context: ThreadContext): Trim | undefined {
  const count = Math.min(cursor, windowStart(context, messages.length));
  if (count <= 0) return undefined;
  const leaving = messages.slice(0, count);
  // Every message in the state has an id (the messages reducer gives one to each); without one it cannot be removed.
  if (leaving.some((m) => !m.id)) return undefined;
  return {
    count,
    leaving,
    first: context.dropped ?? 0,
    removals: leaving.map((m) => new RemoveMessage({ id: m.id! })),
    context: { ...context, dropped: (context.dropped ?? 0) + count },
  };
}
