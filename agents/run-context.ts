import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which run and persona the current async work belongs to. The orchestrator wraps each
 * agent invocation in `withRun`; the model wrapper reads `currentRun()` to label token
 * usage without threading ids through LangChain's call options.
 */
export interface RunContext {
  runId: string;
  persona: string;
}

const storage = new AsyncLocalStorage<RunContext>();

export function withRun<T>(ctx: RunContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentRun(): RunContext | undefined {
  return storage.getStore();
}
