import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { Logger } from '../core/log.js';
import type { MemoryStore } from './store.js';
import type { Memory, MemoryScope } from './types.js';

/** One line of a transcript to summarise. */
interface TranscriptMessage {
  /** The message's id; the last one keys the summary, so the same stretch is summarised once. */
  id?: string;
  role: 'user' | 'agent' | 'system' | string;
  author: string;
  text: string;
}

export interface SummarizeOptions {
  store: Pick<MemoryStore, 'remember'>;
  model: BaseChatModel;
  threadId: string;
  messages: readonly TranscriptMessage[];
  workItem?: { id: string; title: string };
  /**
   * Where the summary is stored: `team` by default, so a later conversation anywhere recalls
   * it (the thread itself sees team memories too, so a second copy there would only repeat it).
   */
  scope?: MemoryScope;
  /** Extra metadata (the watcher records the transcript position it covered). */
  metadata?: Record<string, unknown>;
  /**
   * Checked just before the model call, like every other model call's budget: the message naming
   * a spent budget, or null. A spent one throws `SummaryBudgetSpent` and no call is made.
   */
  budgetSpent?: () => Promise<string | null>;
}

/** A summary not written because a budget is spent; `message` names it. Tried again once the budget is back. */
class SummaryBudgetSpent extends Error {
  override readonly name = 'SummaryBudgetSpent';
}

/** The longest transcript sent to the model, in characters; older lines are dropped first. */
const MAX_TRANSCRIPT_CHARS = 24_000;
/** A reply meaning "nothing worth remembering". */
const NOTHING = 'NOTHING';

const INSTRUCTIONS = [
  "You write the team's memory of a conversation between humans and AI personas.",
  'Summarise what is worth knowing later, under these headings, leaving out a heading with nothing under it:',
  'Decisions: what was decided, and by whom.',
  'Facts: facts learned (systems, people, preferences, numbers, names).',
  'Open questions: what is still unanswered or waiting on someone.',
  'Links: URLs, issues, pull requests, work items mentioned.',
  'Use short "- " bullets, be concrete, keep names and identifiers exactly as written, at most 200 words.',
  `If nothing is worth remembering (greetings, small talk), answer exactly ${NOTHING}.`,
].join('\n');

/**
 * Asks the model for a summary of a conversation (decisions, facts, open questions, links) and
 * stores it as a `summary` memory whose source is the thread. Keyed by the thread and its last
 * message, so summarising the same stretch again stores nothing new. Answers null when there is
 * nothing to summarise or the model finds nothing worth remembering.
 */
export async function summarizeConversation(opts: SummarizeOptions): Promise<Memory | null> {
  const messages = opts.messages.filter((m) => m.text.trim());
  if (!messages.length) return null;
  const transcript = transcriptOf(messages);
  const about = opts.workItem ? `Work item ${opts.workItem.id}: ${opts.workItem.title}\n` : '';
  const spent = await opts.budgetSpent?.();
  if (spent) throw new SummaryBudgetSpent(spent);
  const answer = await opts.model.invoke([new SystemMessage(INSTRUCTIONS), new HumanMessage(`Conversation ${opts.threadId}\n${about}\n${transcript}`)]);
  const summary = textOf(answer.content).trim();
  if (!summary || summary.replace(/[.\s]/g, '').toUpperCase() === NOTHING) return null;

  const last = messages[messages.length - 1]!;
  const lastKey = last.id ?? createHash('sha256').update(transcript).digest('hex').slice(0, 16);
  const heading = opts.workItem ? `Summary of ${opts.threadId} (${opts.workItem.id}: ${opts.workItem.title})` : `Summary of ${opts.threadId}`;
  return opts.store.remember({
    scope: opts.scope ?? 'team',
    kind: 'summary',
    content: `${heading}\n${summary}`,
    source: opts.threadId,
    author: 'system',
    metadata: {
      ...opts.metadata,
      summaryOf: opts.threadId,
      lastMessageId: lastKey,
      messageCount: messages.length,
      ...(opts.workItem ? { workItem: opts.workItem.id } : {}),
    },
    dedupeKey: `summary:${opts.threadId}:${lastKey}`,
  });
}

/** `[alice] text` lines, newest kept when the whole would be too long. */
function transcriptOf(messages: readonly TranscriptMessage[]): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    const line = `[${m.role === 'system' ? 'system' : m.author}] ${m.text.trim()}`;
    if (size + line.length > MAX_TRANSCRIPT_CHARS && lines.length) break;
    lines.push(line.slice(0, MAX_TRANSCRIPT_CHARS));
    size += line.length + 1;
  }
  return lines.reverse().join('\n');
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (typeof b === 'string' ? b : b && typeof b === 'object' && 'text' in b ? String(b.text) : '')).join('');
  return '';
}

// ---- the idle watcher -------------------------------------------------------------------

export interface IdleWatcherOptions {
  pool: pg.Pool;
  store: Pick<MemoryStore, 'remember'>;
  model: BaseChatModel;
  /** A conversation is idle when its last message is older than this (default 30). */
  idleMinutes?: number;
  /** Conversations quiet for longer than this are left alone (default 7): old history is not summarised at first start. */
  maxAgeDays?: number;
  /** Fewer new messages than this are not worth a summary (default 2). */
  minMessages?: number;
  /** Conversations summarised per tick, at most (default 10). */
  batchSize?: number;
  /** The budget the summaries count against (the team's), checked before each summary call. */
  budgetSpent?: () => Promise<string | null>;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

interface IdleConversation {
  conversation: string;
  last_seq: string;
  summarised_seq: string | null;
}

/** The longest stretch of a conversation sent for one summary. */
const MAX_MESSAGES = 400;

/**
 * A thread's transcript as stored: the local chat's in `chat_messages`; every other platform's
 * (Mattermost, Slack, Discord, Telegram, GitHub) is what people said (`inbound_messages` the team
 * took up: answered, failed or paused) and what the team posted (`outbox`, edits left out), by
 * time. Positions are the local chat's `seq`, or microseconds since the epoch on a platform
 * thread; `after` excludes, `upTo` includes. The newest `limit` messages of the stretch, oldest
 * first.
 */
export async function threadTranscript(pool: pg.Pool, threadId: string, range: { after?: number; upTo?: number; limit?: number } = {}): Promise<TranscriptMessage[]> {
  const after = range.after ?? 0;
  const upTo = range.upTo ?? Number.MAX_SAFE_INTEGER;
  const limit = range.limit ?? MAX_MESSAGES;
  if (threadId.startsWith('local:')) {
    const { rows } = await pool.query<{ id: string; role: string; author: string | null; persona: string | null; text: string | null }>(
      `SELECT * FROM (SELECT id, role, author, persona, text, seq FROM chat_messages
         WHERE conversation = $1 AND seq > $2 AND seq <= $3 ORDER BY seq DESC LIMIT $4) t ORDER BY seq ASC`,
      [threadId.slice('local:'.length), after, upTo, limit],
    );
    return rows.map((r) => ({ id: r.id, role: r.role, author: r.persona ?? r.author ?? r.role, text: r.text ?? '' }));
  }
  const { rows } = await pool.query<{ id: string; role: string; author: string; text: string | null }>(
    `SELECT id, role, author, text FROM (
       SELECT id, 'user' AS role, coalesce(payload->'author'->>'name', author, 'someone') AS author, text, received_at AS at
         FROM inbound_messages WHERE conversation = $1 AND status IN ('done', 'failed', 'paused')
       UNION ALL
       SELECT idempotency_key, coalesce(payload->>'role', 'agent'), coalesce(persona, 'system'), payload->>'text', created_at
         FROM outbox WHERE conversation = $1 AND status = 'sent' AND NOT payload ? 'replaces') t
     WHERE ${POSITION} > $2 AND ${POSITION} <= $3 ORDER BY at DESC LIMIT $4`,
    [threadId, after, upTo, limit],
  );
  return rows.reverse().map((r) => ({ id: r.id, role: r.role, author: r.author, text: r.text ?? '' }));
}

/** A platform message's position: microseconds since the epoch. */
const POSITION = `(extract(epoch FROM at) * 1000000)::bigint`;

/**
 * Summarises conversations that went quiet, on every platform: the local chat's (`chat_messages`)
 * and every other platform's threads (`inbound_messages` and `outbox`, see `threadTranscript`).
 * Each summary records (in its metadata) the transcript position it covers, so a conversation is
 * summarised again only when new messages arrived since, and then only the new stretch. `tick()`
 * is one pass; the caller schedules it.
 */
export class IdleConversationWatcher {
  /** Positions already handled in this process, including stretches with nothing worth keeping. */
  private readonly handled = new Map<string, number>();
  private running: Promise<number> | undefined;

  constructor(private readonly opts: IdleWatcherOptions) {}

  /** One pass; answers how many summaries were written. Overlapping calls share one pass. */
  tick(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    const { pool } = this.opts;
    const { rows: local } = await pool.query<IdleConversation>(
      `WITH conv AS (
         SELECT conversation, max(seq) AS last_seq, max(created_at) AS last_at
         FROM chat_messages GROUP BY conversation
         HAVING max(created_at) < now() - make_interval(secs => $1::float8 * 60)
            AND max(created_at) > now() - make_interval(days => $2::int))
       SELECT c.conversation, c.last_seq::text, s.summarised_seq::text
       FROM conv c
       LEFT JOIN LATERAL (
         SELECT max((m.metadata->>'lastSeq')::bigint) AS summarised_seq FROM memories m
         WHERE m.kind = 'summary' AND m.metadata->>'summaryOf' = 'local:' || c.conversation) s ON true
       WHERE s.summarised_seq IS NULL OR s.summarised_seq < c.last_seq
       ORDER BY c.last_at
       LIMIT $3`,
      [this.opts.idleMinutes ?? 30, this.opts.maxAgeDays ?? 7, (this.opts.batchSize ?? 10) * 4],
    );
    // Every other platform's threads: what people said and what the team posted, by time.
    const { rows: platform } = await pool.query<IdleConversation>(
      `WITH msgs AS (
         SELECT conversation AS thread, received_at AS at FROM inbound_messages
          WHERE platform <> 'local' AND status = 'done' AND received_at > now() - make_interval(days => $2::int)
         UNION ALL
         SELECT conversation, created_at FROM outbox
          WHERE platform <> 'local' AND status = 'sent' AND created_at > now() - make_interval(days => $2::int)),
       conv AS (
         SELECT thread, max(at) AS last_at FROM msgs WHERE thread IS NOT NULL GROUP BY thread
         HAVING max(at) < now() - make_interval(secs => $1::float8 * 60))
       SELECT c.thread AS conversation, (extract(epoch FROM c.last_at) * 1000000)::bigint::text AS last_seq, s.summarised_seq::text
       FROM conv c
       LEFT JOIN LATERAL (
         SELECT max((m.metadata->>'lastPos')::bigint) AS summarised_seq FROM memories m
         WHERE m.kind = 'summary' AND m.metadata->>'summaryOf' = c.thread) s ON true
       WHERE s.summarised_seq IS NULL OR s.summarised_seq < (extract(epoch FROM c.last_at) * 1000000)::bigint
       ORDER BY c.last_at
       LIMIT $3`,
      [this.opts.idleMinutes ?? 30, this.opts.maxAgeDays ?? 7, (this.opts.batchSize ?? 10) * 4],
    );
    const idle = [...local.map((r) => ({ ...r, threadId: `local:${r.conversation}`, key: 'lastSeq' })), ...platform.map((r) => ({ ...r, threadId: r.conversation, key: 'lastPos' }))];
    let written = 0;
    let attempted = 0;
    for (const row of idle) {
      if (attempted >= (this.opts.batchSize ?? 10)) break;
      const lastSeq = Number(row.last_seq);
      if ((this.handled.get(row.threadId) ?? -1) >= lastSeq) continue;
      attempted++;
      try {
        if (await this.summarise(row.threadId, row.key, Number(row.summarised_seq ?? 0), lastSeq)) written++;
        this.handled.set(row.threadId, lastSeq);
      } catch (err) {
        if (err instanceof SummaryBudgetSpent) {
          // Every other summary of this pass would be refused too: tried again at a later tick.
          this.opts.logger?.info({ conversation: row.threadId }, `conversation summaries wait: ${err.message}`);
          break;
        }
        // Left for the next tick: a model outage must not lose the summary.
        this.opts.logger?.warn({ err, conversation: row.threadId }, 'conversation summary failed; will retry');
      }
    }
    return written;
  }

  private async summarise(threadId: string, key: string, after: number, upTo: number): Promise<boolean> {
    const messages = await threadTranscript(this.opts.pool, threadId, { after, upTo });
    if (messages.filter((m) => m.text.trim()).length < (this.opts.minMessages ?? 2)) return false;
    const memory = await summarizeConversation({ store: this.opts.store, model: this.opts.model, threadId, messages, metadata: { [key]: upTo }, budgetSpent: this.opts.budgetSpent });
    if (memory) this.opts.logger?.info({ threadId, memory: memory.id }, 'conversation summarised');
    return memory !== null;
  }
}
