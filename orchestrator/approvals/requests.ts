import type { Approval, ApprovalPort, ApprovalRequest } from '../../core/chat/approvals.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import { systemClock, type Clock } from '../../core/clock/index.js';
import type { Approvers } from './approvers.js';
import { approvalCard } from './card.js';
import { formatApprovalRequest } from './format.js';
import type { ApprovalRouting } from './routing.js';
import type { ApprovalStore } from './store.js';

/**
 * The approval port the tool guard asks: records the request (`ApprovalStore`), and while it
 * is pending posts it where the call was made and to each approver privately, where their
 * platform's adapter can open a direct thread (`directThreadId`; the local chat's is the
 * person's `dm-<id>` conversation). Every post is keyed by the approval id, so the re-run of
 * a paused tool (LangGraph runs it again from the start on resume) posts nothing twice. With
 * `routing` (the server's), approvers are reached through the notifier instead: their quiet
 * hours and preferences decide who is asked, and unanswered requests escalate.
 */
export class ApprovalRequests implements ApprovalPort {
  constructor(
    private readonly deps: {
      store: Pick<ApprovalStore, 'request' | 'get'>;
      approvers: Pick<Approvers, 'list' | 'addressOn'>;
      outbox: OutboxPort;
      routing?: Pick<ApprovalRouting, 'route'>;
      /** What time "expires in …" is counted from; default the system's. */
      clock?: Clock;
    },
  ) {}

  hasApprovers(): boolean {
    return this.deps.approvers.list().length > 0;
  }

  get(id: string): Promise<Approval | undefined> {
    return this.deps.store.get(id);
  }

  async request(req: ApprovalRequest): Promise<Approval> {
    const approval = await this.deps.store.request(req);
    if (approval.status !== 'pending') return approval;
    const { outbox } = this.deps;
    const now = (this.deps.clock ?? systemClock).now();
    const text = formatApprovalRequest(approval, now);
    await outbox.send({
      idempotencyKey: `approval:${approval.id}`,
      platform: req.platform,
      threadId: req.thread,
      role: 'system',
      text,
      card: approvalCard(approval, now),
      replyTo: req.inboundId,
    });
    if (this.deps.routing) {
      await this.deps.routing.route(approval);
      return approval;
    }
    // Each approver also gets the request privately, where the platform lets us reach them.
    const platform = req.platform.split(':')[0]!;
    for (const human of this.deps.approvers.list()) {
      const userId = this.deps.approvers.addressOn(platform, human);
      const dm = userId === undefined ? undefined : outbox.directThreadFor?.(platform, userId);
      if (!dm || dm === req.thread) continue;
      await outbox.send({
        idempotencyKey: `approval:${approval.id}:dm:${human.id}`,
        platform: platform,
        threadId: dm,
        role: 'system',
        text: `${text}\n(asked in ${req.thread})`,
        card: approvalCard(approval, now),
      });
    }
    return approval;
  }
}
