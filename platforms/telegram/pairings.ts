import { randomInt } from 'node:crypto';
import type pg from 'pg';

/**
 * Pairing: how a Telegram chat nobody allowlisted gets access. Its first message gets a short
 * random code (and no agent run); someone with access to the installation approves the code
 * with `pantheon pairing approve <code>`, and from then on the team answers in that chat.
 * Codes are 8 characters from an alphabet without look-alikes (0/O, 1/I/L), case-insensitive,
 * and expire after `ttlMinutes`.
 */
export interface Pairing {
  code: string;
  chatId: string;
  chatType: string | null;
  chatTitle: string | null;
  userId: string | null;
  userName: string | null;
  status: 'pending' | 'approved' | 'expired';
  requestedAt: string;
  expiresAt: string;
  approvedAt: string | null;
  approvedBy: string | null;
}

/** A chat approved by pairing. */
export interface ApprovedChat {
  chatId: string;
  chatType: string | null;
  chatTitle: string | null;
  code: string | null;
  approvedAt: string;
  approvedBy: string | null;
}

export interface PairingRequester {
  chatId: number | string;
  chatType?: string;
  chatTitle?: string;
  userId?: number | string;
  userName?: string;
}

const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const PAIRING_CODE_LENGTH = 8;
/** Repeated messages from a waiting chat are answered at most this often. */
const REMIND_AFTER_SECONDS = 60;

function newPairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

function normalisePairingCode(code: string): string {
  return code.trim().toUpperCase().replace(/[\s-]/g, '');
}

export type ApproveResult = { ok: true; pairing: Pairing } | { ok: false; reason: 'unknown' | 'expired' | 'already_approved'; pairing?: Pairing };

export class PairingStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: { ttlMinutes?: number } = {},
  ) {}

  async isApproved(chatId: number | string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM telegram_approved_chats WHERE chat_id = $1', [String(chatId)]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * The chat's pending code, made if there is none (or the last one expired). `tell` says
   * whether to send it now: for a new code, or when the chat was last told over a minute ago.
   */
  async request(who: PairingRequester): Promise<{ pairing: Pairing; tell: boolean }> {
    const chatId = String(who.chatId);
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.pool.query(`UPDATE telegram_pairings SET status = 'expired' WHERE chat_id = $1 AND status = 'pending' AND expires_at <= now()`, [chatId]);
      const reminded = await this.pool.query<Row>(
        `UPDATE telegram_pairings SET reminded_at = now()
          WHERE chat_id = $1 AND status = 'pending' AND reminded_at <= now() - make_interval(secs => $2)
          RETURNING *`,
        [chatId, REMIND_AFTER_SECONDS],
      );
      if (reminded.rows[0]) return { pairing: toPairing(reminded.rows[0]), tell: true };
      const existing = await this.pool.query<Row>(`SELECT * FROM telegram_pairings WHERE chat_id = $1 AND status = 'pending'`, [chatId]);
      if (existing.rows[0]) return { pairing: toPairing(existing.rows[0]), tell: false };
      // A code collision or a concurrent first message from the same chat: look again.
      const inserted = await this.pool.query<Row>(
        `INSERT INTO telegram_pairings (code, chat_id, chat_type, chat_title, user_id, user_name, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7))
         ON CONFLICT DO NOTHING RETURNING *`,
        [newPairingCode(), chatId, who.chatType ?? null, who.chatTitle ?? null, who.userId === undefined ? null : String(who.userId), who.userName ?? null, this.opts.ttlMinutes ?? 60],
      );
      if (inserted.rows[0]) return { pairing: toPairing(inserted.rows[0]), tell: true };
    }
    throw new Error(`could not make a pairing code for Telegram chat ${chatId}`);
  }

  async approve(code: string, by: string): Promise<ApproveResult> {
    const normal = normalisePairingCode(code);
    const { rows } = await this.pool.query<Row>(
      `UPDATE telegram_pairings SET status = 'approved', approved_at = now(), approved_by = $2
        WHERE code = $1 AND status = 'pending' AND expires_at > now() RETURNING *`,
      [normal, by],
    );
    const approved = rows[0];
    if (!approved) {
      const found = (await this.pool.query<Row>('SELECT * FROM telegram_pairings WHERE code = $1', [normal])).rows[0];
      if (!found) return { ok: false, reason: 'unknown' };
      const pairing = toPairing(found);
      return { ok: false, reason: found.status === 'approved' ? 'already_approved' : 'expired', pairing };
    }
    await this.pool.query(
      `INSERT INTO telegram_approved_chats (chat_id, chat_type, chat_title, code, approved_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (chat_id) DO UPDATE SET code = EXCLUDED.code, approved_at = now(), approved_by = EXCLUDED.approved_by`,
      [approved.chat_id, approved.chat_type, approved.chat_title, approved.code, by],
    );
    return { ok: true, pairing: toPairing(approved) };
  }

  /** Takes a chat's approval away; its next message gets a new code. */
  async revoke(chatId: number | string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM telegram_approved_chats WHERE chat_id = $1', [String(chatId)]);
    return (rowCount ?? 0) > 0;
  }

  /** Pending (unexpired) requests, newest first. */
  async pending(): Promise<Pairing[]> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM telegram_pairings WHERE status = 'pending' AND expires_at > now() ORDER BY requested_at DESC`);
    return rows.map(toPairing);
  }

  async approvedChats(): Promise<ApprovedChat[]> {
    const { rows } = await this.pool.query<Record<string, unknown>>('SELECT * FROM telegram_approved_chats ORDER BY approved_at DESC');
    return rows.map((r) => ({
      chatId: String(r.chat_id),
      chatType: (r.chat_type as string | null) ?? null,
      chatTitle: (r.chat_title as string | null) ?? null,
      code: (r.code as string | null) ?? null,
      approvedAt: iso(r.approved_at),
      approvedBy: (r.approved_by as string | null) ?? null,
    }));
  }
}

interface Row {
  code: string;
  chat_id: string;
  chat_type: string | null;
  chat_title: string | null;
  user_id: string | null;
  user_name: string | null;
  status: Pairing['status'];
  requested_at: Date | string;
  expires_at: Date | string;
  approved_at: Date | string | null;
  approved_by: string | null;
}

function toPairing(r: Row): Pairing {
  return {
    code: r.code,
    chatId: String(r.chat_id),
    chatType: r.chat_type,
    chatTitle: r.chat_title,
    userId: r.user_id === null ? null : String(r.user_id),
    userName: r.user_name,
    status: r.status,
    requestedAt: iso(r.requested_at),
    expiresAt: iso(r.expires_at),
    approvedAt: r.approved_at === null ? null : iso(r.approved_at),
    approvedBy: r.approved_by,
  };
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
