import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Human } from '../core/chat/approvals.js';
import type { ConsoleSession, SessionVerifier } from '../core/http/principal.js';

/** A login link just made: the token goes into the URL once and is never stored. */
export interface LoginLink {
  token: string;
  human: string;
  expiresAt: Date;
}

/** A session just opened: its id goes into the cookie and is never stored. */
export interface OpenedSession extends ConsoleSession {
  id: string;
}

export type RedeemRefusal = 'unknown' | 'used' | 'expired' | 'not_a_human';

/**
 * Console sign-in, kept in the database (migration 0024) so every replica and every restart
 * agrees: one-time login links and the sessions they open. Only SHA-256 digests of link tokens
 * and session ids are stored. A session belongs to a human of `humans:` as configured now: one
 * removed from the file is signed out, and a change of `approver:` applies at once.
 */
export class ConsoleSessions implements SessionVerifier {
  private readonly humans: ReadonlyMap<string, Human>;

  constructor(
    private readonly pool: pg.Pool,
    humans: readonly Human[],
    private readonly opts: { linkMinutes: number; sessionHours: number },
  ) {
    this.humans = new Map(humans.map((h) => [h.id, h]));
  }

  human(id: string): Human | undefined {
    return this.humans.get(id);
  }

  /** A one-time login link for a human of `humans:`; `by` says who asked (`operator`, `chat:telegram`). */
  async createLink(humanId: string, by: string): Promise<LoginLink> {
    if (!this.humans.has(humanId)) throw new UnknownHumanError(humanId, [...this.humans.keys()]);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.opts.linkMinutes * 60_000);
    await this.pool.query('INSERT INTO console_login_links (token_hash, human, created_by, expires_at) VALUES ($1, $2, $3, $4)', [digest(token), humanId, by, expiresAt]);
    return { token, human: humanId, expiresAt };
  }

  /** Who a link would sign in, without using it up (the page with the button shows it). */
  async peekLink(token: string): Promise<{ human: string } | { refused: RedeemRefusal }> {
    const { rows } = await this.pool.query<{ human: string; used: boolean; expired: boolean }>(
      'SELECT human, used_at IS NOT NULL AS used, expires_at <= now() AS expired FROM console_login_links WHERE token_hash = $1',
      [digest(token)],
    );
    const row = rows[0];
    if (!row) return { refused: 'unknown' };
    if (row.used) return { refused: 'used' };
    if (row.expired) return { refused: 'expired' };
    if (!this.humans.has(row.human)) return { refused: 'not_a_human' };
    return { human: row.human };
  }

  /**
   * Uses a link up and opens a session. One statement marks the link used only if it is unused
   * and unexpired, so two clicks at once open one session.
   */
  async redeem(token: string): Promise<OpenedSession | { refused: RedeemRefusal }> {
    const { rows } = await this.pool.query<{ human: string }>('UPDATE console_login_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING human', [
      digest(token),
    ]);
    if (!rows[0]) {
      const peek = await this.peekLink(token);
      return { refused: 'refused' in peek ? peek.refused : 'used' };
    }
    const human = this.humans.get(rows[0].human);
    if (!human) return { refused: 'not_a_human' };
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.opts.sessionHours * 3_600_000);
    await this.pool.query('INSERT INTO console_sessions (id_hash, human, csrf_token, expires_at) VALUES ($1, $2, $3, $4)', [digest(id), human.id, csrfToken, expiresAt]);
    return { id, humanId: human.id, approver: human.approver, csrfToken, expiresAt };
  }

  async verify(sessionId: string): Promise<ConsoleSession | undefined> {
    if (sessionId.length > 128) return undefined;
    const { rows } = await this.pool.query<{ human: string; csrf_token: string; expires_at: Date }>(
      'SELECT human, csrf_token, expires_at FROM console_sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > now()',
      [digest(sessionId)],
    );
    const row = rows[0];
    const human = row && this.humans.get(row.human);
    if (!row || !human) return undefined;
    return { humanId: human.id, approver: human.approver, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at) };
  }

  async end(sessionId: string): Promise<void> {
    await this.pool.query('UPDATE console_sessions SET ended_at = now() WHERE id_hash = $1 AND ended_at IS NULL', [digest(sessionId)]);
  }

  /** Removes links and sessions that can no longer be used (a day after, kept briefly for questions). */
  async prune(): Promise<number> {
    const links = await this.pool.query("DELETE FROM console_login_links WHERE expires_at < now() - interval '1 day'");
    const sessions = await this.pool.query("DELETE FROM console_sessions WHERE expires_at < now() - interval '1 day' OR ended_at < now() - interval '1 day'");
    return (links.rowCount ?? 0) + (sessions.rowCount ?? 0);
  }
}

export class UnknownHumanError extends Error {
  constructor(
    readonly humanId: string,
    known: string[],
  ) {
    super(`${humanId} is not in humans: of pantheon.yaml${known.length ? ` (known: ${known.join(', ')})` : ' (no humans are configured)'}`);
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
