/** The chain the turn's steps are composed into (orchestrator/turn/chain.ts), as grammY composes middleware. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chain, run, type Step } from '../../orchestrator/turn/chain.js';

interface Ctx {
  log: string[];
}
/** A step that logs before and after the rest of the chain. */
const around =
  (name: string): Step<Ctx> =>
  async (ctx, next) => {
    ctx.log.push(`${name} in`);
    await next();
    ctx.log.push(`${name} out`);
  };
const handles =
  (name: string): Step<Ctx> =>
  async (ctx) => {
    ctx.log.push(`${name} handles`);
  };

describe('chain', () => {
  test('steps run in the order listed; each resumes after the steps behind it are done', async () => {
    const ctx: Ctx = { log: [] };
    await run(chain(around('a'), around('b'), around('c')), ctx);
    assert.deepEqual(ctx.log, ['a in', 'b in', 'c in', 'c out', 'b out', 'a out']);
  });

  test('a step that does not call next() ends the chain there', async () => {
    const ctx: Ctx = { log: [] };
    await run(chain(around('a'), handles('b'), around('c')), ctx);
    assert.deepEqual(ctx.log, ['a in', 'b handles', 'a out']);
  });

  test("next() of the last step is the caller's: chains compose into chains", async () => {
    const ctx: Ctx = { log: [] };
    const inner = chain(around('b'), around('c'));
    await run(chain(around('a'), inner, handles('d')), ctx);
    assert.deepEqual(ctx.log, ['a in', 'b in', 'c in', 'd handles', 'c out', 'b out', 'a out']);
    const outer: Ctx = { log: [] };
    await inner(outer, async () => {
      outer.log.push('caller');
    });
    assert.deepEqual(outer.log, ['b in', 'c in', 'caller', 'c out', 'b out']);
  });

  test('no steps: the context passes straight on', async () => {
    const ctx: Ctx = { log: [] };
    await chain<Ctx>()(ctx, async () => {
      ctx.log.push('next');
    });
    assert.deepEqual(ctx.log, ['next']);
    await run(chain<Ctx>(), ctx);
  });

  test('calling next() twice is refused', async () => {
    const twice: Step<Ctx> = async (_ctx, next) => {
      await next();
      await next();
    };
    const ctx: Ctx = { log: [] };
    await assert.rejects(run(chain(twice, handles('b')), ctx), /next\(\) twice/);
    assert.deepEqual(ctx.log, ['b handles'], 'the rest of the chain ran once');
  });

  test('an error behind a step reaches it at its next(), and stops the chain', async () => {
    const ctx: Ctx = { log: [] };
    const failing: Step<Ctx> = async () => {
      throw new Error('boom');
    };
    const catching: Step<Ctx> = async (c, next) => {
      try {
        await next();
      } catch (err) {
        c.log.push(`caught ${(err as Error).message}`);
      }
    };
    await run(chain(catching, failing, handles('never')), ctx);
    assert.deepEqual(ctx.log, ['caught boom']);
    await assert.rejects(run(chain(around('a'), failing), { log: [] }), /boom/);
  });
});
