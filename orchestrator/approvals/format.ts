import type { Approval } from './types.js';

/** Longest argument summary shown in a request; the full (masked) arguments are in the audit log. */
const MAX_ARGS_CHARS = 400;
const MAX_REASON_CHARS = 500;

/** Arguments as one line of JSON, cut to `max` characters. They were masked before storing. */
export function compactArgs(args: unknown, max = MAX_ARGS_CHARS): string {
  let text: string;
  try {
    text = JSON.stringify(args ?? {}) ?? '{}';
  } catch {
    text = String(args);
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "in 23h 59m (2025-03-01 14:00 UTC)": relative for people, absolute for the record. */
export function describeExpiry(expiresAt: Date, now = new Date()): string {
  const minutes = Math.max(0, Math.round((expiresAt.getTime() - now.getTime()) / 60_000));
  const hours = Math.floor(minutes / 60);
  const relative = hours >= 48 ? `${Math.round(hours / 24)} days` : hours > 0 ? `${hours}h ${minutes % 60}m` : `${minutes}m`;
  const absolute = `${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `in ${relative} (${absolute})`;
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * The message posted where the call was made (and to each approver): the short id up front,
 * who wants to run what with which arguments and why, how to answer, and when it lapses.
 */
export function formatApprovalRequest(approval: Approval, now = new Date()): string {
  const lines = [`Approval needed [${approval.id}]: ${approval.persona} wants to run ${approval.tool} (risk: ${approval.risk}).`, `Arguments: ${compactArgs(approval.args)}`];
  if (approval.reason) lines.push(`Reason: ${clip(approval.reason, MAX_REASON_CHARS)}`);
  lines.push(`Answer "approve ${approval.id}" or "deny ${approval.id} [reason]". ` + `Expires ${describeExpiry(approval.expiresAt, now)}; unanswered, it does not run.`);
  return lines.join('\n');
}
