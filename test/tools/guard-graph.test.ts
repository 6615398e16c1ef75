/**
 * The tool guard inside a real LangGraph run: createAgent with a persona model talking to the
 * scripted model server over HTTP, a checkpointer, and the approval store on embedded PGlite.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createAgent } from 'langchain';
import { Command, MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import { createLogger, registerSecret } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { policySchema } from '../../core/config/policy.js';
import type { ToolCallRecord } from '../../core/audit/index.js';
import { createPersonaModel, withRun } from '../../agents/index.js';
import { ApprovalRequests, ApprovalStore, Approvers, type ApprovalInterrupt } from '../../orchestrator/approvals/index.js';
import { pendingApprovalInterrupts, resumeCommandFor } from '../support/approval-resume.js';
import { ToolGuard } from '../../tools/guard.js';
import { localDirectThreadId } from '../../platforms/local/thread-id.js';
import { toLangChainTool } from '../../tools/langchain.js';
import type { PantheonTool } from '../../tools/types.js';
import type { AuditSink } from '../../tools/audit-sink.js';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { RecordingOutbox } from './recording-outbox.js';

const logger = createLogger({ level: 'silent' });
const SECRET = 'sup3r-s3cret-db-password';
registerSecret(SECRET);

class RecordingAudit implements AuditSink {
  toolCalls: ToolCallRecord[] = [];
  async recordToolCall(r: ToolCallRecord) {
    this.toolCalls.push(r);
  }
}

let fake: FakeLLM;
let db: Database;
let dataDir: string;
before(async () => {
  fake = await startFakeLLM();
  dataDir = mkdtempSync(join(tmpdir(), 'pantheon-guard-'));
  db = await createDatabase({ dataDir, logger });
  await migrate(db.pool, { logger });
});
after(async () => {
  await fake?.close();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ToolGuard in a createAgent run', () => {
  let ran: string[];
  let outbox: RecordingOutbox;
  let audit: RecordingAudit;
  let store: ApprovalStore;
  let metrics: ReturnType<typeof createMetrics>;
  let agent: ReturnType<typeof createAgent>;
  let thread: string;
  const approvers = new Approvers([
    { id: 'jeff', local: 'jeff', approver: true },
    { id: 'alice', local: 'alice', approver: false },
  ]);

  beforeEach(() => {
    fake.clear();
    ran = [];
    // The local chat's adapter reaches an approver in their own conversation, dm-<id>.
    outbox = new RecordingOutbox({ local: localDirectThreadId });
    audit = new RecordingAudit();
    store = new ApprovalStore(db.pool);
    metrics = createMetrics({ defaultMetrics: false });
    thread = `local:ops-${randomUUID().slice(0, 8)}`;
    const tools: PantheonTool[] = [
      {
        name: 'restart_service',
        description: 'Restart a service on staging',
        risk: 'infra',
        schema: z.object({ service: z.string(), password: z.string().optional() }),
        secretArgs: ['password'],
        run: async ({ service }: { service: string }) => {
          ran.push(`restart ${service}`);
          return `restarted ${service}`;
        },
      },
      {
        name: 'drop_database',
        description: 'Drop a database',
        risk: 'destructive',
        schema: z.object({ name: z.string() }),
        run: async ({ name }: { name: string }) => {
          ran.push(`drop ${name}`);
          return `dropped ${name}`;
        },
      },
      {
        name: 'read_status',
        description: 'Read service status',
        risk: 'read',
        schema: z.object({ service: z.string() }),
        run: async ({ service }: { service: string }) => {
          ran.push(`status ${service}`);
          return `${service} is up`;
        },
      },
      {
        name: 'query_db',
        description: 'Run a query',
        risk: 'read',
        schema: z.object({ sql: z.string() }),
        run: async () => {
          ran.push('query');
          throw new Error(`connection refused for postgres://app:${SECRET}@db/app`);
        },
      },
    ];
    const guard = new ToolGuard({
      policy: policySchema.parse({ tools: { drop_database: 'deny' }, approvalTtlMinutes: 30 }),
      personaPolicy: (persona) => (persona === 'athena' ? { tools: { restart_service: 'allow' } } : undefined),
      approvals: new ApprovalRequests({ store, approvers, outbox }),
      audit,
      metrics,
      logger,
    });
    const model = createPersonaModel({
      persona: { id: 'hephaestus', model: 'openai:gpt-4.1-mini' },
      models: { maxRetries: 0 },
      env: { OPENAI_API_KEY: 'sk-test-openai-key', OPENAI_BASE_URL: fake.openaiBaseUrl },
    });
    agent = createAgent({ model, tools: tools.map((t) => toLangChainTool(t, guard)), systemPrompt: 'You are Hephaestus.', checkpointer: new MemorySaver() });
  });

  const config = () => ({ configurable: { thread_id: thread, pantheon_platform: 'local', pantheon_inbound: 'in-1' }, durability: 'exit' as const });
  function invoke(input: unknown, persona = 'hephaestus') {
    return withRun({ runId: randomUUID(), persona }, () => agent.invoke(input as never, config())) as Promise<{
      messages: Array<{ content: unknown }>;
      __interrupt__?: Array<{ id: string; value: ApprovalInterrupt }>;
    }>;
  }
  const ask = (text: string) => ({ messages: [{ role: 'user', content: text }] });
  /** What the model was told the tool returned, in its second request. */
  const toolResultSeenByModel = (request = 1) => fake.requests[request]!.messages.filter((m) => m.role === 'tool').map((m) => m.content);
  const outcomes = async () => (await metrics.toolCalls.get()).values.map((v) => `${v.labels.tool}:${v.labels.outcome}=${v.value}`).sort();

  test('ask: the run pauses with an approval; approving resumes it and the tool runs once', async () => {
    fake.enqueue(
      { toolCalls: [{ id: 'call_restart_1', name: 'restart_service', args: { service: 'api', password: 'hunter22', reason: 'the API is stuck after the deploy' } }] },
      { text: 'Restarted the API.' },
    );
    const first = await invoke(ask('restart the api please'));
    assert.equal(first.__interrupt__?.length, 1, 'the run stopped at an interrupt');
    const pause = first.__interrupt__![0]!.value;
    assert.equal(pause.type, 'approval');
    assert.equal(pause.tool, 'restart_service');
    assert.deepEqual(ran, [], 'nothing ran before the approval');
    assert.equal(fake.requests.length, 1, 'the model was not called again while waiting');
    assert.ok(fake.requests[0]!.body && JSON.stringify(fake.requests[0]!.body).includes('"reason"'), 'the model is offered a reason argument');

    const approval = await store.get(pause.approvalId);
    assert.equal(approval?.status, 'pending');
    assert.equal(approval?.toolCallId, 'call_restart_1');
    assert.equal(approval?.thread, thread);
    assert.equal(approval?.persona, 'hephaestus');
    assert.equal(approval?.inboundId, 'in-1');
    assert.deepEqual(approval?.args, { service: 'api', password: '***' }, 'stored masked, without the reason');
    assert.equal(approval?.reason, 'the API is stuck after the deploy');

    // Posted to the conversation and to jeff's own conversation; alice is no approver.
    assert.deepEqual(
      outbox.sent.map((m) => [m.idempotencyKey, m.threadId, m.role]),
      [
        [`approval:${approval!.id}`, thread, 'system'],
        [`approval:${approval!.id}:dm:jeff`, 'local:dm-jeff', 'system'],
      ],
    );
    assert.match(outbox.sent[0]!.text, new RegExp(`^Approval needed \\[${approval!.id}\\]: hephaestus wants to run restart_service`));
    assert.match(outbox.sent[0]!.text, new RegExp(`approve ${approval!.id}`));
    assert.ok(!outbox.sent[0]!.text.includes('hunter22'), 'the password is not shown');

    // jeff answers; the orchestrator records it and resumes the paused call.
    const decided = await store.decide(approval!.id.toUpperCase(), { approved: true, by: 'jeff' });
    assert.equal(decided.ok, true);
    const resume = resumeCommandFor(pendingApprovalInterrupts(await agent.getState(config())), approval!.id, { approved: true, by: 'jeff' });
    assert.ok(resume, 'the pending interrupt is found by approval id');
    const second = await invoke(resume);

    assert.equal(second.__interrupt__, undefined);
    assert.deepEqual(ran, ['restart api'], 'the tool ran exactly once');
    assert.equal(second.messages.at(-1)!.content, 'Restarted the API.');
    assert.deepEqual(toolResultSeenByModel(), ['restarted api']);
    assert.equal(outbox.calls, 2, 'the re-run before the tool posted nothing again');
    assert.equal(audit.toolCalls.length, 1);
    const [entry] = audit.toolCalls;
    assert.equal(entry!.outcome, 'ok');
    assert.equal(entry!.approvalId, approval!.id);
    assert.deepEqual(entry!.secretArgNames, ['password']);
    assert.deepEqual(entry!.args, { service: 'api', password: 'hunter22' }, 'the sink masks: it gets the arguments and the secret names');
    assert.deepEqual(await outcomes(), ['restart_service:ok=1']);
  });

  test('a resume only wakes the call: it runs once the approval is on record, not before', async () => {
    fake.enqueue({ toolCalls: [{ id: 'call_restart_2', name: 'restart_service', args: { service: 'worker' } }] }, { text: 'Done.' });
    const first = await invoke(ask('restart the worker'));
    assert.equal(first.__interrupt__?.length, 1);
    const approvalId = first.__interrupt__![0]!.value.approvalId;

    // Resumed without a decision on record (a bug, or a forged resume): still waiting.
    const forged = await invoke(new Command({ resume: { approved: true, by: 'mallory' } }));
    assert.deepEqual(ran, []);
    assert.deepEqual(
      forged.__interrupt__?.map((i) => i.value.approvalId),
      [approvalId],
    );
    assert.equal(outbox.sent.length, 2, 'waiting again posted nothing new');

    assert.equal((await store.decide(approvalId, { approved: true, by: 'jeff' })).ok, true);
    const second = await invoke(new Command({ resume: { approved: true, by: 'jeff' } }));
    assert.deepEqual(ran, ['restart worker']);
    assert.equal(second.messages.at(-1)!.content, 'Done.');
    assert.deepEqual(toolResultSeenByModel(), ['restarted worker']);
    assert.equal((await store.getByToolCall('call_restart_2'))?.reason, undefined);
    assert.deepEqual(
      audit.toolCalls.map((r) => [r.outcome, r.approvalId]),
      [['ok', approvalId]],
    );
  });

  test('deny: the tool never runs and the persona is told who refused and why', async () => {
    fake.enqueue({ toolCalls: [{ id: 'call_restart_3', name: 'restart_service', args: { service: 'db' } }] }, { text: 'OK, I will not restart it.' });
    const first = await invoke(ask('restart the db'));
    const approvalId = first.__interrupt__![0]!.value.approvalId;
    await store.decide(approvalId, { approved: false, by: 'jeff', note: 'not during business hours' });
    const second = await invoke(new Command({ resume: { approved: false, by: 'jeff', reason: 'not during business hours' } }));
    assert.deepEqual(ran, []);
    assert.deepEqual(toolResultSeenByModel(), ['Not run: denied by jeff (not during business hours).']);
    assert.equal(second.messages.at(-1)!.content, 'OK, I will not restart it.');
    assert.deepEqual(
      audit.toolCalls.map((r) => [r.tool, r.outcome, r.approvalId]),
      [['restart_service', 'denied', approvalId]],
    );
    assert.deepEqual(await outcomes(), ['restart_service:denied=1']);
  });

  test('an approval that expired is a refusal too', async () => {
    fake.enqueue({ toolCalls: [{ id: 'call_restart_4', name: 'restart_service', args: { service: 'cache' } }] }, { text: 'It expired.' });
    const first = await invoke(ask('restart the cache'));
    const approvalId = first.__interrupt__![0]!.value.approvalId;
    await db.pool.query(`UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1`, [approvalId]);
    await store.expireDue();
    await invoke(new Command({ resume: { approved: false, by: 'system', expired: true } }));
    assert.deepEqual(ran, []);
    assert.deepEqual(toolResultSeenByModel(), [`Not run: approval request ${approvalId} for restart_service expired without an answer.`]);
    assert.equal(audit.toolCalls[0]?.outcome, 'expired');
  });

  test('deny policy: refused at once, without an approval, and the persona carries on', async () => {
    fake.enqueue({ toolCalls: [{ id: 'call_drop_1', name: 'drop_database', args: { name: 'prod' } }] }, { text: 'I may not drop it.' });
    const result = await invoke(ask('drop prod'));
    assert.equal(result.__interrupt__, undefined);
    assert.deepEqual(ran, []);
    assert.equal(await store.getByToolCall('call_drop_1'), undefined, 'no approval was requested');
    assert.equal(outbox.calls, 0);
    assert.match(toolResultSeenByModel()[0]!, /^Not run: the policy does not allow hephaestus to use drop_database\./);
    assert.equal(result.messages.at(-1)!.content, 'I may not drop it.');
    assert.deepEqual(
      audit.toolCalls.map((r) => [r.tool, r.outcome, r.args]),
      [['drop_database', 'refused_by_policy', { name: 'prod' }]],
    );
    assert.deepEqual(await outcomes(), ['drop_database:refused_by_policy=1']);
  });

  test('allow runs at once; a failing tool becomes an Error result with secrets scrubbed', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { id: 'call_status_1', name: 'read_status', args: { service: 'api' } },
          { id: 'call_query_1', name: 'query_db', args: { sql: 'select 1' } },
        ],
      },
      { text: 'The API is up; the database is unreachable.' },
    );
    const result = await invoke(ask('how are things?'));
    assert.equal(result.__interrupt__, undefined);
    assert.deepEqual(ran.sort(), ['query', 'status api']);
    const seen = toolResultSeenByModel();
    assert.ok(seen.includes('api is up'));
    const error = seen.find((s) => s.startsWith('Error:'));
    assert.equal(error, 'Error: connection refused for postgres://app:[REDACTED]@db/app');
    const byTool = Object.fromEntries(audit.toolCalls.map((r) => [r.tool, r]));
    assert.equal(byTool.read_status?.outcome, 'ok');
    assert.equal(byTool.query_db?.outcome, 'error');
    assert.ok(!byTool.query_db?.detail?.includes(SECRET));
    assert.equal(typeof byTool.read_status?.durationMs, 'number');
    assert.deepEqual(await outcomes(), ['query_db:error=1', 'read_status:ok=1']);
  });

  test("a persona's own override applies: athena may restart without asking", async () => {
    fake.enqueue({ toolCalls: [{ id: 'call_restart_5', name: 'restart_service', args: { service: 'api' } }] }, { text: 'Restarted.' });
    const result = await invoke(ask('restart the api'), 'athena');
    assert.equal(result.__interrupt__, undefined);
    assert.deepEqual(ran, ['restart api']);
    assert.equal(audit.toolCalls[0]?.persona, 'athena');
  });

  test('ask with no approvers configured: refused at once instead of waiting for nobody', async () => {
    const guard = new ToolGuard({ policy: policySchema.parse({}), approvals: new ApprovalRequests({ store, approvers: new Approvers([]), outbox }), audit });
    const lonely = createAgent({
      model: createPersonaModel({
        persona: { id: 'hephaestus', model: 'openai:gpt-4.1-mini' },
        models: { maxRetries: 0 },
        env: { OPENAI_API_KEY: 'sk-test-openai-key', OPENAI_BASE_URL: fake.openaiBaseUrl },
      }),
      tools: [
        toLangChainTool(
          {
            name: 'restart_service',
            description: 'Restart',
            risk: 'infra',
            schema: z.object({ service: z.string() }),
            run: async () => {
              ran.push('restart');
              return 'restarted';
            },
          },
          guard,
        ),
      ],
      checkpointer: new MemorySaver(),
    });
    fake.enqueue({ toolCalls: [{ id: 'call_lonely', name: 'restart_service', args: { service: 'api' } }] }, { text: 'Nobody can approve that.' });
    const result = (await withRun({ runId: 'run-lonely', persona: 'hephaestus' }, () => lonely.invoke(ask('restart the api'), config()))) as { __interrupt__?: unknown };
    assert.equal(result.__interrupt__, undefined);
    assert.deepEqual(ran, []);
    assert.equal(await store.getByToolCall('call_lonely'), undefined);
    assert.match(toolResultSeenByModel()[0]!, /^Not run: restart_service needs a human's approval, and nobody is listed as an approver/);
    assert.deepEqual(
      audit.toolCalls.map((r) => r.outcome),
      ['refused_by_policy'],
    );
  });

  test('two calls waiting at once: each approval resumes only its own call', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { id: 'call_par_a', name: 'restart_service', args: { service: 'a' } },
          { id: 'call_par_b', name: 'restart_service', args: { service: 'b' } },
        ],
      },
      { text: 'a restarted, b not.' },
    );
    const first = await invoke(ask('restart a and b'));
    assert.equal(first.__interrupt__?.length, 2);
    const [a, b] = await Promise.all([store.getByToolCall('call_par_a'), store.getByToolCall('call_par_b')]);
    assert.equal(outbox.sent.length, 4, 'two requests, each to the thread and to jeff');

    await store.decide(a!.id, { approved: true, by: 'jeff' });
    const afterA = await invoke(resumeCommandFor(pendingApprovalInterrupts(await agent.getState(config())), a!.id, { approved: true, by: 'jeff' }));
    assert.deepEqual(ran, ['restart a']);
    assert.deepEqual(
      afterA.__interrupt__?.map((i) => i.value.approvalId),
      [b!.id],
      'b still waits',
    );
    assert.equal(outbox.sent.length, 4, 'b asking again posted nothing new');

    await store.decide(b!.id, { approved: false, by: 'jeff' });
    const done = await invoke(resumeCommandFor(pendingApprovalInterrupts(await agent.getState(config())), b!.id, { approved: false, by: 'jeff' }));
    assert.equal(done.__interrupt__, undefined);
    assert.deepEqual(ran, ['restart a'], 'a ran once, b never');
    assert.deepEqual(toolResultSeenByModel().sort(), ['Not run: denied by jeff.', 'restarted a']);
    assert.equal(done.messages.at(-1)!.content, 'a restarted, b not.');
  });

  test('a plain resume reaches every paused call, and only the one decided runs', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { id: 'call_plain_a', name: 'restart_service', args: { service: 'a' } },
          { id: 'call_plain_b', name: 'restart_service', args: { service: 'b' } },
        ],
      },
      { text: 'a restarted, b expired.' },
    );
    await invoke(ask('restart a and b'));
    const [a, b] = await Promise.all([store.getByToolCall('call_plain_a'), store.getByToolCall('call_plain_b')]);
    await store.decide(a!.id, { approved: true, by: 'jeff' });
    const afterA = await invoke(new Command({ resume: { approved: true, by: 'jeff' } }));
    assert.deepEqual(ran, ['restart a'], "a's answer did not run b");
    assert.deepEqual(
      afterA.__interrupt__?.map((i) => i.value.approvalId),
      [b!.id],
    );
    assert.equal(outbox.sent.length, 4, 'waiting again posted nothing new');

    await db.pool.query(`UPDATE approvals SET expires_at = now() - interval '1 second' WHERE id = $1`, [b!.id]);
    await store.expireDue();
    const done = await invoke(new Command({ resume: { approved: false, by: 'system', expired: true } }));
    assert.equal(done.__interrupt__, undefined);
    assert.deepEqual(ran, ['restart a']);
    assert.deepEqual(toolResultSeenByModel().sort(), [`Not run: approval request ${b!.id} for restart_service expired without an answer.`, 'restarted a']);
  });
});
