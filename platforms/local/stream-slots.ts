import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * Who holds a stream, for counting: the credential the request carries (the bearer token or the
 * console's session cookie, hashed so no secret is kept), else the caller's address.
 */
export function credentialOf(request: FastifyRequest): string {
  const presented = request.headers.authorization ?? request.headers.cookie;
  if (presented) return `cred:${createHash('sha256').update(presented).digest('hex').slice(0, 32)}`;
  return `addr:${request.ip}`;
}

export type SlotRefusal = 'credential' | 'process';

/**
 * Open SSE streams, counted per credential and for the whole process: each stream holds a socket,
 * a heartbeat timer and a place in its conversation's feed, so one credential cannot open
 * thousands of them.
 */
export class StreamSlots {
  private readonly byCredential = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perCredential: number,
    readonly perProcess: number,
  ) {}

  /** Takes a slot; the returned function gives it back (once). A refusal says which cap was reached. */
  take(credential: string): { release: () => void } | { refused: SlotRefusal } {
    const held = this.byCredential.get(credential) ?? 0;
    if (held >= this.perCredential) return { refused: 'credential' };
    if (this.total >= this.perProcess) return { refused: 'process' };
    this.byCredential.set(credential, held + 1);
    this.total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.byCredential.get(credential) ?? 1) - 1;
        if (left > 0) this.byCredential.set(credential, left);
        else this.byCredential.delete(credential);
      },
    };
  }

  get open(): number {
    return this.total;
  }
}
