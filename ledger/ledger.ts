import type pg from 'pg';
import { scrubSecrets } from '../core/log.js';
import { summarizeInFlight } from './summary.js';
import {
  FINISHED_STATES,
  isWorkKind,
  isWorkState,
  LedgerInputError,
  normaliseWorkItemId,
  WORK_KINDS,
  WORK_STATES,
  WorkItemNotFoundError,
  type WorkItem,
  type WorkItemEvent,
  type WorkKind,
  type WorkState,
} from './types.js';

export interface CreateWorkItem {
  kind: WorkKind;
  title: string;
  originThread?: string | null;
  originPlatform?: string | null;
  requestedBy?: string | null;
  owner?: string | null;
  reviewers?: readonly string[];
  state?: WorkState;
  /** e.g. `gh:owner/repo#12`: a second create with the same ref returns the first item. */
  externalRef?: string | null;
  /** e.g. the handoff's id: a replayed handoff returns the item it created the first time. */
  dedupeKey?: string | null;
  /** Who created it (persona id, human id, or `system`). */
  actor: string;
}

export interface WorkListFilter {
  owner?: string;
  thread?: string;
  /** false (default): only items not done/merged. */
  includeFinished?: boolean;
  /** Default 100, at most 1000. */
  limit?: number;
}

interface WorkItemRow {
  id: string;
  kind: WorkKind;
  title: string;
  origin_thread: string | null;
  origin_platform: string | null;
  requested_by: string | null;
  owner: string | null;
  reviewers: string[];
  state: WorkState;
  external_ref: string | null;
  dedupe_key: string | null;
  created_at: Date;
  updated_at: Date;
}

interface EventRow {
  id: string;
  work_item_id: string;
  at: Date;
  actor: string;
  kind: string;
  detail: Record<string, unknown>;
}

const ITEM_COLUMNS = 'id, kind, title, origin_thread, origin_platform, requested_by, owner, reviewers, state, external_ref, dedupe_key, created_at, updated_at';
const EVENT_COLUMNS = 'id, work_item_id, at, actor, kind, detail';
const MAX_TITLE_CHARS = 500;
const MAX_TEXT_CHARS = 4000;

/**
 * The work ledger: what the team is working on, for whom, and where each piece stands.
 *
 * Every change is one SQL statement that updates the item and appends its event together
 * (a data-modifying CTE), so the history never disagrees with the item and no transaction
 * is held open: the embedded database has a single connection that everyone shares.
 */
export class WorkLedger {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates an item, or returns the existing one with the same dedupeKey or externalRef. */
  async create(input: CreateWorkItem): Promise<WorkItem> {
    return (await this.ensure(input)).item;
  }

  /** Like `create`, and says whether this call created the item. */
  async ensure(input: CreateWorkItem): Promise<{ item: WorkItem; created: boolean }> {
    if (!isWorkKind(input.kind)) throw new LedgerInputError(`unknown work item kind "${input.kind}": use one of ${WORK_KINDS.join(', ')}`);
    const state = input.state ?? 'requested';
    assertState(state);
    const title = input.title?.trim();
    if (!title) throw new LedgerInputError('a work item needs a title');
    const existing = await this.findExisting(input);
    if (existing) return { item: existing, created: false };

    const { rows } = await this.pool.query<WorkItemRow>(
      `WITH ins AS (
         INSERT INTO work_items (kind, title, origin_thread, origin_platform, requested_by, owner, reviewers, state, external_ref, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT DO NOTHING
         RETURNING ${ITEM_COLUMNS}
       ), ev AS (
         INSERT INTO work_item_events (work_item_id, actor, kind, detail)
         SELECT id, $11, 'created', jsonb_build_object('kind', kind, 'title', title, 'state', state, 'owner', owner, 'requestedBy', requested_by, 'externalRef', external_ref)
         FROM ins
       )
       SELECT * FROM ins`,
      [
        input.kind,
        scrubSecrets(title).slice(0, MAX_TITLE_CHARS),
        input.originThread ?? null,
        input.originPlatform ?? null,
        input.requestedBy ?? null,
        input.owner ?? null,
        dedupe([...(input.reviewers ?? [])]),
        state,
        input.externalRef ?? null,
        input.dedupeKey ?? null,
        input.actor,
      ],
    );
    if (rows[0]) return { item: toItem(rows[0]), created: true };
    // Lost a race with a concurrent create of the same thing: that one is the item.
    const winner = await this.findExisting(input);
    if (!winner) throw new Error(`creating work item "${title}" conflicted with an item that cannot be found`);
    return { item: winner, created: false };
  }

  /** The item, by `W-12`, `#12` or `12`; undefined when there is none. */
  async get(id: string): Promise<WorkItem | undefined> {
    const { rows } = await this.pool.query<WorkItemRow>(`SELECT ${ITEM_COLUMNS} FROM work_items WHERE id = $1`, [normaliseWorkItemId(id)]);
    return rows[0] ? toItem(rows[0]) : undefined;
  }

  async getByExternalRef(ref: string): Promise<WorkItem | undefined> {
    const { rows } = await this.pool.query<WorkItemRow>(`SELECT ${ITEM_COLUMNS} FROM work_items WHERE external_ref = $1`, [ref]);
    return rows[0] ? toItem(rows[0]) : undefined;
  }

  /**
   * Moves the item to `state` and records a `state_changed` event (`{from, to, note?}`).
   * Moving to the state it is already in changes nothing and records nothing. Any state may
   * follow any other: people reopen, unblock and skip steps, and the ledger records, not polices.
   */
  async transition(id: string, state: WorkState, opts: { actor: string; note?: string }): Promise<WorkItem> {
    assertState(state);
    const note = opts.note === undefined ? null : scrubSecrets(opts.note).slice(0, MAX_TEXT_CHARS);
    return this.changeWithEvent(id, {
      set: 'state = $2',
      changed: 'old.state <> $2',
      oldColumn: 'state',
      event: 'state_changed',
      detail: `jsonb_strip_nulls(jsonb_build_object('from', old_value, 'to', state, 'note', $4::text))`,
      params: [state, opts.actor, note],
    });
  }

  /** Gives the item to `owner` (a persona id) and records an `assigned` event (`{from, to}`). */
  async assign(id: string, owner: string, actor: string): Promise<WorkItem> {
    return this.changeWithEvent(id, {
      set: 'owner = $2',
      changed: 'old.owner IS DISTINCT FROM $2',
      oldColumn: 'owner',
      event: 'assigned',
      detail: `jsonb_build_object('from', old_value, 'to', owner)`,
      params: [owner, actor],
    });
  }

  /** Adds a reviewer (once) and records a `reviewer_added` event (`{reviewer}`). */
  async addReviewer(id: string, reviewer: string, actor: string): Promise<WorkItem> {
    return this.changeWithEvent(id, {
      set: 'reviewers = array_append(w.reviewers, $2::text)',
      changed: 'NOT ($2::text = ANY (old.reviewers))',
      oldColumn: 'reviewers',
      event: 'reviewer_added',
      detail: `jsonb_build_object('reviewer', $2::text)`,
      params: [reviewer, actor],
    });
  }

  /** Records a `progress` event (`{text}`), which also makes the item the most recently active. */
  recordProgress(id: string, opts: { actor: string; text: string }): Promise<WorkItemEvent> {
    return this.recordEvent(id, { actor: opts.actor, kind: 'progress', detail: { text: scrubSecrets(opts.text).slice(0, MAX_TEXT_CHARS) } });
  }

  /** Records a `note` event (`{text}`). */
  addNote(id: string, opts: { actor: string; text: string }): Promise<WorkItemEvent> {
    return this.recordEvent(id, { actor: opts.actor, kind: 'note', detail: { text: scrubSecrets(opts.text).slice(0, MAX_TEXT_CHARS) } });
  }

  /** Appends an event of any kind and bumps the item's activity time. */
  async recordEvent(id: string, e: { actor: string; kind: string; detail?: Record<string, unknown> }): Promise<WorkItemEvent> {
    const workItemId = normaliseWorkItemId(id);
    const { rows } = await this.pool.query<EventRow>(
      `WITH touched AS (
         UPDATE work_items SET updated_at = clock_timestamp() WHERE id = $1 RETURNING id
       )
       INSERT INTO work_item_events (work_item_id, actor, kind, detail)
       SELECT id, $2, $3, $4 FROM touched
       RETURNING ${EVENT_COLUMNS}`,
      [workItemId, e.actor, e.kind, JSON.stringify(e.detail ?? {})],
    );
    if (!rows[0]) throw new WorkItemNotFoundError(workItemId);
    return toEvent(rows[0]);
  }

  /** The item's history, oldest first. */
  async events(id: string): Promise<WorkItemEvent[]> {
    const { rows } = await this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM work_item_events WHERE work_item_id = $1 ORDER BY id`, [normaliseWorkItemId(id)]);
    return rows.map(toEvent);
  }

  /** Items matching the filter, most recently active first. */
  async list(filter: WorkListFilter = {}): Promise<WorkItem[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!filter.includeFinished) {
      params.push([...FINISHED_STATES]);
      where.push(`state <> ALL ($${params.length}::text[])`);
    }
    if (filter.owner) {
      params.push(filter.owner);
      where.push(`owner = $${params.length}`);
    }
    if (filter.thread) {
      params.push(filter.thread);
      where.push(`origin_thread = $${params.length}`);
    }
    params.push(Math.min(Math.max(Math.trunc(filter.limit ?? 100) || 100, 1), 1000));
    const { rows } = await this.pool.query<WorkItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM work_items ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY updated_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toItem);
  }

  /** Items not done or merged, most recently active first. */
  inFlight(filter: { owner?: string; thread?: string; limit?: number } = {}): Promise<WorkItem[]> {
    return this.list({ ...filter, includeFinished: false });
  }

  /** Everything asked for in one thread, finished items included, most recently active first. */
  forThread(thread: string, limit?: number): Promise<WorkItem[]> {
    return this.list({ thread, includeFinished: true, limit });
  }

  /** Chat text for a list of items: see `summarizeInFlight` in summary.ts. */
  summarizeInFlight(items: readonly WorkItem[], now?: Date): string {
    return summarizeInFlight(items, now);
  }

  private async findExisting(input: CreateWorkItem): Promise<WorkItem | undefined> {
    for (const [column, value] of [
      ['dedupe_key', input.dedupeKey],
      ['external_ref', input.externalRef],
    ] as const) {
      if (!value) continue;
      const { rows } = await this.pool.query<WorkItemRow>(`SELECT ${ITEM_COLUMNS} FROM work_items WHERE ${column} = $1`, [value]);
      if (rows[0]) return toItem(rows[0]);
    }
    return undefined;
  }

  /**
   * One statement: lock the row, change it if `changed` holds, and append the event from the
   * changed row. `$1` is the id, `$2` the new value, `$3` the actor, `$4` (if given) extra;
   * `old_value` is the column's old value.
   * No change means no event: the current item is returned as it is.
   */
  private async changeWithEvent(id: string, c: { set: string; changed: string; oldColumn: string; event: string; detail: string; params: [unknown, string, ...unknown[]] }): Promise<WorkItem> {
    const workItemId = normaliseWorkItemId(id);
    const { rows } = await this.pool.query<WorkItemRow>(
      `WITH old AS (
         SELECT id, state, owner, reviewers FROM work_items WHERE id = $1 FOR UPDATE
       ), upd AS (
         UPDATE work_items w SET ${c.set}, updated_at = clock_timestamp()
         FROM old WHERE w.id = old.id AND ${c.changed}
         RETURNING w.*, old.${c.oldColumn} AS old_value
       ), ev AS (
         INSERT INTO work_item_events (work_item_id, actor, kind, detail)
         SELECT id, $3, '${c.event}', ${c.detail} FROM upd
       )
       SELECT ${ITEM_COLUMNS} FROM upd`,
      [workItemId, ...c.params],
    );
    if (rows[0]) return toItem(rows[0]);
    const current = await this.get(workItemId);
    if (!current) throw new WorkItemNotFoundError(workItemId);
    return current;
  }
}

function assertState(state: string): asserts state is WorkState {
  if (!isWorkState(state)) throw new LedgerInputError(`unknown work item state "${state}": use one of ${WORK_STATES.join(', ')}`);
}

function dedupe(values: string[]): string[] {
  return [...new Set(values.filter((v) => v))];
}

function toItem(r: WorkItemRow): WorkItem {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    originThread: r.origin_thread,
    originPlatform: r.origin_platform,
    requestedBy: r.requested_by,
    owner: r.owner,
    reviewers: r.reviewers ?? [],
    state: r.state,
    externalRef: r.external_ref,
    dedupeKey: r.dedupe_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toEvent(r: EventRow): WorkItemEvent {
  return { id: Number(r.id), workItemId: r.work_item_id, at: r.at, actor: r.actor, kind: r.kind, detail: r.detail ?? {} };
}
