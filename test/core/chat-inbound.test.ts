import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deliverInbound, INBOUND_RETRY } from '../../core/chat/inbound.js';
import type { Envelope, IngressSink } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';

const envelope: Envelope = { id: 'discord:42', platform: 'discord', threadId: 'discord:1:2', author: { id: 'u1', name: 'Jeff' }, text: '@athena ship it', receivedAt: '2025-01-01T00:00:00.000Z' };
const fast = { attempts: 3, firstDelayMs: 1, maxDelayMs: 2 };

/** A sink that fails its first `failures` calls, then stores (deduping by id, as the ingress does). */
function flakySink(failures: number) {
  const stored = new Set<string>();
  let calls = 0;
  const sink: IngressSink = async (e) => {
    calls++;
    if (calls <= failures) throw new Error(`database unavailable (call ${calls})`);
    if (stored.has(e.id)) return { id: e.id, accepted: false };
    stored.add(e.id);
    return { id: e.id, accepted: true };
  };
  return { sink, stored, calls: () => calls };
}

function capture() {
  const lines: Array<{ level: number; msg: string; text?: string; inbound?: string }> = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  return { logger, lines };
}

describe('deliverInbound', () => {
  it('acknowledges once stored, retrying failures with the one policy', async () => {
    const { sink, stored, calls } = flakySink(2);
    const { logger, lines } = capture();
    const result = await deliverInbound(sink, envelope, { redelivery: 'none', logger, policy: fast });
    assert.deepEqual(result, { ack: true, id: envelope.id, accepted: true, attempts: 3 });
    assert.deepEqual([...stored], [envelope.id]);
    assert.equal(calls(), 3);
    assert.deepEqual(lines, [], 'a failure that a retry fixed is not worth a line');
  });

  it('acknowledges a duplicate (the ingress already has it) without storing it again', async () => {
    const { sink } = flakySink(0);
    const { logger } = capture();
    await deliverInbound(sink, envelope, { redelivery: 'platform', logger, policy: fast });
    assert.deepEqual(await deliverInbound(sink, envelope, { redelivery: 'platform', logger, policy: fast }), { ack: true, id: envelope.id, accepted: false, attempts: 1 });
  });

  it('where the platform redelivers: not acknowledged after the last try, a warning, counted as unacknowledged', async () => {
    const { sink, calls } = flakySink(10);
    const { logger, lines } = capture();
    const metrics = createMetrics({ defaultMetrics: false });
    const result = await deliverInbound(sink, envelope, { redelivery: 'platform', logger, metrics, policy: fast });
    assert.equal(result.ack, false);
    assert.equal(result.attempts, 3);
    assert.match(result.error!.message, /call 3/);
    assert.equal(calls(), 3);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40);
    assert.match(lines[0]!.msg, /unacknowledged so it is delivered again/);
    assert.match(await metrics.registry.metrics(), /pantheon_inbound_failures_total\{platform="discord",outcome="unacknowledged"\} 1/);
  });

  it('where nothing redelivers: an error line that carries the message, counted as lost', async () => {
    const { sink } = flakySink(10);
    const { logger, lines } = capture();
    const metrics = createMetrics({ defaultMetrics: false });
    const result = await deliverInbound(sink, envelope, { redelivery: 'none', logger, metrics, policy: fast });
    assert.equal(result.ack, false);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 50);
    assert.match(lines[0]!.msg, /MESSAGE LOST/);
    assert.equal(lines[0]!.text, envelope.text);
    assert.equal(lines[0]!.inbound, envelope.id);
    assert.match(await metrics.registry.metrics(), /pantheon_inbound_failures_total\{platform="discord",outcome="lost"\} 1/);
  });

  it('passes `recorded` on to the ingress', async () => {
    let seen: Envelope | undefined;
    const sink: IngressSink = async (e, o) => {
      await o?.recorded?.(e);
      return { id: e.id, accepted: true };
    };
    await deliverInbound(sink, envelope, {
      redelivery: 'platform',
      logger: capture().logger,
      recorded: async (e) => {
        seen = e;
      },
    });
    assert.equal(seen?.id, envelope.id);
  });

  it("the policy fits inside Slack's 3-second acknowledgement deadline", () => {
    let waits = 0;
    for (let i = 1; i < INBOUND_RETRY.attempts; i++) waits += Math.min(INBOUND_RETRY.maxDelayMs, INBOUND_RETRY.firstDelayMs * 2 ** (i - 1));
    assert.ok(waits <= 1000, `${waits} ms of waiting`);
  });
});
