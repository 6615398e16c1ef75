/**
 * The light run context (agents/lc-context.ts): LangGraph's config still reaches `getConfig()`,
 * `interrupt()` and context variables through async local storage, with no LangSmith RunTree
 * built per runnable unless a tracer is configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnableLambda } from '@langchain/core/runnables';
import { getContextVariable, setContextVariable } from '@langchain/core/context';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { LangChainTracer } from '@langchain/core/tracers/tracer_langchain';
import { Annotation, Command, END, getConfig, interrupt, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import { RunTree } from 'langsmith';
import { installLightRunContext } from '../../agents/lc-context.js';

installLightRunContext();
installLightRunContext(); // idempotent

const storeNow = () => AsyncLocalStorageProviderSingleton.getInstance().getStore() as unknown;

test('a runnable sees its config (getConfig) and the store is not a RunTree', async () => {
  let seen: unknown;
  let store: unknown;
  const inner = RunnableLambda.from(async () => {
    seen = getConfig().configurable?.who;
    store = storeNow();
    return 'ok';
  });
  await RunnableLambda.from(async (x: string, config) => inner.invoke(x, config)).invoke('go', { configurable: { who: 'apollo' } });
  assert.equal(seen, 'apollo');
  assert.ok(store && !(store instanceof RunTree), 'a plain object carries the config');
});

test('context variables set in a runnable reach the runnables it calls', async () => {
  const child = RunnableLambda.from(async () => getContextVariable('persona'));
  const parent = RunnableLambda.from(async (_: string, config) => {
    setContextVariable('persona', 'hermes');
    return child.invoke('x', config);
  });
  assert.equal(await parent.invoke('x'), 'hermes');
});

test('interrupt() pauses a graph node and Command({ resume }) resumes it on the same thread', async () => {
  const State = Annotation.Root({ answer: Annotation<string>() });
  const graph = new StateGraph(State)
    .addNode('ask', async () => ({ answer: interrupt({ question: 'approve?' }) as string }))
    .addEdge(START, 'ask')
    .addEdge('ask', END)
    .compile({ checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: 'light-context' } };
  const paused = (await graph.invoke({ answer: '' }, config)) as { __interrupt__?: Array<{ value: unknown }> };
  assert.deepEqual(paused.__interrupt__?.[0]?.value, { question: 'approve?' });
  const done = await graph.invoke(new Command({ resume: 'approved' }), config);
  assert.equal(done.answer, 'approved');
});

test('with a LangSmith tracer configured the stock context runs: a RunTree per runnable', async () => {
  // A tracer whose client sends nothing anywhere (batching off, no endpoint reachable is needed for this check).
  const tracer = new LangChainTracer({ projectName: 'pantheon-test', client: { createRun: async () => {}, updateRun: async () => {} } as never });
  let store: unknown;
  await RunnableLambda.from(async () => {
    store = storeNow();
    return 1;
  }).invoke(0, { callbacks: [tracer] });
  assert.ok(store instanceof RunTree, 'traced runs keep their RunTree');
});
