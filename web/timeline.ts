import type pg from 'pg';
import type { Approval } from '../core/chat/approvals.js';
import { scrubSecrets } from '../core/log.js';

/** One thing that happened in a conversation, as the console shows it (docs/api.md). */
export type TimelineEntry =
  | { kind: 'message'; id: string; at: string; role: 'user' | 'agent' | 'system'; author: string | null; persona: string | null; text: string }
  | { kind: 'handoff'; id: string; at: string; from: string; to: string; message: string; workItem: string | null }
  | {
      kind: 'tool_call';
      id: string;
      at: string;
      persona: string | null;
      tool: string | null;
      args: unknown;
      outcome: string;
      durationMs: number | null;
      approvalId: string | null;
      detail: string | null;
      result: string | null;
      toolCallId: string | null;
    }
  | { kind: 'approval'; id: string; at: string; approval: PublicApproval };

/** An approval as the API shows it. */
export interface PublicApproval {
  id: string;
  persona: string;
  tool: string;
  risk: string;
  args: unknown;
  reason: string | null;
  thread: string;
  platform: string;
  status: string;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
}

export function publicApproval(a: Approval): PublicApproval {
  return {
    id: a.id,
    persona: a.persona,
    tool: a.tool,
    risk: a.risk,
    args: a.args,
    reason: a.reason ?? null,
    thread: a.thread,
    platform: a.platform,
    status: a.status,
    requestedAt: a.requestedAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    decidedBy: a.decidedBy ?? null,
    decidedAt: a.decidedAt?.toISOString() ?? null,
    decisionNote: a.decisionNote ?? null,
  };
}

/** Tool calls' results by tool call id, read from the thread's transcript (archived, then the latest checkpoint). */
export type ToolResults = (thread: string, callIds: readonly string[]) => Promise<Map<string, string>>;

const RESULT_CHARS = 4000;

/**
 * What happened in a thread, from where each part is recorded: the local chat's transcript
 * (`chat_messages`), or another platform's inbound messages and the team's posts (`outbox`);
 * handoffs; audited tool calls (with their results from the transcript); approvals. Oldest
 * first; `since` keeps what happened at or after a time (a live view's next look).
 */
export async function threadTimeline(pool: pg.Pool, thread: string, opts: { limit: number; since?: Date; results?: ToolResults }): Promise<TimelineEntry[]> {
  const since = opts.since ?? new Date(0);
  const { limit } = opts;
  const local = thread.startsWith('local:') ? thread.slice('local:'.length) : null;
  const [messages, handoffs, calls, approvals] = await Promise.all([
    local !== null
      ? pool.query<{ id: string; at: Date; role: string; author: string | null; persona: string | null; text: string | null }>(
          `SELECT * FROM (SELECT id, created_at AS at, role, author, persona, text, seq FROM chat_messages
             WHERE conversation = $1 AND created_at >= $2 ORDER BY seq DESC LIMIT $3) m ORDER BY seq`,
          [local, since, limit],
        )
      : pool.query<{ id: string; at: Date; role: string; author: string | null; persona: string | null; text: string | null }>(
          `SELECT * FROM (
             SELECT 'in:' || id AS id, received_at AS at, 'user' AS role, coalesce(payload -> 'author' ->> 'name', author) AS author, NULL AS persona, text
               FROM inbound_messages WHERE conversation = $1 AND received_at >= $2
             UNION ALL
             SELECT 'out:' || idempotency_key, created_at, coalesce(payload ->> 'role', 'agent'), persona, persona, payload ->> 'text'
               FROM outbox WHERE conversation = $1 AND created_at >= $2 AND NOT (payload ? 'replaces')
             ORDER BY at DESC LIMIT $3) m ORDER BY at`,
          [thread, since, limit],
        ),
    pool.query<{ tool_call_id: string; at: Date; from_persona: string; to_persona: string; message: string; work_item_id: string | null }>(
      'SELECT tool_call_id, at, from_persona, to_persona, message, work_item_id FROM handoffs WHERE thread = $1 AND at >= $2 ORDER BY at DESC LIMIT $3',
      [thread, since, limit],
    ),
    pool.query<{
      id: string;
      at: Date;
      persona: string | null;
      tool: string | null;
      args: unknown;
      outcome: string;
      duration_ms: number | null;
      approval_id: string | null;
      detail: string | null;
      tool_call_id: string | null;
    }>(
      `SELECT id, at, persona, tool, args, outcome, duration_ms, approval_id, detail, tool_call_id FROM audit_log
        WHERE thread = $1 AND kind = 'tool_call' AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3`,
      [thread, since, limit],
    ),
    pool.query<{
      id: string;
      persona: string;
      tool: string;
      risk: string;
      args: unknown;
      reason: string | null;
      platform: string;
      status: string;
      requested_at: Date;
      expires_at: Date;
      decided_by: string | null;
      decided_at: Date | null;
      decision_note: string | null;
    }>(
      // Every approval of the thread, whatever its time: a live view shows a decision when it comes.
      `SELECT id, persona, tool, risk, args, reason, platform, status, requested_at, expires_at, decided_by, decided_at, decision_note
         FROM approvals WHERE thread = $1 ORDER BY requested_at DESC LIMIT $2`,
      [thread, limit],
    ),
  ]);
  const needResults = opts.results && calls.rows.some((c) => c.tool_call_id);
  const results = needResults
    ? await opts.results!(
        thread,
        calls.rows.flatMap((c) => (c.tool_call_id ? [c.tool_call_id] : [])),
      ).catch(() => new Map<string, string>())
    : new Map<string, string>();
  const entries: TimelineEntry[] = [
    ...messages.rows.map(
      (m): TimelineEntry => ({
        kind: 'message',
        id: `m:${m.id}`,
        at: iso(m.at),
        role: m.role === 'user' || m.role === 'system' ? m.role : 'agent',
        author: m.author,
        persona: m.persona,
        text: m.text ?? '',
      }),
    ),
    ...handoffs.rows.map((h): TimelineEntry => ({ kind: 'handoff', id: `h:${h.tool_call_id}`, at: iso(h.at), from: h.from_persona, to: h.to_persona, message: h.message, workItem: h.work_item_id })),
    ...calls.rows.map(
      (c): TimelineEntry => ({
        kind: 'tool_call',
        id: `t:${c.id}`,
        at: iso(c.at),
        persona: c.persona,
        tool: c.tool,
        args: c.args,
        outcome: c.outcome,
        durationMs: c.duration_ms,
        approvalId: c.approval_id,
        detail: c.detail,
        result: (c.tool_call_id && results.get(c.tool_call_id)) ?? null,
        toolCallId: c.tool_call_id,
      }),
    ),
    ...approvals.rows.map(
      (a): TimelineEntry => ({
        kind: 'approval',
        id: `a:${a.id}`,
        at: iso(a.requested_at),
        approval: {
          id: a.id,
          persona: a.persona,
          tool: a.tool,
          risk: a.risk,
          args: a.args,
          reason: a.reason,
          thread,
          platform: a.platform,
          status: a.status,
          requestedAt: iso(a.requested_at),
          expiresAt: iso(a.expires_at),
          decidedBy: a.decided_by,
          decidedAt: a.decided_at ? iso(a.decided_at) : null,
          decisionNote: a.decision_note,
        },
      }),
    ),
  ];
  entries.sort((a, b) => a.at.localeCompare(b.at) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  return entries.slice(-limit);
}

/** At the same instant: what was said, then the call it led to, then its approval. */
const KIND_ORDER: Record<TimelineEntry['kind'], number> = { message: 0, handoff: 1, approval: 2, tool_call: 3 };

/**
 * Tool results from the thread's transcript (archived, then the latest checkpoint's), each tool
 * message keyed by its tool call id, cut to a size a page can show, secrets scrubbed.
 */
export function resultsFromTranscript(read: (thread: string, callIds: readonly string[]) => Promise<unknown[] | undefined>): ToolResults {
  return async (thread, callIds) => {
    const results = new Map<string, string>();
    for (const message of (await read(thread, callIds)) ?? []) {
      const m = message as { tool_call_id?: unknown; content?: unknown };
      if (typeof m?.tool_call_id !== 'string') continue;
      const text = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
      results.set(m.tool_call_id, scrubSecrets(text.length > RESULT_CHARS ? `${text.slice(0, RESULT_CHARS)}… (${text.length - RESULT_CHARS} more characters)` : text));
    }
    return results;
  };
}

function iso(d: Date | string): string {
  return new Date(d).toISOString();
}
