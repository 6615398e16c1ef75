import type { RiskClass } from '../../core/config/policy.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/**
 * A persona's tool call waiting for a human. `id` is the short code people type
 * (`approve k7m2x`); `toolCallId` is the model's id for the call, which makes asking twice
 * for the same call return the same request.
 */
export interface Approval {
  id: string;
  toolCallId: string;
  thread: string;
  channel: string;
  persona: string;
  tool: string;
  /** Masked before they were stored: safe to show. */
  args: unknown;
  /** Why the persona wants to call the tool, in its words. */
  reason?: string;
  risk: RiskClass;
  status: ApprovalStatus;
  requestedAt: Date;
  expiresAt: Date;
  decidedBy?: string;
  decidedAt?: Date;
  /** What the approver added (`deny k7m2x not on a Friday`). */
  decisionNote?: string;
  runId?: string;
  inboundId?: string;
}

/** What the tool guard asks for. `args` must already be masked. */
export interface ApprovalRequest {
  toolCallId: string;
  thread: string;
  channel: string;
  persona: string;
  tool: string;
  args: unknown;
  reason?: string;
  risk: RiskClass;
  runId: string;
  inboundId?: string;
  /** Minutes until the request expires (fractions allowed). */
  ttlMinutes: number;
}

export type DecideResult =
  | { ok: true; approval: Approval }
  | { ok: false; reason: 'unknown' | 'already_decided' | 'expired'; approval?: Approval };

/**
 * An approval's answer: what a paused run is resumed with (`new Command({ resume })`), and
 * what the guard acts on. The guard takes the answer from the approval's row, not from the
 * resume value, so a resume only wakes the paused call: decide in the store first.
 * The tool runs only when `approved` is true.
 */
export interface ApprovalResume {
  approved: boolean;
  /** The approver's human id, or `system` for an expiry. */
  by: string;
  reason?: string;
  /** Set when nobody answered in time. */
  expired?: boolean;
}

/**
 * The payload of the LangGraph interrupt a guarded tool raises while it waits. It shows up in
 * a run's result as `__interrupt__: [{ id, value: ApprovalInterrupt }]` and in the thread's
 * state tasks; `approvalId` links it to the approval row.
 */
export interface ApprovalInterrupt {
  type: 'approval';
  approvalId: string;
  tool: string;
  persona: string;
  thread: string;
  risk: RiskClass;
  expiresAt: string;
}

export function isApprovalInterrupt(value: unknown): value is ApprovalInterrupt {
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'approval' &&
    typeof (value as { approvalId?: unknown }).approvalId === 'string';
}
