/**
 * Steps composed into one chain, as grammY composes middleware. A step receives the context and
 * `next`, the rest of the chain: it either handles the context and returns without calling
 * `next` (nothing after it runs), or calls `await next()` to pass it on, and may act again
 * once the steps after it are done. The order of the steps is the order of the list.
 *
 * ```ts
 * const round = chain<Round>(approvalDecided, commands, paused, route);
 * await run(round, ctx);
 * ```
 */
export type Next = () => Promise<void>;
export type Step<C> = (ctx: C, next: Next) => Promise<void>;

const pass = <C>(_ctx: C, next: Next) => next();
const leaf: Next = () => Promise.resolve();

/** `first`, whose `next` is `then` (whose own `next` is the caller's). */
function concat<C>(first: Step<C>, then: Step<C>): Step<C> {
  return (ctx, next) => {
    let called = false;
    return first(ctx, () => {
      if (called) return Promise.reject(new Error('a step called next() twice'));
      called = true;
      return then(ctx, next);
    });
  };
}

/** The steps as one step; none is a step that passes everything on. */
export function chain<C>(...steps: Step<C>[]): Step<C> {
  return steps.length ? steps.reduce(concat) : pass;
}

/** Runs a chain over a context; the last step's `next` does nothing. */
export function run<C>(step: Step<C>, ctx: C): Promise<void> {
  return step(ctx, leaf);
}
