import type { Envelope } from '../core/chat/types.js';
import type { AuditLog } from '../core/audit/index.js';
import type { Logger } from '../core/log.js';
import type { JobQueue } from '../core/queue/types.js';
import type { OutboxPort } from '../tools/types.js';
import { INGRESS_QUEUE } from './ingress.js';
import { parseApprovalCommand } from './approvals/command.js';
import type { Approvers } from './approvals/approvers.js';
import type { ApprovalStore } from './approvals/store.js';
import type { Approval, ApprovalResume } from './approvals/types.js';

/**
 * Where approval answers land: `approve <id>` / `deny <id>` from chat (buttons later), and
 * expiries. It checks who is answering against the `humans:` registry, records the decision
 * (approval row, audit log), says so in the chat, and asks for the paused thread to be drained,
 * which resumes its graph with the decision.
 */
export class ApprovalDesk {
  constructor(
    private readonly deps: {
      store: ApprovalStore;
      approvers: Approvers;
      audit: AuditLog;
      outbox: OutboxPort;
      /** Schedules another look at a thread (the ingress queue's `drain` job). */
      drain: (threadId: string) => Promise<void>;
      logger: Logger;
    },
  ) {}

  isCommand(text: string): boolean {
    return parseApprovalCommand(text) !== null;
  }

  /** The resume value for a paused run, once its approval is decided; null while it is pending. */
  async decisionFor(approvalId: string): Promise<ApprovalResume | null> {
    const a = await this.deps.store.get(approvalId);
    if (!a || a.status === 'pending') return null;
    if (a.status === 'expired') return { approved: false, by: 'system', expired: true, reason: 'nobody answered in time' };
    return { approved: a.status === 'approved', by: a.decidedBy ?? 'unknown', reason: a.decisionNote };
  }

  async handleCommand(envelope: Envelope): Promise<void> {
    const command = parseApprovalCommand(envelope.text);
    if (!command) return;
    const say = (kind: string, text: string) =>
      this.deps.outbox.send({ idempotencyKey: `${envelope.id}:${kind}`, channel: envelope.channel, threadId: envelope.threadId, role: 'system', text, replyTo: envelope.id });
    const approval = await this.deps.store.get(command.id);
    if (!approval) return void (await say('approval-unknown', `There is no approval request ${command.id}.`));
    const human = this.deps.approvers.identify(envelope.channel, envelope.author.id);
    if (!human?.approver) {
      await this.audit(approval, envelope.author.id, 'refused_not_approver', `${command.action} by someone who is not an approver`);
      return void (await say('approval-refused', `${envelope.author.name} is not an approver, so ${approval.id} stays open. Approvers: ${this.deps.approvers.list().filter((h) => h.approver).map((h) => h.id).join(', ') || 'none configured (humans: in pantheon.yaml)'}.`));
    }
    const result = await this.deps.store.decide(command.id, { approved: command.action === 'approve', by: human.id, note: command.note });
    if (!result.ok) {
      const why = result.reason === 'expired' ? 'it has expired' : result.reason === 'already_decided' ? `it was already ${result.approval?.status} by ${result.approval?.decidedBy ?? 'someone'}` : 'it does not exist';
      return void (await say('approval-stale', `${command.id} was not changed: ${why}.`));
    }
    const decided = result.approval;
    await this.audit(decided, human.id, decided.status === 'approved' ? 'approved' : 'denied_by_human', command.note);
    await say('approval-decided', decided.status === 'approved'
      ? `Approved by ${human.id}: ${decided.persona} may run ${decided.tool} (${decided.id}).`
      : `Denied by ${human.id}: ${decided.persona} will not run ${decided.tool} (${decided.id})${command.note ? `: ${command.note}` : ''}.`);
    if (decided.thread !== envelope.threadId) await this.deps.drain(decided.thread);
  }

  /** Expires overdue requests; each paused thread then resumes with "not run: expired". */
  async sweep(): Promise<number> {
    const expired = await this.deps.store.expireDue();
    for (const a of expired) {
      await this.audit(a, 'system', 'expired', 'nobody answered in time');
      await this.deps.outbox.send({
        idempotencyKey: `approval:${a.id}:expired`, channel: a.channel, threadId: a.thread, role: 'system',
        text: `Approval ${a.id} expired: ${a.persona} did not run ${a.tool}.`,
      });
      await this.deps.drain(a.thread);
    }
    return expired.length;
  }

  private audit(a: Approval, actor: string, outcome: string, detail?: string) {
    return this.deps.audit.recordDecision({ approvalId: a.id, persona: a.persona, thread: a.thread, tool: a.tool, actor, outcome, detail });
  }
}

export function scheduleDrain(queue: JobQueue) {
  return async (threadId: string) => {
    await queue.add(INGRESS_QUEUE, 'drain', { drain: threadId }, { jobId: `drain:${threadId}:${Date.now()}:${Math.random().toString(36).slice(2, 6)}` });
  };
}

export type { JobQueue, Logger };
