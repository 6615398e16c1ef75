import type pg from 'pg';
import { maskArgs, maskString } from './mask.js';

export type AuditKind = 'tool_call' | 'approval_decision';
export const AUDIT_KINDS: readonly AuditKind[] = ['tool_call', 'approval_decision'];

/**
 * How a tool call or a decision ended. The common ones are named; others are allowed so a
 * new kind of refusal does not need a migration.
 */
type AuditOutcome = 'ok' | 'error' | 'denied' | 'refused_by_policy' | 'expired' | 'approved' | 'denied_by_human' | (string & {});

/** One row of the audit log, as read back. `args` are already masked. */
export interface AuditEntry {
  id: number;
  at: Date;
  kind: AuditKind;
  persona: string | null;
  thread: string | null;
  tool: string | null;
  args: unknown;
  outcome: AuditOutcome;
  approvalId: string | null;
  durationMs: number | null;
  /** Who decided, for approval decisions. */
  actor: string | null;
  detail: string | null;
  /** The model's id of the tool call (entries written since migration 0025). */
  toolCallId: string | null;
}

export interface ToolCallRecord {
  persona: string;
  thread: string;
  tool: string;
  /** Raw arguments: masked here before they are stored. */
  args: unknown;
  outcome: AuditOutcome;
  approvalId?: string;
  durationMs: number;
  detail?: string;
  /** The model's id of the call: links the entry to the call's result in the thread's transcript. */
  toolCallId?: string;
  /** Argument names this tool declares secret, masked in addition to the secret-looking ones. */
  secretArgNames?: readonly string[];
}

export interface DecisionRecord {
  approvalId: string;
  persona: string;
  thread: string;
  tool: string;
  /** The human who decided (or `system` for an expiry). */
  actor: string;
  outcome: AuditOutcome;
  detail?: string;
}

export interface AuditQuery {
  persona?: string;
  tool?: string;
  thread?: string;
  kind?: AuditKind;
  outcome?: string;
  approvalId?: string;
  since?: Date;
  /** Entries before this time. */
  until?: Date;
  /** Entries after this id (newest first still): what a live view has not seen yet. */
  afterId?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;
/** Longest `detail` kept (error messages can carry whole upstream bodies). */
const MAX_DETAIL_CHARS = 2000;

interface AuditRow {
  id: string;
  at: Date;
  kind: AuditKind;
  persona: string | null;
  thread: string | null;
  tool: string | null;
  args: unknown;
  outcome: string;
  approval_id: string | null;
  duration_ms: number | null;
  actor: string | null;
  detail: string | null;
  tool_call_id: string | null;
}

const COLUMNS = 'id, at, kind, persona, thread, tool, args, outcome, approval_id, duration_ms, actor, detail, tool_call_id';

/**
 * The append-only record of what the team did (tool calls) and what humans allowed
 * (approval decisions). Each write is one INSERT; the table refuses UPDATE, DELETE and
 * TRUNCATE (migration 0005), so an entry, once written, is history.
 */
export class AuditLog {
  constructor(private readonly pool: pg.Pool) {}

  async recordToolCall(r: ToolCallRecord): Promise<AuditEntry> {
    return this.insert({
      kind: 'tool_call',
      persona: r.persona,
      thread: r.thread,
      tool: r.tool,
      args: maskArgs(r.args ?? null, r.secretArgNames),
      outcome: r.outcome,
      approvalId: r.approvalId ?? null,
      durationMs: Math.max(0, Math.round(r.durationMs)),
      actor: null,
      detail: r.detail ?? null,
      toolCallId: r.toolCallId ?? null,
    });
  }

  async recordDecision(r: DecisionRecord): Promise<AuditEntry> {
    return this.insert({
      kind: 'approval_decision',
      persona: r.persona,
      thread: r.thread,
      tool: r.tool,
      args: null,
      outcome: r.outcome,
      approvalId: r.approvalId,
      durationMs: null,
      actor: r.actor,
      detail: r.detail ?? null,
      toolCallId: null,
    });
  }

  /** Matching entries, newest first. */
  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.persona) add('persona = ?', q.persona);
    if (q.tool) add('tool = ?', q.tool);
    if (q.thread) add('thread = ?', q.thread);
    if (q.kind) add('kind = ?', q.kind);
    if (q.outcome) add('outcome = ?', q.outcome);
    if (q.approvalId) add('approval_id = ?', q.approvalId);
    if (q.since) add('at >= ?', q.since);
    if (q.until) add('at < ?', q.until);
    if (q.afterId !== undefined) add('id > ?', q.afterId);
    const limit = clampLimit(q.limit);
    params.push(limit);
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }

  private async insert(e: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry> {
    const { rows } = await this.pool.query<AuditRow>(
      `INSERT INTO audit_log (kind, persona, thread, tool, args, outcome, approval_id, duration_ms, actor, detail, tool_call_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
      [
        e.kind,
        e.persona,
        e.thread,
        e.tool,
        e.args === null || e.args === undefined ? null : JSON.stringify(e.args),
        e.outcome,
        e.approvalId,
        e.durationMs,
        e.actor,
        e.detail === null ? null : maskString(e.detail, MAX_DETAIL_CHARS),
        e.toolCallId,
      ],
    );
    return toEntry(rows[0]!);
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_AUDIT_LIMIT;
  return Math.min(Math.max(Math.trunc(limit), 1), MAX_AUDIT_LIMIT);
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: r.at,
    kind: r.kind,
    persona: r.persona,
    thread: r.thread,
    tool: r.tool,
    args: r.args,
    outcome: r.outcome,
    approvalId: r.approval_id,
    durationMs: r.duration_ms,
    actor: r.actor,
    detail: r.detail,
    toolCallId: r.tool_call_id,
  };
}
