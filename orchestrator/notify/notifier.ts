import type pg from 'pg';
import type { Clock } from '../../core/clock/index.js';
import type { Notice, NoticeKind, NoticeResult, NotifierPort } from '../../core/chat/notices.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { HumanConfig } from '../../core/config/schema.js';
import type { Logger } from '../../core/log.js';
import { isQuiet, quietEnds } from './quiet-hours.js';

export interface NotifierDeps {
  pool: pg.Pool;
  outbox: OutboxPort;
  /** Everyone in `humans:`, in order. */
  humans: readonly HumanConfig[];
  /** Who a platform user is, and the user id that reaches a person on a platform (orchestrator/approvals/approvers.ts). */
  approvers: {
    identify(platform: string, userId: string): HumanConfig | undefined;
    addressOn(platform: string, human: HumanConfig): string | undefined;
  };
  clock: Clock;
  logger: Logger;
}

/** What a digest says at most, so one message stays readable (the rest are counted). */
const DIGEST_MAX_NOTICES = 20;

/**
 * The one way Pantheon reaches a person outside the thread they are in. For each recipient it
 * applies their `humans[].notify`: the kinds they want (without preferences: approval requests
 * only, to approvers, as before there were preferences), quiet hours (the notice is held and
 * goes out afterwards in one digest), and where to reach them (`via`, first platform that can
 * open a direct thread; without it, the platform of the thread the notice is about). Each notice
 * is recorded per key and person (`notifications`), so it goes out once across replicas.
 */
export class Notifier implements NotifierPort {
  constructor(private readonly deps: NotifierDeps) {}

  async notify(notice: Notice): Promise<NoticeResult> {
    const result: NoticeResult = { sent: [], held: [] };
    for (const human of this.recipients(notice)) {
      if (!this.wants(human, notice.kind)) continue;
      if (this.quiet(human)) {
        if (await this.hold(human, notice)) result.held.push(human.id);
      } else if (await this.sendNow(human, notice)) result.sent.push(human.id);
    }
    return result;
  }

  /** Whether `human` would take a notice of `kind`: their `notify.kinds`, or (without preferences) approval requests if they approve. */
  wants(human: HumanConfig, kind: NoticeKind): boolean {
    return human.notify ? human.notify.kinds.includes(kind) : kind === 'approvals' && human.approver;
  }

  /** Whether `human` is in their quiet hours now. */
  quiet(human: HumanConfig): boolean {
    return isQuiet(human.notify?.quietHours, this.deps.clock.now());
  }

  /** Sends to `human` at once, whatever the hour (an approval's own routing decided). False when they cannot be reached, or had it already. */
  async sendNow(human: HumanConfig, notice: Notice): Promise<boolean> {
    const dm = this.directThread(human, notice.thread);
    if (!dm) {
      this.deps.logger.debug({ human: human.id, notice: notice.key }, 'no direct thread reaches this person; notice not sent');
      return false;
    }
    const { rows } = await this.deps.pool.query(
      `INSERT INTO notifications (key, human, kind, text, status, thread, created_at, sent_at) VALUES ($1, $2, $3, $4, 'sent', $5, $6, $6)
       ON CONFLICT (key, human) DO NOTHING RETURNING key`,
      [notice.key, human.id, notice.kind, notice.text, notice.thread ?? null, this.deps.clock.now()],
    );
    if (!rows[0]) return false;
    await this.deps.outbox.send({
      idempotencyKey: `notice:${notice.key}:${human.id}`,
      platform: dm.platform,
      threadId: dm.thread,
      role: 'system',
      text: notice.thread && notice.thread !== dm.thread ? `${notice.text}\n(from ${notice.thread})` : notice.text,
      ...(notice.card ? { card: notice.card } : {}),
    });
    return true;
  }

  /** Holds the notice for `human`'s digest after their quiet hours. False when it was already recorded. */
  async hold(human: HumanConfig, notice: Notice): Promise<boolean> {
    const now = this.deps.clock.now();
    const after = human.notify?.quietHours ? quietEnds(human.notify.quietHours, now) : now;
    const { rows } = await this.deps.pool.query(
      `INSERT INTO notifications (key, human, kind, text, status, thread, created_at, deliver_after) VALUES ($1, $2, $3, $4, 'held', $5, $6, $7)
       ON CONFLICT (key, human) DO NOTHING RETURNING key`,
      [notice.key, human.id, notice.kind, notice.text, notice.thread ?? null, now, after],
    );
    if (rows[0]) this.deps.logger.info({ human: human.id, notice: notice.key, until: after.toISOString() }, 'quiet hours: notice held for the digest');
    return !!rows[0];
  }

  /**
   * Delivers each digest that is due: everything held for a person whose quiet hours are over,
   * as one message. Held approval requests already answered (or expired) are dropped. Claimed
   * with one statement per person, so two replicas never send the same digest.
   */
  async deliverDigests(): Promise<number> {
    const now = this.deps.clock.now();
    const { rows: due } = await this.deps.pool.query<{ human: string }>(`SELECT DISTINCT human FROM notifications WHERE status = 'held' AND deliver_after <= $1`, [now]);
    let delivered = 0;
    for (const { human: id } of due) {
      const human = this.deps.humans.find((h) => h.id === id);
      if (!human || this.quiet(human)) continue;
      await this.deps.pool.query(
        `UPDATE notifications n SET status = 'dropped' WHERE n.human = $1 AND n.status = 'held' AND n.kind = 'approvals'
         AND EXISTS (SELECT 1 FROM approvals a WHERE n.key = 'approval:' || a.id AND a.status <> 'pending')`,
        [id],
      );
      const { rows } = await this.deps.pool.query<{ key: string; text: string; thread: string | null; created_at: Date }>(
        `UPDATE notifications SET status = 'sent', sent_at = $2 WHERE human = $1 AND status = 'held' AND deliver_after <= $2
         RETURNING key, text, thread, created_at`,
        [id, now],
      );
      if (!rows.length) continue;
      rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
      const dm = this.directThread(human, rows[0]!.thread ?? undefined);
      if (!dm) continue;
      const shown = rows.slice(0, DIGEST_MAX_NOTICES);
      const lines = shown.map((r) => `• ${r.text.replace(/\n/g, '\n  ')}${r.thread ? `\n  (from ${r.thread})` : ''}`);
      if (rows.length > shown.length) lines.push(`… and ${rows.length - shown.length} more.`);
      await this.deps.outbox.send({
        idempotencyKey: `digest:${id}:${rows
          .map((r) => r.key)
          .sort()
          .join(',')}`.slice(0, 400),
        platform: dm.platform,
        threadId: dm.thread,
        role: 'system',
        text: `While you were in quiet hours (${rows.length === 1 ? '1 notice' : `${rows.length} notices`}):\n${lines.join('\n')}`,
      });
      delivered++;
    }
    return delivered;
  }

  /** The people a notice is for, in `humans:` order. */
  private recipients(notice: Notice): HumanConfig[] {
    if (notice.to === 'everyone') return [...this.deps.humans];
    const ids = new Set<string>();
    for (const who of notice.to) {
      const human = typeof who === 'string' ? this.deps.humans.find((h) => h.id === who) : this.deps.approvers.identify(who.platform, who.userId);
      if (human) ids.add(human.id);
    }
    return this.deps.humans.filter((h) => ids.has(h.id));
  }

  /** The first of the person's `via` platforms (else the notice's thread's) where a direct thread reaches them. */
  private directThread(human: HumanConfig, about: string | undefined): { platform: string; thread: string } | undefined {
    const platforms = human.notify?.via ?? (about ? [about.split(':')[0]!] : ['local']);
    for (const platform of platforms) {
      const userId = this.deps.approvers.addressOn(platform, human);
      const thread = userId === undefined ? undefined : this.deps.outbox.directThreadFor?.(platform, userId);
      if (thread && thread !== about) return { platform, thread };
    }
    return undefined;
  }
}
