import type { Envelope } from '../../core/chat/types.js';
import type { ApprovalCommand, Human, HumanDirectory } from '../../core/chat/approvals.js';
import type { DecisionRecord } from '../../core/audit/index.js';
import type { Logger } from '../../core/log.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { ApprovalRouting } from './routing.js';
import type { ApprovalStore } from './store.js';
import type { Approval, ApprovalResume } from './types.js';

/**
 * Where approval answers land: `approve <id>` / `deny <id>` (typed, or a button standing for
 * them; registered as chat commands by `approvalCommands`), and expiries. It checks who is
 * answering against the `humans:` registry, records the decision (approval row, audit log),
 * answers in the chat, and asks for the paused thread to be drained, which resumes its graph
 * with the decision.
 */
export class ApprovalDesk {
  constructor(
    private readonly deps: {
      store: ApprovalStore;
      approvers: Pick<HumanDirectory, 'identify' | 'list'>;
      audit: { recordDecision(record: DecisionRecord): Promise<unknown> };
      outbox: OutboxPort;
      /** Schedules another look at a thread (the ingress queue's `drain` job: `scheduleDrain` in orchestrator/ingress.ts). */
      drain: (threadId: string) => Promise<void>;
      logger: Logger;
      /** Escalation of unanswered requests (`policy.escalation`), taken at each sweep. */
      routing?: Pick<ApprovalRouting, 'escalateDue'>;
    },
  ) {}

  /** The resume value for a paused run, once its approval is decided; null while it is pending. */
  async decisionFor(approvalId: string): Promise<ApprovalResume | null> {
    const a = await this.deps.store.get(approvalId);
    if (!a || a.status === 'pending') return null;
    if (a.status === 'expired') return { approved: false, by: 'system', expired: true, reason: 'nobody answered in time' };
    return { approved: a.status === 'approved', by: a.decidedBy ?? 'unknown', reason: a.decisionNote };
  }

  /**
   * Answers `approve <id>` / `deny <id>` from `envelope`'s author: the decision is recorded and
   * audited, a thread paused elsewhere is drained, and the reply for the chat is returned.
   */
  async answer(command: ApprovalCommand, envelope: Envelope): Promise<string> {
    const human = this.deps.approvers.identify(envelope.platform, envelope.author.id);
    const result = await this.decide(command, human, envelope.author.id);
    if (!result.ok && result.reason === 'unknown') return `There is no approval request ${command.id}.`;
    if (!result.ok && result.reason === 'not_approver') {
      return `${envelope.author.name} is not an approver, so ${command.id} stays open. Approvers: ${
        this.deps.approvers
          .list()
          .filter((h) => h.approver)
          .map((h) => h.id)
          .join(', ') || 'none configured (humans: in pantheon.yaml)'
      }.`;
    }
    if (!result.ok) return `${command.id} was not changed: ${whyNotChanged(result)}.`;
    const decided = result.approval;
    // A decision in the paused thread itself is seen by the drain answering it; another thread needs a look.
    if (decided.thread !== envelope.threadId) await this.deps.drain(decided.thread);
    return decisionText(decided, command.note);
  }

  /**
   * A decision made in the web console by a signed-in human: checked, recorded and audited as
   * in chat, then said in the approval's thread (through the outbox) and the thread drained so
   * its paused run resumes.
   */
  async decideFromConsole(command: ApprovalCommand, human: Human | undefined): Promise<ConsoleDecision> {
    const result = await this.decide(command, human, human?.id ?? 'unknown');
    if (!result.ok) return result.reason === 'unknown' || result.reason === 'not_approver' ? result : { ...result, message: `${command.id} was not changed: ${whyNotChanged(result)}` };
    const decided = result.approval;
    await this.deps.outbox.send({
      idempotencyKey: `approval:${decided.id}:decided`,
      platform: decided.platform,
      threadId: decided.thread,
      role: 'system',
      text: `${decisionText(decided, command.note)} (in the console)`,
    });
    await this.deps.drain(decided.thread);
    return result;
  }

  /** Who may decide, the decision recorded once, and the audit entry either way. */
  private async decide(command: ApprovalCommand, human: Human | undefined, actor: string): Promise<ConsoleDecision> {
    const approval = await this.deps.store.get(command.id);
    if (!approval) return { ok: false, reason: 'unknown' };
    if (!human?.approver) {
      await this.audit(approval, actor, 'refused_not_approver', `${command.action} by someone who is not an approver`);
      return { ok: false, reason: 'not_approver', approval };
    }
    const result = await this.deps.store.decide(command.id, { approved: command.action === 'approve', by: human.id, note: command.note });
    if (!result.ok) return result;
    const decided = result.approval;
    await this.audit(decided, human.id, decided.status === 'approved' ? 'approved' : 'denied_by_human', command.note);
    return { ok: true, approval: decided };
  }

  /** Escalates what waited too long, expires overdue requests; each expired one's paused thread then resumes with "not run: expired". */
  async sweep(): Promise<number> {
    await this.deps.routing?.escalateDue((id) => this.deps.store.get(id));
    const expired = await this.deps.store.expireDue();
    for (const a of expired) {
      await this.audit(a, 'system', 'expired', 'nobody answered in time');
      await this.deps.outbox.send({
        idempotencyKey: `approval:${a.id}:expired`,
        platform: a.platform,
        threadId: a.thread,
        role: 'system',
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

/** What deciding an approval came to. */
export type ConsoleDecision = { ok: true; approval: Approval } | { ok: false; reason: 'unknown' | 'not_approver' | 'already_decided' | 'expired'; approval?: Approval; message?: string };

function whyNotChanged(result: { reason: string; approval?: Approval }): string {
  return result.reason === 'expired'
    ? 'it has expired'
    : result.reason === 'already_decided'
      ? `it was already ${result.approval?.status} by ${result.approval?.decidedBy ?? 'someone'}`
      : 'it does not exist';
}

function decisionText(decided: Approval, note: string | undefined): string {
  return decided.status === 'approved'
    ? `Approved by ${decided.decidedBy}: ${decided.persona} may run ${decided.tool} (${decided.id}).`
    : `Denied by ${decided.decidedBy}: ${decided.persona} will not run ${decided.tool} (${decided.id})${note ? `: ${note}` : ''}.`;
}
