import type { RiskClass } from '../config/policy.js';
import type { HumanConfig } from '../config/schema.js';

/**
 * Human approval of risky tool calls, as contracts. The tool guard (tools/) decides by policy
 * and asks the `ApprovalPort` when the policy says `ask`; the orchestrator (orchestrator/approvals/)
 * implements the port (the request store, posting the request, answering `approve` / `deny`).
 * Channels only ever see the card (types.ts) and the `approve <id>` command parsed here.
 */

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
  platform: string;
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
  platform: string;
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

export type DecideResult = { ok: true; approval: Approval } | { ok: false; reason: 'unknown' | 'already_decided' | 'expired'; approval?: Approval };

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
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'approval' && typeof (value as { approvalId?: unknown }).approvalId === 'string';
}

/**
 * What the tool guard asks when the policy says `ask`. Asking is idempotent per tool call:
 * LangGraph runs a paused tool again from the start on resume, so `request` for the same call
 * returns the same approval and posts it once (the posts are keyed by the approval id).
 */
export interface ApprovalPort {
  /** Whether anybody could answer (`humans:` with `approver: true`); if not, the guard refuses at once. */
  hasApprovers(): boolean;
  /**
   * The approval for this tool call: created on the first ask, and while pending posted where
   * the call was made and privately to each approver the platform lets us reach.
   */
  request(req: ApprovalRequest): Promise<Approval>;
  /** The approval as on record now (answered, expired, or still pending). */
  get(id: string): Promise<Approval | undefined>;
}

export type Human = HumanConfig;

/**
 * Who people are, from `humans:` in pantheon.yaml. A port so that commands and tools can ask
 * who wrote a message without knowing where the registry lives. An identity the registry does
 * not list is nobody: never an approver, whatever name it claims.
 */
export interface HumanDirectory {
  /** The human behind a platform user id (`platform` may be a platform or a thread id on it). */
  identify(platform: string, userId: string): Human | undefined;
  isApprover(platform: string, userId: string): boolean;
  /** Everyone who may approve. */
  list(): Human[];
}

/** What a typed approval id may look like (case-insensitive); the length leaves room to grow. */
export const APPROVAL_ID_PATTERN = /^[2-9a-hjkmnp-z]{4,8}$/i;

/** The canonical form of a typed id. */
export function normaliseApprovalId(id: string): string {
  return id.trim().toLowerCase();
}

export interface ApprovalCommand {
  action: 'approve' | 'deny';
  /** Lowercased. */
  id: string;
  /** Anything after the id: the approver's reason, shown to the persona. */
  note?: string;
}

/**
 * `approve <id>`, `deny <id> [reason]`, and the slash forms `/approve <id>`, `/deny <id>`
 * (Telegram sends `/approve@pantheon_bot <id>` in groups). Case-insensitive, whitespace
 * tolerant, `#` before the id allowed. Only ids made of the approval alphabet count, so
 * ordinary chat such as "approve this" is not taken for a command.
 */
const COMMAND = /^\/?(approve|deny)(?:@[A-Za-z0-9_]+)?[ \t]+#?([A-Za-z0-9]+)(?:[^A-Za-z0-9]+([\s\S]*))?$/i;

export function parseApprovalCommand(text: string): ApprovalCommand | null {
  const match = COMMAND.exec(text.trim());
  if (!match) return null;
  const [, verb, rawId, rest] = match;
  if (!APPROVAL_ID_PATTERN.test(rawId!)) return null;
  const note = rest?.trim();
  return {
    action: verb!.toLowerCase() as ApprovalCommand['action'],
    id: normaliseApprovalId(rawId!),
    ...(note ? { note } : {}),
  };
}
