import { randomUUID } from 'node:crypto';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { Command, interrupt, MemorySaver } from '@langchain/langgraph';
import { z } from 'zod';
import type { OutboundMessage } from '../../core/chat/types.js';
import type { OutboxPort } from '../../tools/types.js';
import { createHandoffTool } from '../graph/handoff-tool.js';
import type { TurnInfo } from '../graph/state.js';
import { contextKeeper, contextPolicy } from '../context-keepers.js';
import { buildTeamGraph, nodeName, type TeamGuards, type TeamMember } from '../graph/team-graph.js';
import { FOLLOW_UP, SCENARIOS, type Scenario, type ScriptedAnswer, type Seen } from './scenarios.js';

export interface ConformanceOptions {
  /** The model under test, as a persona runs it (its chain, retries and all). */
  model: BaseChatModel;
  scenarios?: readonly Scenario[];
  /**
   * Scripted mode: hands a scenario's scripted answers to the scripted model server before its
   * message. Left out, the model is real and only the `live` scenarios run.
   */
  script?: (answers: ScriptedAnswer[]) => Promise<void> | void;
  /** Scripted mode: answers not used yet; a scenario that leaves some unused fails. */
  pending?: () => Promise<number> | number;
  /** Per scenario; 120 s when left out. */
  timeoutMs?: number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  outcome: 'pass' | 'fail' | 'skip';
  detail?: string;
  ms: number;
}

/** The team a scenario runs with: Apollo (weather, deploy behind an approval, handoff) and Athena. */
function conformanceTeam(model: BaseChatModel, runs: Seen['toolRuns']): TeamMember[] {
  const roster = [
    { id: 'apollo', name: 'Apollo', role: 'developer' },
    { id: 'athena', name: 'Athena', role: 'pm' },
  ];
  const getWeather = tool(
    async ({ city }) => {
      runs.push({ name: 'get_weather', args: { city } });
      return `Weather in ${city}: 18°C and sunny.`;
    },
    { name: 'get_weather', description: 'The current weather in a city.', schema: z.object({ city: z.string().describe('the city, e.g. "Paris"') }) },
  );
  const deploy = tool(
    async ({ version }) => {
      // As the tool guard does for a risky call: the run pauses until a human decides.
      const decision = interrupt({ kind: 'conformance-approval', tool: 'deploy', version }) as { approved?: boolean } | undefined;
      if (!decision?.approved) return `Deploying ${version} was denied.`;
      runs.push({ name: 'deploy', args: { version } });
      return `Deployed ${version} to staging.`;
    },
    { name: 'deploy', description: 'Deploy a version to staging. Needs a human approval.', schema: z.object({ version: z.string().describe('the version, e.g. "1.2.3"') }) },
  );
  const prompt = (name: string) => `You are ${name}, on a software team that works in a chat thread. Use your tools when asked to, and answer briefly.`;
  // Each persona's history kept as the process keeps it (a context-length refusal compacts into the thread's summary).
  const context = (personaId: string) => contextKeeper({ policy: contextPolicy({}, undefined, undefined), modelSpec: undefined, summaryModel: model, personaId });
  return [
    { id: 'apollo', name: 'Apollo', model, tools: [getWeather, deploy, createHandoffTool('apollo', roster)], systemPrompt: prompt('Apollo'), middleware: [], context: context('apollo') },
    { id: 'athena', name: 'Athena', model, tools: [createHandoffTool('athena', roster)], systemPrompt: prompt('Athena'), middleware: [], context: context('athena') },
  ];
}

const GUARDS: TeamGuards = { maxTurnsPerMessage: 6, maxHandoffsPerHour: 20, handoffsInLastHour: async () => 0, recordHandoff: async () => ({}), budgetSpent: async () => null };

/** Posts each idempotency key once, as the real outbox does, and keeps them. */
class MemoryOutbox implements OutboxPort {
  readonly sent: OutboundMessage[] = [];
  private readonly keys = new Set<string>();
  directThreadFor(): string | undefined {
    return undefined;
  }
  async send(message: OutboundMessage): Promise<{ queued: boolean }> {
    if (this.keys.has(message.idempotencyKey)) return { queued: false };
    this.keys.add(message.idempotencyKey);
    this.sent.push(message);
    return { queued: true };
  }
}

/** Runs one scenario in a fresh thread: the messages before, the prompt, then the follow-up. */
async function runScenario(s: Scenario, opts: ConformanceOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const scripted = !!opts.script;
  const result = (outcome: ScenarioResult['outcome'], detail?: string): ScenarioResult => ({
    id: s.id,
    title: s.title,
    outcome,
    ...(detail ? { detail } : {}),
    ms: Math.round(performance.now() - started),
  });
  if (!scripted && !s.live) return result('skip', 'scripted model only');

  const runs: Seen['toolRuns'] = [];
  const outbox = new MemoryOutbox();
  const graph = buildTeamGraph({ members: conformanceTeam(opts.model, runs), checkpointer: new MemorySaver(), outbox, guards: GUARDS });
  const threadId = `conformance:${s.id}:${randomUUID().slice(0, 8)}`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('timed out')), opts.timeoutMs ?? 120_000);
  const config = { configurable: { thread_id: threadId }, recursionLimit: 60, signal: abort.signal };

  const say = async (prompt: string, script: ScriptedAnswer[]): Promise<Seen> => {
    if (opts.script) await opts.script(script);
    const from = outbox.sent.length;
    const runsFrom = runs.length;
    const id = `in-${randomUUID().slice(0, 8)}`;
    const turn: TurnInfo = { inboundIds: [id], platform: 'local', threadId, requestedBy: 'conformance' };
    const seen: Seen = { posts: [], toolRuns: [], approvals: 0 };
    try {
      const input = new Command({
        goto: nodeName('apollo'),
        update: { messages: [new HumanMessage({ id, content: prompt, name: 'jeff' })], start: 'apollo', queue: [], turns: 1, handoff: null, turn },
      });
      let out = (await graph.invoke(input as never, config)) as { __interrupt__?: unknown[] };
      while (out.__interrupt__?.length && seen.approvals < 3) {
        seen.approvals += 1;
        out = (await graph.invoke(new Command({ resume: { approved: true } }) as never, config)) as { __interrupt__?: unknown[] };
      }
    } catch (err) {
      seen.error = (err as Error)?.message ?? String(err);
    }
    seen.posts = outbox.sent.slice(from).map((m) => ({ role: m.role ?? 'agent', persona: m.persona, text: m.text }));
    seen.toolRuns = runs.slice(runsFrom);
    return seen;
  };

  try {
    for (const b of s.before ?? []) await say(b.prompt, b.script);
    const seen = await say(s.prompt, s.script);
    const problem = s.check(seen);
    if (problem) return result('fail', problem);
    if (opts.pending) {
      const left = await opts.pending();
      if (left) return result('fail', `the model was asked ${left} time(s) fewer than scripted`);
    }
    const next = await say(FOLLOW_UP.prompt, FOLLOW_UP.script);
    const reply = next.posts.find((p) => p.role === 'agent' && p.text.trim());
    if (next.error || !reply) return result('fail', `the next message in the thread was not answered${next.error ? ` (${next.error})` : ''}: ${JSON.stringify(next.posts.map((p) => p.text))}`);
    if (scripted && reply.text !== 'Still here.') return result('fail', `the next message was answered with ${JSON.stringify(reply.text)}`);
    return result('pass');
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the scenarios one after another (they share the model server's script). */
export async function runConformance(opts: ConformanceOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const s of opts.scenarios ?? SCENARIOS) results.push(await runScenario(s, opts));
  return results;
}

/** The results as a table, one scenario a line: PASS, FAIL (and why) or skip. */
export function renderConformance(model: string, results: readonly ScenarioResult[]): string {
  const width = Math.max(...results.map((r) => r.title.length), 8);
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'skip' } as const;
  const lines = [`Model conformance: ${model}`, `${'scenario'.padEnd(width)}  result  ms`];
  for (const r of results) lines.push(`${r.title.padEnd(width)}  ${mark[r.outcome].padEnd(6)}  ${String(r.ms).padStart(5)}${r.detail ? `  ${r.detail}` : ''}`);
  const count = (o: ScenarioResult['outcome']) => results.filter((r) => r.outcome === o).length;
  lines.push(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}
