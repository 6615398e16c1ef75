import type pg from 'pg';
import type { Clock } from '../../core/clock/index.js';
import type { RiskClass } from '../../core/config/policy.js';
import { newApprovalId, normaliseApprovalId } from './id.js';
import type { Approval, ApprovalRequest, ApprovalStatus, DecideResult } from './types.js';

interface ApprovalRow {
  id: string;
  tool_call_id: string;
  thread: string;
  platform: string;
  persona: string;
  tool: string;
  args: unknown;
  reason: string | null;
  risk: string;
  status: ApprovalStatus;
  requested_at: Date;
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  run_id: string | null;
  inbound_id: string | null;
  same_call?: boolean;
}

const COLUMNS = `id, tool_call_id, thread, platform, persona, tool, args, reason, risk, status, requested_at,
  expires_at, decided_by, decided_at, decision_note, run_id, inbound_id`;

/** Attempts at finding an unused short id before giving up (each clash is 1 in millions). */
const ID_ATTEMPTS = 8;

/**
 * Approval requests in the `approvals` table (migration 0006). Every state change is one
 * conditional statement, so two approvers answering at once, or an answer racing the expiry,
 * settle on exactly one outcome. Times come from the database clock, or from a test's controlled
 * clock (`PANTHEON_TEST_CLOCK`), which is then passed as `$now`.
 */
export class ApprovalStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock?: Clock,
  ) {}

  /** The time to pass where the statement says `COALESCE($n::timestamptz, now())`: null means the database's. */
  private now(): Date | null {
    return this.clock?.controlled ? this.clock.now() : null;
  }

  /**
   * The approval for this tool call: created on the first ask, the same row on every later
   * ask (a resumed or replayed run). A tool call id already used by a different call (another
   * thread, tool or arguments: some model servers number calls `call_0`, `call_1`, ...) is
   * refused rather than answered with someone else's approval.
   */
  async request(req: ApprovalRequest): Promise<Approval> {
    const args = JSON.stringify(req.args ?? null);
    for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
      try {
        const inserted = await this.pool.query<ApprovalRow>(
          `INSERT INTO approvals (id, tool_call_id, thread, platform, persona, tool, args, reason, risk, run_id, inbound_id, requested_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, COALESCE($13::timestamptz, now()), COALESCE($13::timestamptz, now()) + ($12::float8 * interval '1 minute'))
           ON CONFLICT (tool_call_id) DO NOTHING
           RETURNING ${COLUMNS}`,
          [newApprovalId(), req.toolCallId, req.thread, req.platform, req.persona, req.tool, args, req.reason ?? null, req.risk, req.runId, req.inboundId ?? null, req.ttlMinutes, this.now()],
        );
        if (inserted.rows[0]) return toApproval(inserted.rows[0]);
      } catch (err) {
        if (isIdClash(err)) continue;
        throw err;
      }
      const { rows } = await this.pool.query<ApprovalRow>(
        `SELECT ${COLUMNS}, (thread = $2 AND tool = $3 AND persona = $4 AND args IS NOT DISTINCT FROM $5::jsonb) AS same_call
         FROM approvals WHERE tool_call_id = $1`,
        [req.toolCallId, req.thread, req.tool, req.persona, args],
      );
      const existing = rows[0];
      if (!existing) continue; // deleted between the two statements: ask again
      if (!existing.same_call) {
        throw new Error(
          `tool call id "${req.toolCallId}" was already used by another call (approval ${existing.id}, ${existing.persona}'s ${existing.tool} in ${existing.thread}); ` +
            'the model server reuses tool call ids, so this call cannot be approved safely',
        );
      }
      return toApproval(existing);
    }
    throw new Error(`could not find an unused approval id after ${ID_ATTEMPTS} attempts`);
  }

  async get(id: string): Promise<Approval | undefined> {
    const { rows } = await this.pool.query<ApprovalRow>(`SELECT ${COLUMNS} FROM approvals WHERE id = $1`, [normaliseApprovalId(id)]);
    return rows[0] ? toApproval(rows[0]) : undefined;
  }

  async getByToolCall(toolCallId: string): Promise<Approval | undefined> {
    const { rows } = await this.pool.query<ApprovalRow>(`SELECT ${COLUMNS} FROM approvals WHERE tool_call_id = $1`, [toolCallId]);
    return rows[0] ? toApproval(rows[0]) : undefined;
  }

  /**
   * Records a human's answer, once: only a pending, unexpired request changes. The loser of a
   * race learns why (`already_decided`, `expired`), and an overdue request is marked expired.
   */
  async decide(id: string, answer: { approved: boolean; by: string; note?: string }): Promise<DecideResult> {
    const key = normaliseApprovalId(id);
    const { rows } = await this.pool.query<ApprovalRow>(
      `UPDATE approvals
       SET status = $2, decided_by = $3, decided_at = COALESCE($5::timestamptz, now()), decision_note = $4
       WHERE id = $1 AND status = 'pending' AND expires_at > COALESCE($5::timestamptz, now())
       RETURNING ${COLUMNS}`,
      [key, answer.approved ? 'approved' : 'denied', answer.by, answer.note ?? null, this.now()],
    );
    if (rows[0]) return { ok: true, approval: toApproval(rows[0]) };
    const expired = await this.pool.query<ApprovalRow>(
      `UPDATE approvals SET status = 'expired', decided_by = 'system', decided_at = COALESCE($2::timestamptz, now())
       WHERE id = $1 AND status = 'pending' AND expires_at <= COALESCE($2::timestamptz, now()) RETURNING ${COLUMNS}`,
      [key, this.now()],
    );
    if (expired.rows[0]) return { ok: false, reason: 'expired', approval: toApproval(expired.rows[0]) };
    const current = await this.get(key);
    if (!current) return { ok: false, reason: 'unknown' };
    return { ok: false, reason: current.status === 'expired' ? 'expired' : 'already_decided', approval: current };
  }

  /** Marks every overdue pending request expired and returns them (their runs resume with a refusal). */
  async expireDue(): Promise<Approval[]> {
    const { rows } = await this.pool.query<ApprovalRow>(
      `UPDATE approvals SET status = 'expired', decided_by = 'system', decided_at = COALESCE($1::timestamptz, now())
       WHERE status = 'pending' AND expires_at <= COALESCE($1::timestamptz, now()) RETURNING ${COLUMNS}`,
      [this.now()],
    );
    return rows.map(toApproval).sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime());
  }

  /** Every open request, oldest first (at most `limit`). */
  async pending(limit = 100): Promise<Approval[]> {
    const { rows } = await this.pool.query<ApprovalRow>(`SELECT ${COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at > now() ORDER BY requested_at, id LIMIT $1`, [limit]);
    return rows.map(toApproval);
  }

  /**
   * For the console: open requests (oldest first) or decided and expired ones (newest decision
   * first), each with who wrote the message whose run asked (the inbound message's author).
   */
  async list(q: { pending: boolean; thread?: string; limit: number }): Promise<ListedApproval[]> {
    const params: unknown[] = [q.limit];
    let where = q.pending ? `a.status = 'pending' AND a.expires_at > now()` : `a.status <> 'pending'`;
    if (q.thread) {
      params.push(q.thread);
      where += ` AND a.thread = $${params.length}`;
    }
    const cols = COLUMNS.split(',')
      .map((c) => `a.${c.trim()}`)
      .join(', ');
    const { rows } = await this.pool.query<ApprovalRow & { asked_by_id: string | null; asked_by_name: string | null }>(
      `SELECT ${cols}, i.author AS asked_by_id, i.payload -> 'author' ->> 'name' AS asked_by_name
         FROM approvals a LEFT JOIN inbound_messages i ON i.id = a.inbound_id
        WHERE ${where}
        ORDER BY ${q.pending ? 'a.requested_at, a.id' : 'a.decided_at DESC NULLS LAST, a.id'} LIMIT $1`,
      params,
    );
    return rows.map((r) => ({ ...toApproval(r), askedBy: r.asked_by_id === null ? null : { id: r.asked_by_id, name: r.asked_by_name ?? r.asked_by_id } }));
  }

  /** The table's latest change (a request made, decided or expired) and how many wait: one small query. */
  async version(): Promise<{ version: string; pending: number }> {
    const { rows } = await this.pool.query<{ changed: Date | null; n: number; pending: number }>(
      `SELECT max(GREATEST(requested_at, decided_at)) AS changed, count(*)::int AS n,
              count(*) FILTER (WHERE status = 'pending' AND expires_at > COALESCE($1::timestamptz, now()))::int AS pending
         FROM approvals`,
      [this.now()],
    );
    const r = rows[0]!;
    return { version: `${r.changed?.toISOString() ?? '-'}/${r.n}/${r.pending}`, pending: r.pending };
  }

  /** Open requests in a thread, oldest first. */
  async pendingForThread(thread: string): Promise<Approval[]> {
    const { rows } = await this.pool.query<ApprovalRow>(
      `SELECT ${COLUMNS} FROM approvals WHERE thread = $1 AND status = 'pending' AND expires_at > COALESCE($2::timestamptz, now()) ORDER BY requested_at, id`,
      [thread, this.now()],
    );
    return rows.map(toApproval);
  }
}

/** An approval as the console lists it: with who wrote the message whose run asked (a platform user id and name). */
export type ListedApproval = Approval & { askedBy: { id: string; name: string } | null };

/** A unique violation on the short id (not on the tool call id, which ON CONFLICT absorbs). */
function isIdClash(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e.code === '23505' && (e.constraint === 'approvals_pkey' || /approvals_pkey/.test(String(e.message)));
}

function toApproval(r: ApprovalRow): Approval {
  return {
    id: r.id,
    toolCallId: r.tool_call_id,
    thread: r.thread,
    platform: r.platform,
    persona: r.persona,
    tool: r.tool,
    args: r.args,
    reason: r.reason ?? undefined,
    risk: r.risk as RiskClass,
    status: r.status,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    decidedBy: r.decided_by ?? undefined,
    decidedAt: r.decided_at ?? undefined,
    decisionNote: r.decision_note ?? undefined,
    runId: r.run_id ?? undefined,
    inboundId: r.inbound_id ?? undefined,
  };
}
