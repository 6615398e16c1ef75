import type pg from 'pg';
import type { Approval } from '../../core/chat/approvals.js';
import type { Notice } from '../../core/chat/notices.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { Clock } from '../../core/clock/index.js';
import type { Policy } from '../../core/config/policy.js';
import type { HumanConfig } from '../../core/config/schema.js';
import type { Logger } from '../../core/log.js';
import type { Notifier } from '../notify/notifier.js';
import { approvalCard } from './card.js';
import { formatApprovalRequest } from './format.js';

export interface ApprovalRoutingDeps {
  pool: pg.Pool;
  notifier: Pick<Notifier, 'wants' | 'quiet' | 'sendNow' | 'hold'>;
  outbox: OutboxPort;
  /** Everyone in `humans:`, in order: approvers are asked in this order. */
  humans: readonly HumanConfig[];
  escalation?: Policy['escalation'];
  clock: Clock;
  logger: Logger;
}

/** An escalation channel in `approvals.asked`, beside human ids. */
const channelMark = (thread: string) => `#${thread}`;

/**
 * Who is asked to answer an approval, and when someone else is. Through the notifier, so each
 * approver's preferences hold: an approver in quiet hours is passed over for one who is awake;
 * with nobody awake the request is held for every approver's digest and the thread is told it
 * waits. With `policy.escalation`, the first awake approver (in `humans:` order) is asked, and
 * each `afterMinutes` unanswered the next one, then `escalation.channel`; the requesting thread
 * is told each time. Without it, every awake approver is asked at once.
 */
export class ApprovalRouting {
  constructor(private readonly deps: ApprovalRoutingDeps) {}

  /** Approvers who take approval notices, in order. */
  private approvers(): HumanConfig[] {
    return this.deps.humans.filter((h) => h.approver && this.deps.notifier.wants(h, 'approvals'));
  }

  private notice(approval: Approval): Notice {
    const now = this.deps.clock.now();
    return { kind: 'approvals', key: `approval:${approval.id}`, text: formatApprovalRequest(approval, now), to: [], thread: approval.thread, card: approvalCard(approval, now) };
  }

  /** The first asking of a new request (asking again for the same call changes nothing: notices are once per person). */
  async route(approval: Approval): Promise<void> {
    const { notifier, escalation } = this.deps;
    const approvers = this.approvers();
    const awake = approvers.filter((h) => !notifier.quiet(h));
    const notice = this.notice(approval);
    const asked: string[] = [];
    if (awake.length) {
      for (const human of escalation ? awake.slice(0, 1) : awake) {
        await notifier.sendNow(human, notice);
        asked.push(human.id);
      }
    } else if (approvers.length) {
      for (const human of approvers) await notifier.hold(human, notice);
      await this.tell(
        approval,
        'held',
        `Every approver is in quiet hours, so ${approval.id} waits: it reaches them in their digest when their quiet hours end${escalation?.channel ? `, or ${escalation.channel} in ${escalation.afterMinutes} min` : ''}.`,
      );
    }
    const next = escalation ? new Date(this.deps.clock.now().getTime() + escalation.afterMinutes * 60_000) : null;
    await this.deps.pool.query(
      `UPDATE approvals SET asked = ARRAY(SELECT DISTINCT unnest(asked || $2::text[])), escalate_at = COALESCE(escalate_at, $3)
       WHERE id = $1 AND status = 'pending' AND escalations = 0`,
      [approval.id, asked, next],
    );
  }

  /**
   * Takes each escalation step that is due: the next awake approver not yet asked, else the
   * escalation channel; the requesting thread is told. Each step is claimed by one statement, so
   * replicas sweeping together take it once. Answers how many requests were escalated.
   */
  async escalateDue(get: (id: string) => Promise<Approval | undefined>): Promise<number> {
    const { escalation } = this.deps;
    if (!escalation) return 0;
    const now = this.deps.clock.now();
    const { rows } = await this.deps.pool.query<{ id: string; asked: string[]; escalations: number }>(
      `UPDATE approvals SET escalate_at = NULL WHERE status = 'pending' AND escalate_at <= $1 AND expires_at > $1 RETURNING id, asked, escalations`,
      [now],
    );
    let escalated = 0;
    for (const row of rows) {
      const approval = await get(row.id);
      if (approval?.status !== 'pending') continue;
      const waited = describeWait(now.getTime() - approval.requestedAt.getTime());
      const notice = this.notice(approval);
      const next = this.approvers().find((h) => !row.asked.includes(h.id) && !this.deps.notifier.quiet(h));
      let to: string | undefined;
      if (next) {
        await this.deps.notifier.sendNow(next, notice);
        to = next.id;
      } else if (escalation.channel && !row.asked.includes(channelMark(escalation.channel))) {
        await this.deps.outbox.send({
          idempotencyKey: `approval:${approval.id}:escalated:${escalation.channel}`,
          platform: escalation.channel.split(':')[0]!,
          threadId: escalation.channel,
          role: 'system',
          text: `${notice.text}\n(unanswered for ${waited} in ${approval.thread})`,
          card: notice.card,
        });
        to = channelMark(escalation.channel);
      }
      if (!to) continue;
      const step = row.escalations + 1;
      await this.tell(approval, `escalated:${step}`, `Approval ${approval.id} has waited ${waited} unanswered: escalated to ${to.startsWith('#') ? to.slice(1) : to}.`);
      await this.deps.pool.query(`UPDATE approvals SET asked = array_append(asked, $2), escalations = $3, escalate_at = $4 WHERE id = $1 AND status = 'pending'`, [
        approval.id,
        to,
        step,
        new Date(now.getTime() + escalation.afterMinutes * 60_000),
      ]);
      this.deps.logger.info({ approval: approval.id, to, step }, 'approval escalated');
      escalated++;
    }
    return escalated;
  }

  private async tell(approval: Approval, what: string, text: string): Promise<void> {
    await this.deps.outbox.send({ idempotencyKey: `approval:${approval.id}:${what}`, platform: approval.platform, threadId: approval.thread, role: 'system', text });
  }
}

/** `45 s`, `15 min`, `2 h 5 min`. */
function describeWait(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}
