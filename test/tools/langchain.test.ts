import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import { withRun } from '../../agents/run-context.js';
import { toLangChainTool, toolCallFrom } from '../../tools/langchain.js';
import { ToolGuard } from '../../tools/guard.js';
import { policySchema } from '../../core/config/policy.js';
import type { PantheonTool, ToolCall } from '../../tools/types.js';

test('toolCallFrom reads the call id, thread, platform and inbound from the config, persona and run from withRun', () => {
  const config = { toolCall: { id: 'call_1', name: 'x', args: {} }, configurable: { thread_id: 'mattermost:town:root', pantheon_inbound: 'in-9' } };
  const call = withRun({ runId: 'run-1', persona: 'apollo' }, () => toolCallFrom('x', config));
  assert.deepEqual(call, { id: 'call_1', threadId: 'mattermost:town:root', platform: 'mattermost', persona: 'apollo', runId: 'run-1', inboundId: 'in-9' });
  const explicit = withRun({ runId: 'r', persona: 'p' }, () => toolCallFrom('x', { toolCallId: 'c2', configurable: { thread_id: 't', pantheon_platform: 'local' } } as never));
  assert.equal(explicit.id, 'c2');
  assert.equal(explicit.platform, 'local');
});

test('toolCallFrom says what is missing', () => {
  assert.throws(() => toolCallFrom('x', { configurable: { thread_id: 't' } }), /x was called without a tool call id/);
  assert.throws(() => toolCallFrom('x', { toolCall: { id: 'c', name: 'x', args: {} } }), /outside a thread/);
  assert.throws(() => toolCallFrom('x', { toolCall: { id: 'c', name: 'x', args: {} }, configurable: { thread_id: 't' } }), /outside a persona run: wrap the agent invocation in withRun/);
});

test('every tool gets an optional reason argument, passed to the guard and not to the tool', async () => {
  const seen: Array<{ args: unknown; call: ToolCall }> = [];
  const echo: PantheonTool = {
    name: 'echo',
    description: 'Echo',
    risk: 'read',
    schema: z.object({ text: z.string() }),
    run: async (args, call) => {
      seen.push({ args, call });
      return 'ok';
    },
  };
  const guard = new ToolGuard({
    policy: policySchema.parse({}),
    approvals: {
      hasApprovers: () => false,
      request: async () => {
        throw new Error('not asked');
      },
      get: async () => undefined,
    },
  });
  const lc = toLangChainTool(echo, guard);
  const schema = toJsonSchema(lc.schema) as { properties: Record<string, unknown>; required?: string[] };
  assert.deepEqual(Object.keys(schema.properties).sort(), ['reason', 'text']);
  assert.deepEqual(schema.required, ['text']);

  const out = await withRun({ runId: 'r1', persona: 'apollo' }, () =>
    lc.invoke({ id: 'call_e', name: 'echo', args: { text: 'hi', reason: 'testing' }, type: 'tool_call' }, { configurable: { thread_id: 'local:general' } }),
  );
  assert.equal((out as { content: string }).content, 'ok');
  assert.deepEqual(seen[0]!.args, { text: 'hi' });
  assert.equal(seen[0]!.call.id, 'call_e');

  // Built for a persona, the tool speaks for that persona whatever run it is in (a team run spans handoffs).
  await withRun({ runId: 'r2', persona: 'team' }, () =>
    toLangChainTool(echo, guard, 'hermes').invoke({ id: 'call_h', name: 'echo', args: { text: 'yo' }, type: 'tool_call' }, { configurable: { thread_id: 'local:general' } }),
  );
  assert.deepEqual([seen[1]!.call.persona, seen[1]!.call.runId], ['hermes', 'r2']);

  const own: PantheonTool = { ...echo, name: 'own', schema: z.object({ reason: z.string().describe('the commit reason') }) };
  const ownSchema = toJsonSchema(toLangChainTool(own, guard).schema) as { properties: Record<string, { description?: string }> };
  assert.equal(ownSchema.properties.reason?.description, 'the commit reason', "a tool's own reason argument is kept");
});
