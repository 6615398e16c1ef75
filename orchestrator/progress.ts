import { createMiddleware } from 'langchain';
import type { OutboundMessage } from '../core/chat/types.js';
import { CONFIGURABLE_PLATFORM } from '../tools/langchain.js';

/** What the progress middleware needs of the outbox. */
export interface ProgressPort {
  send(message: OutboundMessage): Promise<{ queued: boolean }>;
  typing(platform: string, threadId: string, persona?: string): Promise<void>;
  canEdit(platform: string): boolean;
}

export interface ProgressOptions {
  /** A run still working after this long gets a progress message (then edited in place). */
  afterMs: number;
  /** Typing indicators are refreshed at most this often per thread (platforms show them ~5 s). */
  typingEveryMs?: number;
  now?: () => number;
}

interface RunProgress {
  startedAt: number;
  steps: string[];
  posted: number;
}

/**
 * Shows that a persona is at work: a typing indicator before each model call, and, once a run
 * has gone on longer than `afterMs`, ONE progress message ("apollo is working: 3 steps so far:
 * clone, run_command, ...") that later steps edit in place instead of posting anew. Only on
 * platforms that can edit; elsewhere the typing indicator is all.
 */
export function progressMiddleware(personaId: string, port: ProgressPort, opts: ProgressOptions) {
  const now = opts.now ?? Date.now;
  const typingEvery = opts.typingEveryMs ?? 4000;
  const lastTyping = new Map<string, number>();
  const runs = new Map<string, RunProgress>();

  const where = (runtime: unknown) => {
    const configurable = ((runtime as { configurable?: Record<string, unknown> } | undefined)?.configurable ?? {}) as Record<string, unknown>;
    const threadId = typeof configurable.thread_id === 'string' ? configurable.thread_id : undefined;
    if (!threadId) return undefined;
    const platform = typeof configurable[CONFIGURABLE_PLATFORM] === 'string' ? (configurable[CONFIGURABLE_PLATFORM] as string) : threadId.split(':')[0]!;
    const inbound = typeof configurable.pantheon_inbound === 'string' ? configurable.pantheon_inbound : 'run';
    return { threadId, platform, key: `progress:${threadId}:${inbound}:${personaId}` };
  };

  return createMiddleware({
    name: `pantheon-progress-${personaId}`,
    wrapModelCall: async (request, handler) => {
      const at = where(request.runtime);
      if (at) {
        const last = lastTyping.get(at.threadId);
        if (last === undefined || now() - last >= typingEvery) {
          lastTyping.set(at.threadId, now());
          if (lastTyping.size > 1000) lastTyping.delete(lastTyping.keys().next().value!);
          void port.typing(at.platform, at.threadId, personaId);
        }
      }
      return handler(request);
    },
    wrapToolCall: async (request, handler) => {
      const at = where(request.runtime);
      if (!at || !port.canEdit(at.platform)) return handler(request);
      let run = runs.get(at.key);
      if (!run) {
        run = { startedAt: now(), steps: [], posted: 0 };
        runs.set(at.key, run);
        if (runs.size > 500) runs.delete(runs.keys().next().value!);
      }
      run.steps.push(request.toolCall.name);
      if (now() - run.startedAt >= opts.afterMs) {
        const text = `_${personaId} is working: ${run.steps.length} step${run.steps.length === 1 ? '' : 's'} so far (${run.steps.slice(-5).join(', ')})_`;
        const first = run.posted === 0;
        run.posted += 1;
        await port
          .send({
            idempotencyKey: first ? at.key : `${at.key}:${run.posted}`,
            platform: at.platform,
            threadId: at.threadId,
            role: 'system',
            text,
            ...(first ? {} : { replaces: at.key }),
          })
          .catch(() => ({ queued: false }));
      }
      return handler(request);
    },
  });
}
