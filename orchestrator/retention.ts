import type pg from 'pg';
import type { RetentionConfig } from '../core/config/schema.js';
import { fenced, fenceParams, type Fence } from '../core/leases/index.js';
import type { Logger } from '../core/log.js';

/** What one kind of record retention removes (or would remove, in a dry run). */
export interface PruneCount {
  kind: PruneKind;
  /** Rows (files: workspaces) removed or due. */
  count: number;
  /** Their size: rows as Postgres stores them (pg_column_size), workspaces on disk. */
  bytes: number;
  /** The rule: `retention.jobLogDays: older than 30 days`, `retention.auditDays: keep`. */
  rule: string;
}

const PRUNE_KINDS = ['checkpoints', 'checkpoint_writes', 'audit', 'transcripts', 'job_logs', 'workspaces'] as const;
type PruneKind = (typeof PRUNE_KINDS)[number];

/** A table's rows that one retention rule selects: `o` is the row, `$1` the rule's days. */
interface RowRule {
  kind: Exclude<PruneKind, 'workspaces'>;
  table: string;
  where: string;
  /** retention.* days for the rule, or null when the rule always applies. */
  days: number | 'keep' | null;
  field?: string;
  /** Set for the statement alone, so the audit trigger lets the deletion through. */
  bypassAuditGuard?: boolean;
}

/** Threads whose work is over: every work item from them ended (done, merged) more than $1 days ago, none waits for an approval. */
const FINISHED_THREADS = `SELECT w.origin_thread AS thread FROM work_items w WHERE w.origin_thread IS NOT NULL GROUP BY w.origin_thread
  HAVING bool_and(w.state IN ('done', 'merged')) AND max(w.updated_at) < now() - $1 * interval '1 day'
     AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.thread = w.origin_thread AND a.status = 'pending')`;

/** Only what resuming does not need: a checkpoint before its thread's latest (per namespace), and its writes. */
const SUPERSEDED = `o.checkpoint_id < (SELECT max(m.checkpoint_id) FROM graph_checkpoints m WHERE m.thread_id = o.thread_id AND m.checkpoint_ns = o.checkpoint_ns)`;

function rules(policy: RetentionConfig): RowRule[] {
  const transcripts = (table: string, column: string, at: string, extra = '') => ({
    kind: 'transcripts' as const,
    table,
    where: `${column} IN (SELECT thread FROM finished) AND ${at} < now() - $1 * interval '1 day'${extra}`,
    days: policy.transcriptDays,
    field: 'retention.transcriptDays',
  });
  return [
    { kind: 'checkpoint_writes', table: 'graph_writes', where: SUPERSEDED, days: null },
    { kind: 'checkpoints', table: 'graph_checkpoints', where: SUPERSEDED, days: null },
    { kind: 'audit', table: 'audit_log', where: `o.at < now() - $1 * interval '1 day'`, days: policy.auditDays, field: 'retention.auditDays', bypassAuditGuard: true },
    transcripts('inbound_messages', 'o.conversation', 'o.received_at', ` AND o.status IN ('done', 'failed')`),
    transcripts('outbox', 'o.conversation', 'o.created_at', ` AND o.status <> 'pending'`),
    // The local chat keeps its transcript by bare conversation name.
    transcripts('chat_messages', `'local:' || o.conversation`, 'o.created_at'),
    transcripts('runs', 'o.conversation', 'o.started_at'),
    // The messages that left a thread's checkpoint (orchestrator/graph/trim.ts).
    transcripts('transcript_archive', 'o.thread_id', 'o.archived_at'),
    {
      kind: 'job_logs',
      table: 'infra_job_logs',
      where: `o.job_id IN (SELECT j.id FROM infra_jobs j WHERE j.finished_at < now() - $1 * interval '1 day')`,
      days: policy.jobLogDays,
      field: 'retention.jobLogDays',
    },
  ];
}

const plural = (n: number | 'keep') => (n === 1 ? '1 day' : `${n} days`);

/**
 * Retention of the database's records: superseded graph checkpoints (always; what resuming needs
 * stays), and by `retention:` in pantheon.yaml audit entries (kept by default), the transcripts of
 * finished work and infra job logs. With `dryRun` nothing is removed: the counts and bytes are what
 * would be. One statement per table; the audit trigger lets only this statement's deletions through.
 * With `fence` (the periodic pass, under the `retention` lease) a statement deletes only while that
 * lease is still held by the fence's token.
 */
export async function pruneRecords(pool: pg.Pool, policy: RetentionConfig, opts: { dryRun: boolean; fence?: Fence }): Promise<PruneCount[]> {
  const totals = new Map<PruneKind, PruneCount>();
  for (const rule of rules(policy)) {
    const count = totals.get(rule.kind) ?? {
      kind: rule.kind,
      count: 0,
      bytes: 0,
      rule: rule.days === null ? 'superseded by a later checkpoint' : rule.days === 'keep' ? `${rule.field}: keep` : `${rule.field}: older than ${plural(rule.days)}`,
    };
    totals.set(rule.kind, count);
    if (rule.days === 'keep') continue;
    // `$1` is the rule's days.
    const days = (sql: string) => sql.replaceAll('$1', '$1::float8');
    const finished = rule.kind === 'transcripts' ? `finished AS (${days(FINISHED_THREADS)}), ` : '';
    const guard = rule.bypassAuditGuard && !opts.dryRun ? `guard AS (SELECT set_config('pantheon.audit_retention', 'on', true) AS flag), ` : '';
    let where = days(guard ? `${rule.where} AND (SELECT flag FROM guard) = 'on'` : rule.where);
    const params: unknown[] = `${finished}${where}`.includes('$1') ? [rule.days ?? 0] : [];
    // The periodic pass deletes only while the retention lease is still its process's: a stale owner's statement removes nothing.
    if (opts.fence && !opts.dryRun) {
      where = `${where} AND ${fenced(params.length + 1)}`;
      params.push(...fenceParams(opts.fence));
    }
    const sql = opts.dryRun
      ? `WITH ${finished}d AS (SELECT pg_column_size(o.*) AS b FROM ${rule.table} o WHERE ${where}) SELECT count(*)::int AS n, coalesce(sum(b), 0)::bigint AS bytes FROM d`
      : `WITH ${finished}${guard}d AS (DELETE FROM ${rule.table} o WHERE ${where} RETURNING pg_column_size(o.*) AS b) SELECT count(*)::int AS n, coalesce(sum(b), 0)::bigint AS bytes FROM d`;
    const { rows } = await pool.query<{ n: number; bytes: string }>(sql, params);
    count.count += rows[0]!.n;
    count.bytes += Number(rows[0]!.bytes);
  }
  return [...totals.values()];
}

/** One line per kind: `checkpoints: 1,204 rows, 3.1 MB (superseded by a later checkpoint)`. */
export function describePrune(counts: readonly PruneCount[], dryRun: boolean): string {
  const verb = dryRun ? 'would remove' : 'removed';
  const unit = (c: PruneCount) => (c.kind === 'workspaces' ? (c.count === 1 ? 'workspace' : 'workspaces') : c.count === 1 ? 'row' : 'rows');
  const lines = counts.map((c) => `${c.kind.padEnd(17)} ${verb} ${c.count.toLocaleString('en')} ${unit(c)}, ${formatSize(c.bytes)}  (${c.rule})`);
  const total = counts.reduce((n, c) => n + c.bytes, 0);
  return `${lines.join('\n')}\n${'total'.padEnd(17)} ${verb} ${formatSize(total)}${dryRun ? '; nothing was removed (dry run)' : ''}\n`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** Logs a pass's removals (one line), for the server's periodic pruning. */
export function logPrune(logger: Pick<Logger, 'info'>, counts: readonly PruneCount[]): void {
  const removed = counts.filter((c) => c.count > 0);
  if (!removed.length) return;
  logger.info(Object.fromEntries(removed.map((c) => [c.kind, { count: c.count, bytes: c.bytes }])), `pruned ${removed.map((c) => `${c.count} ${c.kind} (${formatSize(c.bytes)})`).join(', ')}`);
}
