import assert from 'node:assert/strict';
import type { FakeLLMRequest, ScriptedResponse } from '../fakes/llm/index.js';

/**
 * What the long-thread tests of issue 16 share (the local chat, a Telegram chat with the
 * orchestrator, a Mattermost channel bound to a persona): the scripted models of a thread of 500
 * turns and the checks on what the persona's model was sent over them.
 *
 * The thread: turn 1 states a fact, turns 2 to 499 are chatter, turn 500 asks for the fact. The
 * scripted summary model keeps every FACT line of what it is given (as a real one keeps facts);
 * the persona's model answers the question only from what it was sent, so the answer people see
 * at turn 500 says whether the fact survived.
 */
export const TURNS = 500;
/** The process is restarted after this turn. */
export const RESTART_AFTER = 250;
export const FACT = 'FACT: the staging database is db-7, and Maria owns it.';
export const QUESTION = 'which database is staging, and who owns it?';
export const ANSWER = 'Staging is db-7, owned by Maria.';
/** A history budget small enough to be reached within 20 turns. */
export const CONTEXT_CONFIG = ['orchestrator:', '  context: { historyTokens: 1000, summaryTokens: 200 }'];

export const chatter = (turn: number) => `turn ${turn}: ${'we went over the rollout plan once more. '.repeat(3)}`;

export const isSummaryRequest = (r: FakeLLMRequest) => /running summary of a long chat thread/.test(r.messages[0]?.content ?? '');
const isMemorySummary = (r: FakeLLMRequest) => /You write the team's memory of a conversation/.test(r.messages[0]?.content ?? '');
/** A request of the persona (or the orchestrator's supervisor) answering the thread. */
export const isThreadRequest = (r: FakeLLMRequest) => r.wire !== 'embeddings' && !isSummaryRequest(r) && !isMemorySummary(r);
export const chars = (r: FakeLLMRequest) => r.messages.reduce((n, m) => n + m.content.length, 0);

export function longThreadResponder(req: FakeLLMRequest): ScriptedResponse {
  if (isSummaryRequest(req)) return { text: [...new Set(req.messages.at(-1)!.content.match(/FACT[^\n<]*/g) ?? [])].join('\n') || 'Small talk only.' };
  if (isMemorySummary(req)) return { text: 'NOTHING' };
  if (req.messages.at(-1)?.content.includes(QUESTION)) {
    const found = /staging database is (db-\d+), and (\w+) owns it/.exec(req.messages.map((m) => m.content).join('\n'));
    return { text: found ? `Staging is ${found[1]}, owned by ${found[2]}.` : 'I do not know which database is staging.' };
  }
  return { text: `Noted, ${req.messages.filter((m) => m.role === 'user').length} messages in view.` };
}

/**
 * The checks on the thread's model requests (one per turn, oldest first): what each turn sends
 * stops growing once the budget is reached (turns 400-500 send at most 1.2x what turns 90-110
 * sent, and far less than the thread); the last request carries the turn-1 fact in the rolling
 * summary, quoted as a user message, and not the early turns themselves; the first request after
 * the restart already has the summary; compaction is incremental and runs every few turns.
 */
export function assertBoundedThread(requests: FakeLLMRequest[], summaries: FakeLLMRequest[]): void {
  assert.equal(requests.length, TURNS, 'one model call per turn');
  const sizes = requests.map(chars);
  const settled = Math.max(...sizes.slice(89, 110));
  const late = Math.max(...sizes.slice(399));
  assert.ok(late <= settled * 1.2, `turns 400-500 send at most 1.2x what turns 90-110 sent (${late} vs ${settled} characters)`);
  const whole = sizes.reduce((a, b) => a + b, 0);
  assert.ok(sizes.at(-1)! < whole / 50, `the last turn sends far less than the thread (${sizes.at(-1)} of ${whole} characters)`);
  const last = requests.at(-1)!;
  const summary = last.messages.find((m) => m.content.includes('<thread-summary>'));
  assert.ok(summary, 'the summary is sent at turn 500');
  assert.equal(summary.role, 'user', 'quoted as a user message, never as system text');
  assert.ok(summary.content.includes(FACT), 'the turn-1 fact is in the summary at turn 500');
  assert.doesNotMatch(last.messages.map((m) => m.content).join('\n'), /turn 2:/, 'early turns are not sent as themselves');
  const afterRestart = requests[RESTART_AFTER]!;
  assert.ok(
    afterRestart.messages.some((m) => m.content.includes('<thread-summary>') && m.content.includes(FACT)),
    'the first request after the restart has the summary kept in the thread state',
  );
  assert.ok(summaries.length > 20 && summaries.length < TURNS / 3, `compaction runs every few turns (${summaries.length} for ${TURNS} turns)`);
  assert.ok(Math.max(...summaries.map(chars)) < 8000, 'each summary request is the previous summary and a bounded slice, never the thread');
}

/** Times each turn of a thread; `report` prints the median of the first and last 50 turns (what a long thread costs per turn). */
export function turnClock() {
  const ms: number[] = [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return {
    async time<T>(turn: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const out = await turn();
      ms.push(performance.now() - started);
      return out;
    },
    report(what: string, totalMs: number): string {
      return `# ${what}: ${ms.length} turns in ${(totalMs / 1000).toFixed(1)} s (restart included); median turn ${median(ms.slice(1, 51)).toFixed(0)} ms over turns 2-51, ${median(ms.slice(-50)).toFixed(0)} ms over the last 50`;
    },
  };
}
