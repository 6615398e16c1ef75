import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { statement } from '../../core/db/statements.js';
import { storableText } from '../../core/db/storable-text.js';

/** A message of the local chat, as the public API shows it. */
export interface ChatMessage {
  id: string;
  role: 'user' | 'agent' | 'system';
  author: string;
  persona: string | null;
  text: string;
  createdAt: string;
  /** Position in the conversation; SSE event ids use it so a reconnect resumes where it left off. */
  seq: number;
}

export interface NewChatMessage {
  id: string;
  conversation: string;
  role: ChatMessage['role'];
  author: string;
  persona?: string;
  text: string;
  replyTo?: string;
}

interface Row {
  id: string;
  role: ChatMessage['role'];
  author: string;
  persona: string | null;
  text: string;
  created_at: Date;
  seq: string;
}

const toMessage = (r: Row): ChatMessage => ({
  id: r.id,
  role: r.role,
  author: r.author,
  persona: r.persona,
  text: r.text,
  createdAt: r.created_at.toISOString(),
  seq: Number(r.seq),
});

/**
 * The local chat's own message store (the "platform side" of the embedded channel).
 * Writes are idempotent by message id, so a replayed outbox send or a retried POST stores once.
 * Text is stored as the database accepts it (storable-text.ts), whoever wrote it.
 * `changes` tells in-process listeners (SSE streams) that a conversation has something new;
 * streams also poll, so messages written by another process (a `pantheon worker`) arrive too.
 */
export class ChatStore {
  readonly changes = new EventEmitter();

  constructor(private readonly pool: pg.Pool) {
    this.changes.setMaxListeners(0);
  }

  async append(m: NewChatMessage): Promise<{ inserted: boolean; message: ChatMessage }> {
    const inserted = await this.pool.query<Row>(
      statement(
        this.pool,
        'chat_append',
        `INSERT INTO chat_messages (id, conversation, role, author, persona, text, reply_to)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, role, author, persona, text, created_at, seq`,
        [m.id, m.conversation, m.role, storableText(m.author), m.persona ?? null, storableText(m.text), m.replyTo ?? null],
      ),
    );
    if (inserted.rows[0]) {
      this.changes.emit(m.conversation);
      return { inserted: true, message: toMessage(inserted.rows[0]) };
    }
    const existing = await this.pool.query<Row>('SELECT id, role, author, persona, text, created_at, seq FROM chat_messages WHERE id = $1', [m.id]);
    return { inserted: false, message: toMessage(existing.rows[0]!) };
  }

  /**
   * Replaces a message's text (a job's progress message, edited in place). The message takes
   * the next position in the order, so streams, which follow that order, send it again with
   * the new text: a client keeps the latest version of each id. Undefined when there is none.
   */
  async update(id: string, text: string): Promise<ChatMessage | undefined> {
    const { rows } = await this.pool.query<Row & { conversation: string }>(
      `UPDATE chat_messages SET text = $2, seq = nextval(pg_get_serial_sequence('chat_messages', 'seq'))
       WHERE id = $1 RETURNING id, conversation, role, author, persona, text, created_at, seq`,
      [id, storableText(text)],
    );
    const row = rows[0];
    if (!row) return undefined;
    this.changes.emit(row.conversation);
    return toMessage(row);
  }

  /** Oldest first, after `afterSeq` when given. */
  async list(conversation: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<ChatMessage[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT id, role, author, persona, text, created_at, seq FROM chat_messages
       WHERE conversation = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
      [conversation, opts.afterSeq ?? 0, opts.limit ?? 1000],
    );
    return rows.map(toMessage);
  }

  /** The newest `limit` messages, oldest first. */
  async tail(conversation: string, limit: number): Promise<ChatMessage[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM (SELECT id, role, author, persona, text, created_at, seq FROM chat_messages
        WHERE conversation = $1 ORDER BY seq DESC LIMIT $2) t ORDER BY seq ASC`,
      [conversation, limit],
    );
    return rows.map(toMessage);
  }
}

/** The public JSON shape (PRODUCT.md): no internal fields. */
export function publicMessage(m: ChatMessage): Omit<ChatMessage, 'seq'> {
  const { seq: _seq, ...rest } = m;
  return rest;
}
