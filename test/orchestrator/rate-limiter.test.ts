import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundRateLimiter } from '../../orchestrator/rate-limiter.js';

function fakeClock() {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    advance: (ms: number) => {
      t += ms;
    },
    clock: {
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(Math.round(ms));
        t += ms;
      },
    },
  };
}

describe('OutboundRateLimiter', () => {
  it('lets a burst through, then paces one thread to its rate', async () => {
    const c = fakeClock();
    const limiter = new OutboundRateLimiter({ slack: { perThread: 1, burst: 2 } }, c.clock);
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(Math.round(await limiter.take('slack', 'slack:T:C1')));
    assert.deepEqual(waits, [0, 0, 1000, 1000]);
  });

  it('paces threads independently but shares the platform-wide budget', async () => {
    const c = fakeClock();
    const limiter = new OutboundRateLimiter({ telegram: { perThread: 1, perPlatform: 2, burst: 2 } }, c.clock);
    assert.equal(await limiter.take('telegram', 'telegram:1'), 0);
    assert.equal(await limiter.take('telegram', 'telegram:2'), 0);
    // Two other chats: their own buckets are full, but the bot-wide one is empty.
    assert.equal(Math.round(await limiter.take('telegram', 'telegram:3')), 500);
  });

  it('does not pace platforms without limits (the local chat)', async () => {
    const c = fakeClock();
    const limiter = new OutboundRateLimiter({}, c.clock);
    for (let i = 0; i < 50; i++) assert.equal(await limiter.take('local', 'local:x'), 0);
    assert.deepEqual(c.slept, []);
  });
});
