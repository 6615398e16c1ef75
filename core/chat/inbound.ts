import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Envelope, InboundRedelivery, InboundResult, IngressOptions, IngressSink } from './types.js';

/**
 * The one retry policy for handing an inbound message to the ingress, for every platform: a
 * failure there is a database or queue blip, worth a few quick tries. Short enough to fit in the
 * tightest acknowledgement deadline (Slack's 3 s): waits of 100, 200 and 400 ms between four
 * attempts. Past it, the platform's own redelivery takes over, or (where there is none) the
 * message is reported lost.
 */
export interface InboundRetryPolicy {
  /** Calls to the ingress in all, the first included. */
  attempts: number;
  /** Wait before the second call; it doubles each time, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const INBOUND_RETRY: Readonly<InboundRetryPolicy> = { attempts: 4, firstDelayMs: 100, maxDelayMs: 1000 };

export interface DeliverInboundOptions extends IngressOptions {
  /** Whether the platform delivers again what is not acknowledged: decides how a final failure is reported. */
  redelivery: InboundRedelivery;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Counts final failures by platform and outcome (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
  /** Tests only: the policy is the same for every platform. */
  policy?: InboundRetryPolicy;
}

/**
 * Hands one envelope to the ingress and says whether to acknowledge the platform: `ack` is true
 * only once the envelope is durably stored (now, or before: a redelivery the ingress deduped).
 * Failures are retried with `INBOUND_RETRY`; when every try failed, `ack` is false and the caller
 * leaves the platform unacknowledged (it delivers again), or, where the platform cannot deliver
 * again, the message was logged as lost, with its text, and counted. Never throws.
 *
 * This is not a dedupe: whether a message was seen before is the ingress's to say (by envelope
 * id), so a redelivery is answered once however many times it arrives.
 */
export async function deliverInbound(sink: IngressSink, envelope: Envelope, opts: DeliverInboundOptions): Promise<InboundResult> {
  const policy = opts.policy ?? INBOUND_RETRY;
  const ingressOptions: IngressOptions | undefined = opts.recorded ? { recorded: opts.recorded } : undefined;
  let error: Error = new Error('no attempt was made');
  for (let attempt = 1; attempt <= Math.max(1, policy.attempts); attempt++) {
    try {
      const { id, accepted } = await sink(envelope, ingressOptions);
      return { ack: true, id, accepted, attempts: attempt };
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      if (attempt >= policy.attempts) return failed(envelope, error, attempt, opts);
      await wait(Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1)));
    }
  }
  return failed(envelope, error, policy.attempts, opts);
}

function failed(envelope: Envelope, error: Error, attempts: number, opts: DeliverInboundOptions): InboundResult {
  if (opts.redelivery === 'platform') {
    opts.metrics?.inboundFailures.inc({ platform: envelope.platform, outcome: 'unacknowledged' });
    opts.logger.warn(
      { inbound: envelope.id, platform: envelope.platform, threadId: envelope.threadId, attempts, err: error.message },
      `${envelope.platform}: the ingress could not store a message; leaving it unacknowledged so it is delivered again`,
    );
  } else {
    reportLostInbound(envelope, { error, attempts, why: `after ${attempts} attempts and ${envelope.platform} does not deliver it again` }, opts);
  }
  return { ack: false, id: envelope.id, accepted: false, attempts, error };
}

/**
 * A message the ingress never stored and nothing will deliver again: logged at error level with
 * what an operator needs to answer it by hand (the log line is its last copy), and counted as
 * `pantheon_inbound_failures_total{outcome="lost"}`. `deliverInbound` reports so for platforms
 * that never redeliver; a platform that redelivers reports so when it stops trying (Mattermost's
 * held posts).
 */
export function reportLostInbound(
  envelope: Envelope,
  loss: { error: Error; attempts: number /** Why nothing will try again, after "could not store it". */; why: string },
  opts: Pick<DeliverInboundOptions, 'logger' | 'metrics'>,
): void {
  opts.metrics?.inboundFailures.inc({ platform: envelope.platform, outcome: 'lost' });
  opts.logger.error(
    { inbound: envelope.id, platform: envelope.platform, threadId: envelope.threadId, attempts: loss.attempts, err: loss.error.message, author: envelope.author, text: envelope.text.slice(0, 2000) },
    `${envelope.platform}: MESSAGE LOST: the ingress could not store it ${loss.why}`,
  );
}
