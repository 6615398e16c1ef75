import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INBOUND_RETRY } from '../../core/chat/inbound.js';
import type { InboundRedelivery, IngressSink } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import { createLogger } from '../../core/log.js';
import { createMetrics, type Metrics } from '../../core/metrics.js';
import { missing, type Capability } from './capability.js';
import { sleep, startDurableIngress, until, type DurableIngress } from './durable-ingress.js';

/** A message a person sent on the platform, as the suite follows it. */
interface Said {
  /** The envelope id the adapter makes of it (the ingress's dedupe key). */
  envelopeId: string;
}

/** One platform's inbound path, running against its fake and handing to the given ingress. */
export interface InboundSession {
  /** A person writes `text` where the team listens; resolves once the platform has sent it (not once acknowledged). */
  say(text: string): Promise<Said>;
  /** Whether the platform has been acknowledged for it (a Socket Mode ack, a 2xx, a confirmed offset, a moved cursor). */
  acked(said: Said): boolean | Promise<boolean>;
  /**
   * The platform delivers the same message again, as it does on its own (Slack's retry, Telegram's
   * redelivery, a gateway replay, a re-read, a client's retried POST).
   */
  redeliver(said: Said): Promise<void>;
  /**
   * Only where the platform is acknowledged once its own delivery is durably kept, before that
   * becomes an envelope (GitHub: the signed delivery in `github_deliveries`, turned into an
   * envelope by a queue job that is retried until the ingress stores it): whether it is kept.
   */
  keptBeforeEnvelope?(said: Said): Promise<boolean>;
  stop(): Promise<void>;
}

export interface InboundContext {
  ingress: IngressSink;
  logger: Logger;
  metrics: Metrics;
}

export interface InboundCapabilities {
  /** What the platform does with a message that was not acknowledged (see `InboundRedelivery`). */
  redelivery: InboundRedelivery;
  /**
   * The platform is told "received" (acknowledged) only once the envelope is durably stored.
   * Missing: the platform has no acknowledgement for a message (a Discord gateway event).
   */
  acknowledgement: Capability;
}

/**
 * The inbound contract every adapter passes, through its real SDK and its platform's fake, with
 * the real ingress (Postgres or PGlite) behind `deliverInbound`: the platform is acknowledged
 * only once the envelope is stored; an ingress that fails a few times still stores the message
 * once; one that keeps failing leaves the platform unacknowledged (it delivers again) or, where
 * nothing delivers again, the loss is logged with the message and counted; a redelivery is
 * answered once.
 */
export function inboundContract(platform: string, capabilities: InboundCapabilities, start: (ctx: InboundContext) => Promise<InboundSession>): void {
  describe(`${platform}: the inbound contract`, () => {
    let durable: DurableIngress;
    const sessions: InboundSession[] = [];
    let n = 0;
    const lines: Array<{ level: number; msg: string; text?: string; inbound?: string }> = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    /** A fresh session; the one before is stopped (two listening at once would both take each message). */
    const open = async () => {
      for (const s of sessions.splice(0)) await s.stop();
      const metrics = createMetrics({ defaultMetrics: false });
      const session = await start({ ingress: durable.sink, logger, metrics });
      sessions.push(session);
      return { session, metrics };
    };
    const text = (what: string) => `@athena ${what} (${platform} ${n++})`;

    before(async () => {
      durable = await startDurableIngress();
    });
    after(async () => {
      for (const s of sessions) await s.stop().catch(() => {});
      await durable?.close();
    });

    const ackReason = missing(capabilities.acknowledgement);
    it(ackReason ? `stores what arrives (no acknowledgement to hold back: ${ackReason})` : 'acknowledges the platform only once the envelope is durably stored', async () => {
      const { session } = await open();
      const gate = durable.stall();
      const said = await session.say(text('is the build green?'));
      await until(() => durable.callsFor(said.envelopeId) > 0, 'the message to reach the ingress');
      await sleep(300);
      assert.equal(await durable.stored(said.envelopeId), false, 'not stored while the ingress is stalled');
      if (!ackReason && session.keptBeforeEnvelope) {
        await until(() => session.acked(said), 'the acknowledgement of the delivery');
        assert.ok(await session.keptBeforeEnvelope(said), 'acknowledged once the delivery itself is durably kept');
      } else if (!ackReason) {
        assert.equal(await session.acked(said), false, 'not acknowledged while not stored');
      }
      gate.release();
      await until(() => durable.stored(said.envelopeId), 'the envelope stored');
      if (!ackReason) await until(() => session.acked(said), 'the acknowledgement once stored');
      await until(() => durable.answered(said.envelopeId) === 1, 'the answer');
    });

    it(`an ingress that fails ${INBOUND_RETRY.attempts - 1} times in a row: the message is still stored, acknowledged and answered once`, async () => {
      const { session } = await open();
      durable.failNext(INBOUND_RETRY.attempts - 1);
      const said = await session.say(text('deploy the api'));
      await until(() => durable.stored(said.envelopeId), 'the envelope stored after the failures');
      assert.equal(durable.callsFor(said.envelopeId), INBOUND_RETRY.attempts, `retried with the one policy (calls: ${durable.calls.map((e) => e.id).join(', ')})`);
      if (!ackReason) await until(() => session.acked(said), 'the acknowledgement');
      await until(() => durable.answered(said.envelopeId) === 1, 'the answer');
      await sleep(300);
      assert.equal(durable.answered(said.envelopeId), 1, 'answered once');
    });

    if (capabilities.redelivery === 'platform') {
      it('an ingress that keeps failing: the platform is not acknowledged and delivers it again; stored and answered once', async () => {
        const { session, metrics } = await open();
        durable.failNext(INBOUND_RETRY.attempts);
        const said = await session.say(text('restart staging'));
        await until(() => durable.callsFor(said.envelopeId) >= INBOUND_RETRY.attempts, 'every try of the policy');
        await sleep(100);
        if (session.keptBeforeEnvelope) assert.ok(await session.keptBeforeEnvelope(said), 'the delivery is kept, to be turned into an envelope again');
        else if (!ackReason && !(await durable.stored(said.envelopeId))) assert.equal(await session.acked(said), false, 'not acknowledged');
        await session.redeliver(said);
        await until(() => durable.stored(said.envelopeId), 'the envelope stored from the redelivery', 15_000);
        if (!ackReason) await until(() => session.acked(said), 'the acknowledgement');
        await until(() => durable.answered(said.envelopeId) === 1, 'the answer');
        await sleep(300);
        assert.equal(durable.answered(said.envelopeId), 1, 'answered once');
        assert.match(await metrics.registry.metrics(), new RegExp(`pantheon_inbound_failures_total\\{platform="${platform}",outcome="unacknowledged"\\} 1`));
      });
    } else {
      it('an ingress that keeps failing: nothing delivers it again, so the loss is logged with the message and counted', async () => {
        const { session, metrics } = await open();
        durable.failNext(INBOUND_RETRY.attempts);
        const said = await session.say(text('rotate the keys'));
        const lost = await until(() => lines.find((l) => l.inbound === said.envelopeId && /MESSAGE LOST/.test(l.msg)), 'the loss logged');
        assert.equal(lost.level, 50, 'an error');
        assert.match(lost.text ?? '', /rotate the keys/, 'the log line carries the message');
        assert.equal(durable.callsFor(said.envelopeId), INBOUND_RETRY.attempts, 'after every try of the policy');
        assert.equal(await durable.stored(said.envelopeId), false);
        assert.match(await metrics.registry.metrics(), new RegExp(`pantheon_inbound_failures_total\\{platform="${platform}",outcome="lost"\\} 1`));
      });
    }

    it('a redelivery of a stored message is acknowledged and answered once', async () => {
      const { session } = await open();
      const said = await session.say(text('what is in flight?'));
      await until(() => durable.answered(said.envelopeId) === 1, 'the first answer');
      if (!ackReason) await until(() => session.acked(said), 'the first acknowledgement');
      await session.redeliver(said);
      if (!ackReason) await until(() => session.acked(said), 'the redelivery acknowledged');
      await sleep(500);
      assert.equal(durable.answered(said.envelopeId), 1, 'answered once');
      const { rows } = await durable.pool.query('SELECT count(*)::int AS n FROM inbound_messages WHERE id = $1', [said.envelopeId]);
      assert.equal(rows[0].n, 1, 'stored once');
    });
  });
}
