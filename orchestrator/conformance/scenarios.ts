/**
 * The model conformance suite: what a model must do to drive Pantheon's tools, and how Pantheon
 * must answer each way models misbehave. One list, run three ways: against the scripted model
 * server in `npm test` (each scenario's `script` is what the scripted model answers), against a
 * real model with PANTHEON_LIVE_MODEL=provider:model (scenarios marked `live`; the prompt alone
 * must get the behaviour from a real model), and in `pantheon doctor` (the `short` ones).
 *
 * Every check reads what the human sees (the posts to the thread) and what the tools did.
 */

/** One scripted answer, as the scripted model server takes it (test/fakes/llm ScriptedResponse). */
export type ScriptedAnswer = Record<string, unknown>;

/** What a scenario's run left behind. */
export interface Seen {
  /** Posts to the thread, in order (agent answers and system notices). */
  posts: Array<{ role: 'agent' | 'system' | 'user'; persona?: string; text: string }>;
  /** Tool calls that ran, in order. */
  toolRuns: Array<{ name: string; args: Record<string, unknown> }>;
  /** Approvals asked (and given) during the run. */
  approvals: number;
  /** The run threw: Pantheon failed to handle what the model did. */
  error?: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** Runs against a real model too; misbehaviours can only be played by the scripted model. */
  live: boolean;
  /** Part of `pantheon doctor`'s short form. */
  short?: boolean;
  /** The human's message, to `@apollo`. */
  prompt: string;
  /** The scripted model's answers to the prompt, in order. */
  script: ScriptedAnswer[];
  /** Messages the thread had before the prompt (what is seen of them is not checked). */
  before?: Array<{ prompt: string; script: ScriptedAnswer[] }>;
  /** Undefined when it passed, else what the human saw go wrong. */
  check(seen: Seen): string | undefined;
}

/** The second message of every scenario: after whatever happened, the thread must still answer. */
export const FOLLOW_UP = { prompt: '@apollo are you still there?', script: [{ text: 'Still here.' }] as ScriptedAnswer[] };

const answers = (seen: Seen) => seen.posts.filter((p) => p.role === 'agent');
const notices = (seen: Seen) => seen.posts.filter((p) => p.role === 'system');
const weather = (seen: Seen) => seen.toolRuns.filter((r) => r.name === 'get_weather');
const cityOf = (r: { args: Record<string, unknown> }) => String(r.args.city ?? '').toLowerCase();

/** The first problem found, or undefined. */
function first(...problems: Array<string | false | undefined>): string | undefined {
  return problems.find((p): p is string => typeof p === 'string');
}

const noError = (seen: Seen) => seen.error !== undefined && `the run failed: ${seen.error}`;
const noNotice = (seen: Seen) => notices(seen).length > 0 && `a notice was posted: ${notices(seen)[0]!.text}`;
const nothingEmpty = (seen: Seen) => seen.posts.some((p) => !p.text.trim()) && 'an empty message was posted';
const answered = (seen: Seen, pattern: RegExp, what: string) =>
  !answers(seen).some((a) => pattern.test(a.text)) && `no answer ${what} was posted (posts: ${JSON.stringify(seen.posts.map((p) => p.text))})`;
const ranWeatherFor = (seen: Seen, city: string) => !weather(seen).some((r) => cityOf(r).includes(city)) && `get_weather did not run for ${city} (runs: ${JSON.stringify(seen.toolRuns)})`;
/** Exactly one notice for the human, saying what the pattern says, and no answer beside it. */
const oneNotice = (seen: Seen, pattern: RegExp) => {
  const n = notices(seen);
  if (n.length !== 1) return `expected one notice, saw ${n.length}: ${JSON.stringify(seen.posts.map((p) => p.text))}`;
  if (!pattern.test(n[0]!.text)) return `the notice does not say ${pattern}: ${n[0]!.text}`;
  return undefined;
};
/** A model call's failure as the notice names it: the persona, `provider:model`, what failed. */
const failed = (what: string) => new RegExp(`^Apollo could not answer: \\S+:\\S+ ${what}`);

const recovered = (seen: Seen) => first(noError(seen), noNotice(seen), nothingEmpty(seen), ranWeatherFor(seen, 'paris'), answered(seen, /18/, 'with the weather'));

const weatherCall = (args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ toolCalls: [{ name: 'get_weather', args, ...extra }] });
const weatherAnswer = { text: 'It is 18°C and sunny in Paris.' };

export const SCENARIOS: Scenario[] = [
  {
    id: 'plain-answer',
    title: 'plain answer',
    live: true,
    short: true,
    prompt: '@apollo Reply with one short sentence that contains the word "pong".',
    script: [{ text: 'pong, as asked.' }],
    check: (seen) => first(noError(seen), noNotice(seen), seen.toolRuns.length > 0 && 'a tool ran for a plain question', answered(seen, /pong/i, 'containing "pong"')),
  },
  {
    id: 'one-tool-call',
    title: 'one tool call',
    live: true,
    short: true,
    prompt: '@apollo What is the weather in Paris right now? Use the get_weather tool, then tell me the temperature.',
    script: [weatherCall({ city: 'Paris' }), weatherAnswer],
    check: recovered,
  },
  {
    id: 'parallel-tool-calls',
    title: 'parallel tool calls',
    live: true,
    prompt: '@apollo Get the weather for Paris and for Tokyo with the get_weather tool (both calls at once), then give me both temperatures.',
    script: [
      {
        toolCalls: [
          { name: 'get_weather', args: { city: 'Paris' } },
          { name: 'get_weather', args: { city: 'Tokyo' } },
        ],
      },
      { text: 'Paris: 18°C. Tokyo: 18°C.' },
    ],
    check: (seen) => first(noError(seen), noNotice(seen), ranWeatherFor(seen, 'paris'), ranWeatherFor(seen, 'tokyo'), answered(seen, /18/, 'with the temperatures')),
  },
  {
    id: 'handoff',
    title: 'a handoff',
    live: true,
    prompt: '@apollo Hand this to athena with the handoff tool: "please plan the Q3 roadmap". Do not answer it yourself.',
    script: [{ toolCalls: [{ name: 'handoff', args: { to: 'athena', message: 'please plan the Q3 roadmap' } }] }, { text: 'Athena here: the roadmap is on its way.' }],
    check: (seen) => first(noError(seen), noNotice(seen), !answers(seen).some((a) => a.persona === 'athena') && `athena did not answer (posts: ${JSON.stringify(seen.posts)})`),
  },
  {
    id: 'approval',
    title: 'an approval',
    live: true,
    prompt: '@apollo Deploy version 1.2.3 to staging with the deploy tool, then confirm.',
    script: [{ toolCalls: [{ name: 'deploy', args: { version: '1.2.3' } }] }, { text: 'Deployed 1.2.3 to staging.' }],
    check: (seen) =>
      first(
        noError(seen),
        noNotice(seen),
        seen.approvals < 1 && 'no approval was asked',
        !seen.toolRuns.some((r) => r.name === 'deploy' && String(r.args.version).includes('1.2.3')) && 'deploy did not run for 1.2.3',
        answered(seen, /1\.2\.3|deploy/i, 'confirming the deploy'),
      ),
  },
  // ---- misbehaviours: the scripted model plays them; Pantheon must lead each somewhere visible ----
  {
    id: 'invalid-json-args',
    title: 'tool arguments not valid JSON, then corrected',
    live: false,
    prompt: '@apollo What is the weather in Paris?',
    script: [{ toolCalls: [{ name: 'get_weather', rawArgs: '{"city": "Par' }] }, weatherCall({ city: 'Paris' }), weatherAnswer],
    check: recovered,
  },
  {
    id: 'unknown-tool',
    title: 'a tool that does not exist, then corrected',
    live: false,
    prompt: '@apollo What is the weather in Paris?',
    script: [{ toolCalls: [{ name: 'fetch_weather', args: { city: 'Paris' } }] }, weatherCall({ city: 'Paris' }), weatherAnswer],
    check: recovered,
  },
  {
    id: 'schema-mismatch',
    title: 'arguments that fail the schema, then corrected',
    live: false,
    prompt: '@apollo What is the weather in Paris?',
    script: [weatherCall({ town: 'Paris' }), weatherCall({ city: 'Paris' }), weatherAnswer],
    check: (seen) => first(recovered(seen), weather(seen).length !== 1 && `get_weather ran ${weather(seen).length} times, expected once (the malformed call must not run)`),
  },
  {
    id: 'duplicate-call-ids',
    title: 'two calls with one id',
    live: false,
    prompt: '@apollo Weather in Paris and Tokyo?',
    script: [
      {
        toolCalls: [
          { id: 'call_0', name: 'get_weather', args: { city: 'Paris' } },
          { id: 'call_0', name: 'get_weather', args: { city: 'Tokyo' } },
        ],
      },
      { text: 'Paris: 18°C. Tokyo: 18°C.' },
    ],
    check: (seen) => first(noError(seen), noNotice(seen), ranWeatherFor(seen, 'paris'), ranWeatherFor(seen, 'tokyo'), answered(seen, /18/, 'with both temperatures')),
  },
  {
    id: 'malformed-past-cap',
    title: 'malformed calls past the repair cap',
    live: false,
    prompt: '@apollo What is the weather in Paris?',
    script: [1, 2, 3, 4].map(() => ({ toolCalls: [{ name: 'get_weather', rawArgs: '{"city": ' }] })),
    check: (seen) =>
      first(
        noError(seen),
        seen.toolRuns.length > 0 && 'a malformed call ran',
        oneNotice(seen, /^Apollo could not produce a valid tool call: \S+:\S+ got it wrong 4 times in a row/),
        answers(seen).length > 0 && 'an answer was posted besides the notice',
      ),
  },
  {
    id: 'empty-once',
    title: 'an empty answer, then a real one',
    live: false,
    prompt: '@apollo Say hello.',
    script: [{ text: '' }, { text: 'Hello!' }],
    check: (seen) => first(noError(seen), noNotice(seen), nothingEmpty(seen), answered(seen, /^Hello!$/, '"Hello!"')),
  },
  {
    id: 'empty-twice',
    title: 'two empty answers',
    live: false,
    prompt: '@apollo Say hello.',
    script: [{ text: '' }, { text: '' }],
    check: (seen) => first(noError(seen), nothingEmpty(seen), oneNotice(seen, /^Apollo could not answer: \S+:\S+ answered with nothing, twice/)),
  },
  {
    id: 'cut-off-continued',
    title: 'an answer cut off, continued',
    live: false,
    prompt: '@apollo Tell me a story.',
    script: [{ text: 'Once upon a time, ', cutOff: true }, { text: 'there was a model. The end.' }],
    check: (seen) => first(noError(seen), noNotice(seen), answered(seen, /^Once upon a time, there was a model\. The end\.$/, 'with the continued story')),
  },
  {
    id: 'cut-off-twice',
    title: 'an answer cut off twice',
    live: false,
    prompt: '@apollo Tell me a long story.',
    script: [
      { text: 'Once upon a time, ', cutOff: true },
      { text: 'and then, ', cutOff: true },
    ],
    check: (seen) => first(noError(seen), noNotice(seen), answered(seen, /^Once upon a time, and then, \n\n\(This answer was cut off: \S+:\S+ reached its output limit\.\)$/, 'saying it was cut off')),
  },
  {
    id: 'rate-limited',
    title: '429 until the retries run out',
    live: false,
    prompt: '@apollo Say hello.',
    script: [1, 2, 3].map(() => ({ status: 429, error: 'Rate limit reached for requests', headers: { 'retry-after-ms': '5' } })),
    check: (seen) => first(noError(seen), oneNotice(seen, failed('was rate limited \\(429\\) after 3 attempts')), answers(seen).length > 0 && 'an answer was posted'),
  },
  {
    id: 'overloaded',
    title: "Anthropic's 529 overloaded, retried into an answer",
    live: false,
    prompt: '@apollo Say hello.',
    script: [{ status: 529, error: 'Overloaded', headers: { 'retry-after-ms': '5' } }, { text: 'Hello after the overload.' }],
    check: (seen) => first(noError(seen), noNotice(seen), answered(seen, /after the overload/, 'after the retry')),
  },
  {
    id: 'server-errors',
    title: '5xx until the retries run out',
    live: false,
    prompt: '@apollo Say hello.',
    script: [1, 2, 3].map(() => ({ status: 503, error: 'upstream unavailable', headers: { 'retry-after-ms': '5' } })),
    check: (seen) => first(noError(seen), oneNotice(seen, failed('was unavailable \\(503\\) after 3 attempts'))),
  },
  {
    id: 'connection-dropped',
    title: 'the connection dropped mid-answer, every time',
    live: false,
    prompt: '@apollo Say hello.',
    script: [1, 2, 3].map(() => ({ dropConnection: true })),
    check: (seen) => first(noError(seen), oneNotice(seen, failed('dropped the connection in the middle of its answer after 3 attempts'))),
  },
  {
    id: 'timeout',
    title: 'no answer within the timeout',
    live: false,
    prompt: '@apollo Say hello.',
    script: [{ delayMs: 3000, text: 'too late' }],
    check: (seen) => first(noError(seen), oneNotice(seen, failed('did not answer in time \\(timeout\\)'))),
  },
  {
    id: 'context-overflow',
    title: 'context length exceeded, compacted into the summary and retried',
    live: false,
    prompt: '@apollo Summarise our conversation.',
    before: [{ prompt: '@apollo Remember the number 42.', script: [{ text: 'Noted: 42.' }] }],
    // The refusal, the summary the compaction asks the model for, then the answer.
    script: [{ contextOverflow: true }, { text: 'Jeff asked Apollo to remember the number 42.' }, { text: 'A short summary.' }],
    check: (seen) => first(noError(seen), noNotice(seen), answered(seen, /^A short summary\.$/, 'after the trimmed retry')),
  },
  ...(['ollama', 'vllm', 'llamacpp', 'lmstudio'] as const).map(
    (quirk): Scenario => ({
      id: `quirk-${quirk}`,
      title: `${quirk}-style tool calls`,
      live: false,
      prompt: '@apollo What is the weather in Paris?',
      script: [weatherCall({ city: 'Paris' }, {}), weatherAnswer].map((a, i) => (i === 0 ? { ...a, quirk } : a)),
      check: (seen) => first(recovered(seen), weather(seen).length !== 1 && `get_weather ran ${weather(seen).length} times`),
    }),
  ),
];
