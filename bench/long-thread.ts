/**
 * Long threads (issue 16): the tokens a persona's model is sent per turn as a thread grows to
 * 1,000 turns (a human message, a tool call and its result, an answer, each turn), with the
 * default history budget (12,000 tokens) counted by gpt-4.1-mini's own tokenizer, and how long
 * each compaction takes (the summary model scripted and instant: this is Pantheon's own cost).
 * Target: turn 1,000 within 1.2x of turn 100.
 *
 *   node --import tsx bench/long-thread.ts [--turns 1000] [--history 12000]
 */
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { contextKeeper, contextPolicy } from '../orchestrator/context-keepers.js';
import { FRESH_CONTEXT, type ThreadContext } from '../orchestrator/graph/context.js';
import { fmt, percentile } from './stats.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const turns = opt('--turns', 1000);
const history = opt('--history', 12_000);
const SPEC = 'openai:gpt-4.1-mini';

/** The summary model: instant, answers with a summary of bounded size (as a real one asked for at most N words). */
class InstantSummary extends BaseChatModel {
  calls = 0;
  constructor() {
    super({});
  }
  _llmType() {
    return 'instant-summary';
  }
  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls += 1;
    const input = String(messages.at(-1)?.content ?? '');
    const text = `Summary ${this.calls}: ${input.slice(0, 3000)}`;
    return { generations: [{ text, message: new AIMessage({ content: text }) }] };
  }
}

const summary = new InstantSummary();
const compactions: number[] = [];
const keeper = contextKeeper({
  policy: contextPolicy({ historyTokens: history }, undefined, SPEC),
  modelSpec: SPEC,
  summaryModel: summary,
  personaId: 'apollo',
  onCompacted: (ms) => compactions.push(ms),
});

const messages: BaseMessage[] = [];
let context: ThreadContext = FRESH_CONTEXT;
const sent: number[] = [];
const prepareMs: number[] = [];
for (let t = 1; t <= turns; t++) {
  messages.push(
    new HumanMessage({
      id: `h${t}`,
      name: 'jeff',
      content: `Turn ${t}: please check the deploy log of service ${t % 17} and tell me whether the migration ${t} ran. ${'Some context about the rollout. '.repeat(3)}`,
    }),
  );
  messages.push(new AIMessage({ id: `a${t}`, name: 'apollo', content: '', tool_calls: [{ id: `c${t}`, name: 'read_log', args: { service: `svc-${t % 17}`, lines: 200 }, type: 'tool_call' }] }));
  messages.push(
    new ToolMessage({
      id: `t${t}`,
      tool_call_id: `c${t}`,
      name: 'read_log',
      content: Array.from({ length: 40 }, (_, i) => `2026-01-01T00:00:${String(i).padStart(2, '0')}Z migration ${t} step ${i} ok`).join('\n'),
    }),
  );
  const started = performance.now();
  const prepared = await keeper.prepare(messages, context);
  prepareMs.push(performance.now() - started);
  context = prepared.context;
  sent.push(prepared.tokens);
  messages.push(new AIMessage({ id: `r${t}`, name: 'apollo', content: `Migration ${t} ran: all 40 steps are ok in the log of svc-${t % 17}.` }));
}

const at = (t: number) => sent[t - 1] ?? Number.NaN;
const mean = (from: number, to: number) => sent.slice(from - 1, to).reduce((a, b) => a + b, 0) / (to - from + 1);
console.log(`long thread: ${turns} turns, history budget ${history} tokens (${SPEC}, tiktoken), thread now ${messages.length} messages`);
for (const t of [10, 100, 500, 1000].filter((t) => t <= turns))
  console.log(`  turn ${String(t).padStart(4)}: ${at(t)} tokens sent (mean of turns ${Math.max(1, t - 9)}-${t}: ${fmt(mean(Math.max(1, t - 9), t), 0)})`);
if (turns >= 1000)
  console.log(
    `  turn 1000 / turn 100: ${fmt(at(1000) / at(100))}x (means of the 10 turns before each: ${fmt(mean(991, 1000) / mean(91, 100))}x; max over turns 100-1000 / turn 100: ${fmt(Math.max(...sent.slice(99)) / at(100))}x)`,
  );
console.log(
  `  compactions: ${compactions.length} (${summary.calls} summary calls), latency p50 ${fmt(percentile(compactions, 50))} ms, p95 ${fmt(percentile(compactions, 95))} ms (scripted instant summary model)`,
);
console.log(`  building a model's input: p50 ${fmt(percentile(prepareMs, 50))} ms, p95 ${fmt(percentile(prepareMs, 95))} ms per call`);
