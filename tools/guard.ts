import { systemClock, type Clock } from '../core/clock/index.js';
import { interrupt } from '@langchain/langgraph';
import type { PartialPolicy, Policy, PolicyDecision } from '../core/config/policy.js';
import { maskArgs } from '../core/audit/mask.js';
import { scrubSecrets, type Logger } from '../core/log.js';
import { isDatabaseError } from '../core/internal-error.js';
import type { Metrics } from '../core/metrics.js';
import type { Approval, ApprovalInterrupt, ApprovalPort, ApprovalResume } from '../core/chat/approvals.js';
import type { AuditSink } from './audit-sink.js';
import { decide } from './policy.js';
import type { PantheonTool, ToolCall } from './types.js';

export type ToolOutcome = 'ok' | 'error' | 'refused_by_policy' | 'denied' | 'expired';

export interface ToolGuardDeps {
  /** The team policy (`policy:` in pantheon.yaml). */
  policy: Policy;
  /** A persona's own overrides (`policy:` in its YAML). */
  personaPolicy?: (persona: string) => PartialPolicy | undefined;
  /** Asks the humans when the policy says `ask` (orchestrator/approvals/ implements it). */
  approvals: ApprovalPort;
  audit?: AuditSink;
  metrics?: Pick<Metrics, 'toolCalls'>;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** What time it is for approvals' expiry (the approval store's clock); default the system's. */
  clock?: Clock;
}

/** Longest error text handed back to the model. */
const MAX_ERROR_CHARS = 1000;

/**
 * Every tool call a persona makes passes through here: the policy decides, a human approves
 * when it says `ask` (asked through the `ApprovalPort`, which records and posts the request),
 * and the outcome is audited and counted.
 *
 * Waiting for a human is a LangGraph interrupt: the run stops and is checkpointed. When an
 * approver answers, the orchestrator records the decision and resumes the run;
 * the guard acts on the answer on record, never on the resume value alone. LangGraph runs the
 * tool function again from the start on resume, so everything before `interrupt()` is
 * idempotent: the approval is keyed by the tool call id, the posts by the approval id.
 * A refusal (policy, human, expiry) is not an error: the persona gets a short text saying
 * why the tool did not run, and carries on without it.
 */
export class ToolGuard {
  constructor(private readonly deps: ToolGuardDeps) {}

  /** The policy's answer for this persona and tool. */
  decision(tool: Pick<PantheonTool, 'name' | 'risk'>, persona: string): PolicyDecision {
    return decide(tool, this.deps.policy, this.deps.personaPolicy?.(persona));
  }

  /** Runs `tool` for `call` under the policy. `args` are already validated against its schema. */
  async run(tool: PantheonTool, args: unknown, call: ToolCall, opts: { reason?: string } = {}): Promise<string> {
    const assessed = tool.riskFor?.(args as never);
    if (typeof assessed === 'object') {
      await this.record(tool, args, call, 'refused_by_policy', 0, undefined, assessed.refuse);
      return `Not run: ${assessed.refuse}`;
    }
    const risk = assessed ?? tool.risk;
    const decision = this.decision({ ...tool, risk }, call.persona);
    if (decision === 'deny') {
      await this.record(tool, args, call, 'refused_by_policy', 0);
      return `Not run: the policy does not allow ${call.persona} to use ${tool.name}. Carry on without it, or ask a human to do it.`;
    }
    if (decision === 'ask' && !this.deps.approvals.hasApprovers()) {
      // Nobody could ever answer: say so now rather than wait for the expiry.
      await this.record(tool, args, call, 'refused_by_policy', 0, undefined, 'needs approval, and no human is an approver');
      return `Not run: ${tool.name} needs a human's approval, and nobody is listed as an approver (humans: with approver: true in pantheon.yaml). Carry on without it, or ask a human to do it.`;
    }
    let approval: Approval | undefined;
    if (decision === 'ask') {
      approval = await this.requestApproval({ ...tool, risk }, args, call, opts.reason);
      const answer = this.settled(approval) ?? (await this.awaitAnswer(approval));
      if (!answer.approved) {
        const outcome = answer.expired ? 'expired' : 'denied';
        await this.record(tool, args, call, outcome, 0, approval.id, answer.reason);
        return answer.expired
          ? `Not run: approval request ${approval.id} for ${tool.name} expired without an answer.`
          : `Not run: denied by ${answer.by}${answer.reason ? ` (${answer.reason})` : ''}.`;
      }
    }
    return this.execute(tool, args, call, approval?.id);
  }

  private async execute(tool: PantheonTool, args: unknown, call: ToolCall, approvalId?: string): Promise<string> {
    const started = performance.now();
    try {
      const result = await tool.run(args as never, call);
      await this.record(tool, args, call, 'ok', performance.now() - started, approvalId);
      return result;
    } catch (err) {
      const message = scrubSecrets((err as Error)?.message ?? String(err)).slice(0, MAX_ERROR_CHARS);
      this.deps.logger?.warn({ tool: tool.name, persona: call.persona, toolCall: call.id, err: message }, 'tool failed');
      await this.record(tool, args, call, 'error', performance.now() - started, approvalId, message);
      // A database's error text is for the log: the model would repeat it in the chat.
      if (isDatabaseError(err)) return `Error: ${tool.name} failed because of an internal error; tell the user it failed, not why.`;
      return `Error: ${message}`;
    }
  }

  /** Creates (or finds again) the approval; the port posts it to the thread and the approvers while it is pending. */
  private requestApproval(tool: PantheonTool, args: unknown, call: ToolCall, reason?: string): Promise<Approval> {
    return this.deps.approvals.request({
      toolCallId: call.id,
      thread: call.threadId,
      platform: call.platform,
      persona: call.persona,
      tool: tool.name,
      args: maskArgs(withDescription(tool, args), tool.secretArgs),
      reason,
      risk: tool.risk,
      runId: call.runId,
      inboundId: call.inboundId,
      ttlMinutes: this.deps.policy.approvalTtlMinutes,
    });
  }

  /**
   * The answer already on record, if any. A run replayed after the answer was given (say,
   * the process stopped before the resumed run finished) finds it here instead of waiting
   * again; a request past its expiry counts as expired even before `expireDue` marks it.
   */
  private settled(approval: Approval): ApprovalResume | undefined {
    switch (approval.status) {
      case 'approved':
        return { approved: true, by: approval.decidedBy ?? 'unknown', reason: approval.decisionNote };
      case 'denied':
        return { approved: false, by: approval.decidedBy ?? 'unknown', reason: approval.decisionNote };
      case 'expired':
        return { approved: false, by: 'system', expired: true };
      case 'pending':
        return approval.expiresAt.getTime() <= (this.deps.clock ?? systemClock).now().getTime() ? { approved: false, by: 'system', expired: true } : undefined;
    }
  }

  /**
   * Pauses until this approval is answered. interrupt() pauses the run by throwing (so no
   * try/catch here) and returns once the run is resumed. The resume value only wakes the call:
   * the answer is the one on record in the store, so a resume meant for another call paused
   * in the same thread (a plain `Command({ resume })` reaches them all), or one that never went
   * through `decide` (and so was never audited), leaves this call waiting. Each interrupt()
   * in a task has its own slot for a resume value, so waiting again is another interrupt().
   */
  private async awaitAnswer(approval: Approval): Promise<ApprovalResume> {
    for (;;) {
      interrupt(this.interruptValue(approval));
      const current = await this.deps.approvals.get(approval.id);
      if (!current) return { approved: false, by: 'system', reason: `approval request ${approval.id} no longer exists` };
      const answer = this.settled(current);
      if (answer) return answer;
    }
  }

  private interruptValue(approval: Approval): ApprovalInterrupt {
    return {
      type: 'approval',
      approvalId: approval.id,
      tool: approval.tool,
      persona: approval.persona,
      thread: approval.thread,
      risk: approval.risk,
      expiresAt: approval.expiresAt.toISOString(),
    };
  }

  private async record(tool: PantheonTool, args: unknown, call: ToolCall, outcome: ToolOutcome, durationMs: number, approvalId?: string, detail?: string): Promise<void> {
    this.deps.metrics?.toolCalls.inc({ persona: call.persona, tool: tool.name, outcome });
    try {
      await this.deps.audit?.recordToolCall({
        persona: call.persona,
        thread: call.threadId,
        tool: tool.name,
        args,
        outcome,
        approvalId,
        durationMs,
        detail,
        toolCallId: call.id,
        secretArgNames: tool.secretArgs,
      });
    } catch (err) {
      // The call happened; failing to record it must not make the persona redo it.
      this.deps.logger?.warn({ tool: tool.name, toolCall: call.id, err: (err as Error).message }, 'could not write the audit record of a tool call');
    }
  }
}

/** The arguments as approvers see them: plus what the tool says the call will do, if it says. */
function withDescription(tool: PantheonTool, args: unknown): unknown {
  let extra: Record<string, string> | undefined;
  try {
    extra = tool.describeCall?.(args as never);
  } catch {
    extra = undefined;
  }
  return extra && args && typeof args === 'object' ? { ...(args as object), ...extra } : args;
}
