import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboundMessage } from '../../core/chat/types.js';
import { progressMiddleware, type ProgressPort } from '../../orchestrator/progress.js';

function port(canEdit = true) {
  const sent: OutboundMessage[] = [];
  const typing: string[] = [];
  const p: ProgressPort = {
    send: async (m) => {
      sent.push(m);
      return { queued: true };
    },
    typing: async (_c, threadId, persona) => {
      typing.push(`${threadId}/${persona}`);
    },
    canEdit: () => canEdit,
  };
  return { p, sent, typing };
}

const runtime = { configurable: { thread_id: 'slack:T1:C1:1.2', pantheon_platform: 'slack', pantheon_inbound: 'slack:C1:1.2' } };
const toolCall = (name: string) => ({ toolCall: { id: `c-${name}`, name, args: {} }, runtime }) as never;

describe('progress middleware', () => {
  it('posts one progress message after the threshold, then edits it in place', async () => {
    let clock = 0;
    const { p, sent } = port();
    const mw = progressMiddleware('apollo', p, { afterMs: 1000, now: () => clock }) as unknown as { wrapToolCall: (r: unknown, h: (r: unknown) => Promise<string>) => Promise<string> };
    const handler = async () => 'ok';
    await mw.wrapToolCall(toolCall('clone'), handler);
    assert.equal(sent.length, 0, 'a quick run posts no progress');
    clock = 1500;
    await mw.wrapToolCall(toolCall('run_command'), handler);
    clock = 2500;
    await mw.wrapToolCall(toolCall('push'), handler);
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.replaces, undefined);
    assert.equal(sent[1]!.replaces, sent[0]!.idempotencyKey, 'the second update edits the first message');
    assert.match(sent[1]!.text, /apollo is working: 3 steps so far \(clone, run_command, push\)/);
  });

  it('shows typing before model calls, at most every few seconds, and no progress where edits are impossible', async () => {
    let clock = 0;
    const { p, sent, typing } = port(false);
    const mw = progressMiddleware('hermes', p, { afterMs: 0, typingEveryMs: 4000, now: () => clock }) as unknown as {
      wrapModelCall: (r: unknown, h: (r: unknown) => Promise<string>) => Promise<string>;
      wrapToolCall: (r: unknown, h: (r: unknown) => Promise<string>) => Promise<string>;
    };
    await mw.wrapModelCall({ runtime }, async () => 'a');
    clock = 1000;
    await mw.wrapModelCall({ runtime }, async () => 'b');
    clock = 5000;
    await mw.wrapModelCall({ runtime }, async () => 'c');
    assert.deepEqual(typing, ['slack:T1:C1:1.2/hermes', 'slack:T1:C1:1.2/hermes']);
    await mw.wrapToolCall(toolCall('x'), async () => 'ok');
    assert.equal(sent.length, 0);
  });
});
