/**
 * Idempotency on GitHub: everything a tool creates (issue, comment, PR, review, reply) carries
 * a hidden HTML comment with the tool call id. A run replayed after a crash looks for it before
 * creating anything, so the same call never creates a second one.
 */
function callMarker(callId: string): string {
  return `<!-- pantheon:${callId.replace(/[^A-Za-z0-9_.:-]/g, '_')} -->`;
}

/** `body` with the call's marker appended (on its own line). */
export function withMarker(body: string, callId: string): string {
  return `${body.trimEnd()}\n\n${callMarker(callId)}`;
}

export function hasMarker(body: string | null | undefined, callId: string): boolean {
  return !!body && body.includes(callMarker(callId));
}
