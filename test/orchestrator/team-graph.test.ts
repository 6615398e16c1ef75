/**
 * The team graph run in process: buildTeamGraph with MemorySaver, scripted chat models (no HTTP),
 * a recording outbox that posts each idempotency key once, and permissive loop guards.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'langchain';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Command, interrupt, MemorySaver, type BaseCheckpointSaver } from '@langchain/langgraph';
import type { Checkpoint, CheckpointMetadata, PendingWrite } from '@langchain/langgraph-checkpoint';
import { z } from 'zod';
import { buildTeamGraph, type TeamGuards, type TeamMember } from '../../orchestrator/graph/team-graph.js';
import { compilePersona } from '../../orchestrator/graph/persona-agent.js';
import { createHandoffTool } from '../../orchestrator/graph/handoff-tool.js';
import { personaMessagesMiddleware } from '../../orchestrator/graph/foreign-messages.js';
import { failureOf, type TurnFailure, type TurnInfo } from '../../orchestrator/graph/state.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';

type Reply = (call: number, seen: BaseMessage[]) => AIMessage;

/** A chat model answering from a script: one reply per call, each a fresh AIMessage with a unique id. */
class ScriptedModel extends BaseChatModel {
  /** What each call was handed, system message included. */
  readonly calls: BaseMessage[][] = [];

  constructor(private readonly replies: Reply[]) {
    super({});
  }

  _llmType() {
    return 'scripted';
  }

  override bindTools() {
    return this as never;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const n = this.calls.length;
    this.calls.push([...messages]);
    const reply = this.replies[Math.min(n, this.replies.length - 1)];
    if (!reply) throw new Error('the script has no replies');
    const message = reply(n, messages);
    if (!message.id) message.id = message.lc_kwargs.id = `scripted-${randomUUID()}`;
    return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
  }
}

const say =
  (text: string): Reply =>
  () =>
    new AIMessage({ id: `scripted-${randomUUID()}`, content: text });
const callTools =
  (...calls: Array<{ name: string; args: Record<string, unknown> }>): Reply =>
  () =>
    new AIMessage({
      id: `scripted-${randomUUID()}`,
      content: '',
      tool_calls: calls.map((c) => ({ ...c, id: `call-${randomUUID().slice(0, 8)}`, type: 'tool_call' as const })),
    });

const guards: TeamGuards = {
  maxTurnsPerMessage: 8,
  maxHandoffsPerHour: 20,
  handoffsInLastHour: async () => 0,
  recordHandoff: async () => ({}),
  budgetSpent: async () => null,
};

function member(id: string, model: BaseChatModel, opts: { tools?: StructuredToolInterface[]; systemPrompt?: string; middleware?: unknown[] } = {}): TeamMember {
  return {
    id,
    name: id[0]!.toUpperCase() + id.slice(1),
    model,
    tools: opts.tools ?? [],
    systemPrompt: opts.systemPrompt ?? `You are ${id}.`,
    middleware: (opts.middleware ?? []) as never[],
  };
}

/** A counting tool: answers `<name> done`. */
function countingTool(name: string) {
  const counter = { runs: 0 };
  const t = tool(
    async () => {
      counter.runs++;
      return `${name} done`;
    },
    { name, description: `the ${name} tool`, schema: z.object({}) },
  );
  return { tool: t, counter };
}

interface Run {
  graph: ReturnType<typeof buildTeamGraph>;
  outbox: RecordingOutbox;
  threadId: string;
  config: { configurable: { thread_id: string }; durability: 'sync'; recursionLimit: number };
  input: (start: string, text: string) => Record<string, unknown>;
}

function setUp(members: TeamMember[], checkpointer: BaseCheckpointSaver = new MemorySaver()): Run {
  const outbox = new RecordingOutbox();
  const graph = buildTeamGraph({ members, checkpointer, outbox, guards });
  const threadId = `local:team-${randomUUID().slice(0, 8)}`;
  const turn: TurnInfo = { inboundIds: ['in-1'], platform: 'local', threadId, requestedBy: 'jeff' };
  return {
    graph,
    outbox,
    threadId,
    config: { configurable: { thread_id: threadId }, durability: 'sync', recursionLimit: 100 },
    input: (start, text) => ({
      messages: [new HumanMessage({ id: 'in-1', content: text, name: 'jeff' })],
      start,
      queue: [],
      turns: 1,
      handoff: null,
      turn,
    }),
  };
}

const textOf = (m: BaseMessage) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content));

describe('team graph', () => {
  test('a plain answer is posted once under the persona, keyed by its step id, and the run ends', async () => {
    const model = new ScriptedModel([say('Hello from Athena.')]);
    const run = setUp([member('athena', model)]);
    await run.graph.invoke(run.input('athena', 'hi') as never, run.config);

    assert.equal(model.calls.length, 1);
    assert.equal(run.outbox.sent.length, 1);
    const [post] = run.outbox.sent;
    assert.equal(post!.persona, 'athena');
    assert.equal(post!.role, 'agent');
    assert.equal(post!.text, 'Hello from Athena.');
    assert.equal(post!.replyTo, 'in-1');
    assert.equal(post!.threadId, run.threadId);

    const state = await run.graph.getState(run.config);
    assert.deepEqual(state.next, []);
    const messages = state.values.messages as BaseMessage[];
    const answer = messages.at(-1)!;
    assert.ok(AIMessage.isInstance(answer));
    assert.equal(answer.name, 'athena');
    assert.ok(answer.id?.startsWith('athena:'), `answer id ${answer.id}`);
    assert.notEqual(answer.id, 'athena:');
    assert.equal(post!.idempotencyKey, `${run.threadId}:${answer.id}`);
  });

  test("a persona whose model fails: the chat is told, and the state keeps that as the turn's failure (not a later turn's)", async () => {
    const model = new ScriptedModel([
      () => {
        throw Object.assign(new Error('upstream exploded'), { status: 500 });
      },
    ]);
    const run = setUp([member('athena', model)]);
    await run.graph.invoke(run.input('athena', 'hi') as never, run.config);
    const [notice] = run.outbox.sent;
    assert.equal(notice!.role, 'system');
    assert.match(notice!.text, /^Athena could not answer: /);
    const values = (await run.graph.getState(run.config)).values as { failure: TurnFailure; turn: TurnInfo };
    assert.deepEqual(values.failure, { inbound: 'in-1', text: notice!.text });
    assert.equal(failureOf(values.failure, values.turn), notice!.text);
    assert.equal(failureOf(values.failure, { ...values.turn, inboundIds: ['in-2'] }), null, 'the next turn starts without it');
  });

  test('two tool calls in one answer run once each, and the model sees both results', async () => {
    const x = countingTool('tool_x');
    const y = countingTool('tool_y');
    const model = new ScriptedModel([callTools({ name: 'tool_x', args: {} }, { name: 'tool_y', args: {} }), say('Both done.')]);
    const run = setUp([member('athena', model, { tools: [x.tool, y.tool] })]);
    await run.graph.invoke(run.input('athena', 'do both') as never, run.config);

    assert.equal(x.counter.runs, 1);
    assert.equal(y.counter.runs, 1);
    assert.equal(model.calls.length, 2);
    const second = model.calls[1]!;
    const results = second.filter((m) => ToolMessage.isInstance(m)) as ToolMessage[];
    assert.equal(results.length, 2);
    const firstAnswer = second.find((m) => AIMessage.isInstance(m)) as AIMessage;
    assert.deepEqual(new Set(results.map((r) => r.tool_call_id)), new Set(firstAnswer.tool_calls!.map((c) => c.id)));
    assert.deepEqual(results.map(textOf).sort(), ['tool_x done', 'tool_y done']);

    assert.deepEqual(
      run.outbox.sent.map((p) => [p.persona, p.text]),
      [['athena', 'Both done.']],
    );
    assert.deepEqual((await run.graph.getState(run.config)).next, []);
  });

  test('a handoff goes through the gate to the receiver, whose answer is posted under its own id', async () => {
    const roster = [
      { id: 'athena', name: 'Athena', role: 'lead' },
      { id: 'apollo', name: 'Apollo', role: 'engineer' },
    ];
    const a = new ScriptedModel([callTools({ name: 'handoff', args: { to: 'apollo', message: 'check the disk usage' } })]);
    const b = new ScriptedModel([say('Disk is at 40%.')]);
    const run = setUp([
      // As in production (team.ts): each persona sees others' words as quoted user messages.
      member('athena', a, { tools: [createHandoffTool('athena', roster)], middleware: [personaMessagesMiddleware('athena')] }),
      member('apollo', b, { tools: [createHandoffTool('apollo', roster)], middleware: [personaMessagesMiddleware('apollo')] }),
    ]);
    await run.graph.invoke(run.input('athena', 'how full is the disk?') as never, run.config);

    assert.equal(a.calls.length, 1, 'the sender is not called again after handing off');
    assert.equal(b.calls.length, 1);
    const ask = b.calls[0]!.find((m) => HumanMessage.isInstance(m) && textOf(m).includes('hands this to you'));
    assert.ok(ask, `apollo saw: ${b.calls[0]!.map(textOf).join(' | ')}`);
    assert.match(textOf(ask), /^Athena hands this to you: check the disk usage$/);
    assert.ok(!b.calls[0]!.some((m) => ToolMessage.isInstance(m) || AIMessage.isInstance(m)), "athena's tool call and its result are not shown to apollo");

    // Athena's tool-calling answer has no text: only Apollo's answer is posted.
    assert.deepEqual(
      run.outbox.sent.map((p) => [p.persona, p.text, p.replyTo]),
      [['apollo', 'Disk is at 40%.', 'in-1']],
    );
    const state = await run.graph.getState(run.config);
    assert.equal(state.values.handoff, null);
    assert.deepEqual(state.next, []);
    assert.equal((state.values.messages as BaseMessage[]).at(-1)!.name, 'apollo');
  });

  test('a model step re-run after a crash posts its answer once: the re-generated answer keeps the step id', async () => {
    /**
     * A store that goes down for good, as the process dies, when the persona's answer is about to be
     * saved (the model step's writes; the step has already posted). Nothing is saved after that until
     * `restart`. (Failing only the later checkpoint `put` would not do: the step's writes are saved by
     * then, and a resume applies them without running the step again.)
     */
    class CrashingSaver extends MemorySaver {
      armed = true;
      down = false;
      crashes = 0;
      restart() {
        this.down = false;
      }
      override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
        if (this.down) throw new Error('the store is down');
        const answers = writes.some(([channel, value]) => channel === 'messages' && (Array.isArray(value) ? value : [value]).some((m) => AIMessage.isInstance(m) && m.name === 'athena'));
        if (this.armed && answers) {
          this.armed = false;
          this.down = true;
          this.crashes++;
          throw new Error('simulated crash while saving the step');
        }
        return super.putWrites(config, writes, taskId);
      }
      override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata) {
        if (this.down) throw new Error('the store is down');
        return super.put(config, checkpoint, metadata);
      }
    }
    const saver = new CrashingSaver();
    const model = new ScriptedModel([(n) => new AIMessage({ id: `scripted-${randomUUID()}`, content: `answer #${n + 1}` })]);
    const run = setUp([member('athena', model)], saver);

    await assert.rejects(run.graph.invoke(run.input('athena', 'hi') as never, run.config), /simulated crash/);
    assert.equal(saver.crashes, 1);
    assert.equal(model.calls.length, 1);
    assert.equal(run.outbox.sent.length, 1, 'the first attempt posted before it crashed');
    const firstKey = run.outbox.sent[0]!.idempotencyKey;
    assert.deepEqual((await run.graph.getState(run.config)).next, ['p_athena'], 'the step is still to run');

    // The process comes back: a new graph on the same store and outbox finishes the run.
    saver.restart();
    const again = buildTeamGraph({ members: [member('athena', model)], checkpointer: saver, outbox: run.outbox, guards });
    await again.invoke(null, run.config);
    assert.equal(model.calls.length, 2, 'the step ran again');
    assert.equal(run.outbox.sent.length, 1, 'one post for the thread');
    assert.equal(run.outbox.sent[0]!.text, 'answer #1');
    assert.ok(run.outbox.calls >= 2, 'the re-run tried to post again, and the key deduped it');

    const state = await again.getState(run.config);
    assert.deepEqual(state.next, []);
    const last = (state.values.messages as BaseMessage[]).at(-1)!;
    assert.ok(AIMessage.isInstance(last));
    assert.equal(textOf(last), 'answer #2', 'the transcript keeps the re-generated answer');
    assert.ok(last.id?.startsWith('athena:'));
    assert.equal(firstKey, `${run.threadId}:${last.id}`, 'the re-run answer has the id the first post was keyed by');
  });

  test('wrapModelCall middleware can extend the system message', async () => {
    const model = new ScriptedModel([say('ok')]);
    const extra = createMiddleware({
      name: 'extra',
      wrapModelCall: async (request, handler) => handler({ ...request, systemMessage: request.systemMessage.concat('EXTRA') }),
    });
    const run = setUp([member('athena', model, { systemPrompt: 'You are Athena, the lead.', middleware: [extra] })]);
    await run.graph.invoke(run.input('athena', 'hi') as never, run.config);

    assert.equal(model.calls.length, 1);
    const first = model.calls[0]![0]!;
    assert.ok(SystemMessage.isInstance(first), `first message is ${first.getType()}`);
    assert.match(textOf(first), /You are Athena, the lead\./);
    assert.match(textOf(first), /EXTRA/);
    assert.equal(model.calls[0]!.filter((m) => SystemMessage.isInstance(m)).length, 1);
    assert.deepEqual(
      run.outbox.sent.map((p) => p.text),
      ['ok'],
    );
  });

  test('compilePersona refuses middleware with a beforeModel hook', () => {
    const before = createMiddleware({ name: 'early', beforeModel: async () => undefined });
    assert.throws(
      () => compilePersona(member('athena', new ScriptedModel([say('ok')]), { middleware: [before] })),
      /middleware early of athena uses beforeModel: persona middleware may only wrap model and tool calls/,
    );
  });

  test('an interrupt in one of two tool calls pauses that call alone; the resume does not re-run the other', async () => {
    let xRuns = 0;
    let xResumed: unknown;
    const x = tool(
      async () => {
        xRuns++;
        xResumed = interrupt({ kind: 'approval', tool: 'tool_x' });
        return `tool_x approved: ${xResumed}`;
      },
      { name: 'tool_x', description: 'needs approval', schema: z.object({}) },
    );
    const y = countingTool('tool_y');
    const model = new ScriptedModel([callTools({ name: 'tool_x', args: {} }, { name: 'tool_y', args: {} }), say('All done.')]);
    const run = setUp([member('athena', model, { tools: [x, y.tool] })]);

    const paused = (await run.graph.invoke(run.input('athena', 'do it') as never, run.config)) as { __interrupt__?: Array<{ value: unknown }> };
    assert.deepEqual(
      paused.__interrupt__?.map((i) => i.value),
      [{ kind: 'approval', tool: 'tool_x' }],
    );
    assert.equal(y.counter.runs, 1);
    assert.equal(xRuns, 1);
    assert.equal(model.calls.length, 1);
    assert.equal(run.outbox.sent.length, 0, 'nothing is posted while paused');

    await run.graph.invoke(new Command({ resume: 'yes' }) as never, run.config);
    assert.equal(xResumed, 'yes');
    assert.equal(xRuns, 2, 'the paused call runs again to pick up its answer');
    assert.equal(y.counter.runs, 1, 'the other call is not run again');
    assert.equal(model.calls.length, 2);
    const results = (model.calls[1]!.filter((m) => ToolMessage.isInstance(m)) as ToolMessage[]).map(textOf).sort();
    assert.deepEqual(results, ['tool_x approved: yes', 'tool_y done']);
    assert.deepEqual(
      run.outbox.sent.map((p) => [p.persona, p.text]),
      [['athena', 'All done.']],
    );
    assert.deepEqual((await run.graph.getState(run.config)).next, []);
  });
});
