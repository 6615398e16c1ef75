/**
 * The scripted team of the GitHub loop e2e test (test/e2e/github-loop.test.ts): one model
 * responder that plays athena, apollo, artemis and perseus. Each answer is chosen from the
 * persona asking (its system prompt) and what its conversation already holds: the GitHub
 * envelope it was woken with and the results of its own earlier tool calls. Values a real model
 * would read from tool results (the issue link, the branch, the review comment id) are read
 * from them here too, so a tool answering something else breaks the script visibly.
 */
import type { FakeLLMRequest, ScriptedResponse } from '../fakes/llm/index.js';

export const REPO = 'acme/calc';

/** The repository under work: its test fails until sum() handles empty arrays. */
export const CALC_FILES = {
  'package.json': JSON.stringify({ name: 'calc', version: '1.0.0', scripts: { test: 'node test.js' } }, null, 2) + '\n',
  'sum.js': 'module.exports = function sum(xs) {\n  return xs.reduce((a, b) => a + b);\n};\n',
  'test.js': "const assert = require('node:assert');\nconst sum = require('./sum.js');\nassert.strictEqual(sum([1, 2, 3]), 6);\nassert.strictEqual(sum([]), 0);\nconsole.log('all tests passed');\n",
};
const FIRST_FIX = 'module.exports = function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n};\n';
const SECOND_FIX = 'module.exports = function sum(xs = []) {\n  return xs.reduce((a, b) => a + b, 0);\n};\n';
const SECOND_TEST = CALC_FILES['test.js'].replace('console.log', 'assert.strictEqual(sum(), 0);\nconsole.log');

export const ARTEMIS_COMMENT = 'sum() called without an argument still throws. Default xs to [] and add a test for it.';
export const APOLLO_REPLY = 'Done: xs defaults to [] now, with a test for sum().';

/** Which persona a model request was made for, from its system prompt. */
export const personaOf = (r: FakeLLMRequest) => /@([a-z0-9-]+)\)/.exec(r.messages[0]?.content ?? '')?.[1] ?? '?';

interface Step {
  name: string;
  args: Record<string, unknown>;
  result: string;
}

/** The persona's own tool calls with their results; `turn` only: since the last user message. */
function steps(req: FakeLLMRequest, scope: 'turn' | 'all'): Step[] {
  const lastUser = req.messages.map((m) => m.role).lastIndexOf('user');
  const messages = scope === 'turn' ? req.messages.slice(lastUser + 1) : req.messages;
  const results = new Map(req.messages.filter((m) => m.role === 'tool').map((m) => [m.toolCallId, m.content]));
  return messages.flatMap((m) => (m.toolCalls ?? []).map((c) => ({ name: c.name, args: c.args, result: results.get(c.id) ?? '' })));
}

/** The GitHub thread this persona was woken on: `{ number, isPull }` from the envelope's header. */
function githubThread(req: FakeLLMRequest): { number: number; isPull: boolean } | undefined {
  for (const m of [...req.messages].reverse()) {
    const hit = m.role === 'user' ? /\[GitHub acme\/calc#(\d+), (issue|pull request)\]/.exec(m.content) : null;
    if (hit) return { number: Number(hit[1]), isPull: hit[2] === 'pull request' };
  }
  return undefined;
}

function must(text: string, re: RegExp, what: string): string {
  const m = re.exec(text);
  if (!m) throw new Error(`scripted team: no ${what} in: ${text.slice(0, 400)}`);
  return m[1]!;
}

const call = (name: string, args: Record<string, unknown>, text?: string): ScriptedResponse => ({ text, toolCalls: [{ name, args }] });

/** The next step of a fixed plan: the first planned tool not called yet in this turn, else `done`. */
function next(done: Step[], plan: Array<[string, () => Record<string, unknown>, string?]>, finish: () => string): ScriptedResponse {
  const last = done.at(-1);
  if (last && /^(Error|Refused)|exit code [1-9]/.test(last.result)) return { text: `Stopped: ${last.name} said: ${last.result.slice(0, 300)}` };
  const step = plan[done.length];
  return step ? call(step[0], step[1](), step[2]) : { text: finish() };
}

function athena(req: FakeLLMRequest): ScriptedResponse {
  const done = steps(req, 'turn');
  return next(
    done,
    [
      [
        'create_issue',
        () => ({
          repo: REPO,
          title: 'sum() must handle empty arrays',
          body: 'sum([]) throws a TypeError (reduce of an empty array with no initial value). It should return 0.',
          acceptance_criteria: ['sum([]) returns 0', 'npm test passes'],
          assignee: 'apollo',
        }),
      ],
    ],
    () => `Opened ${must(done[0]!.result, /(https?:\/\/\S+\/issues\/\d+)/, 'issue link')} and assigned it to Apollo.`,
  );
}

function apollo(req: FakeLLMRequest): ScriptedResponse {
  const thread = githubThread(req);
  const done = steps(req, 'turn');
  const ws = 'acme-calc-1';
  if (thread && !thread.isPull) {
    const branch = () => must(done[0]!.result, /(pantheon\/apollo\/[\w-]+)/, 'work branch');
    return next(
      done,
      [
        ['clone', () => ({ repo: REPO, issue: thread.number }), 'On it: fixing sum() for empty arrays, PR soon.'],
        ['write_file', () => ({ workspace: ws, path: 'sum.js', content: FIRST_FIX })],
        ['run_workspace_command', () => ({ workspace: ws, command: 'npm test' })],
        ['commit', () => ({ workspace: ws, message: 'Make sum() return 0 for an empty array\n\nCloses #1.' })],
        ['push', () => ({ workspace: ws })],
        ['open_pull_request', () => ({ repo: REPO, branch: branch(), issue: thread.number, title: 'Make sum() handle empty arrays', body: 'sum() starts from 0, so sum([]) is 0. npm test passes.' })],
      ],
      () => `Opened ${must(done.at(-1)!.result, /(https?:\/\/\S+\/pull\/\d+)/, 'pull request link')}; reviews requested from Artemis and Perseus.`,
    );
  }
  if (thread?.isPull) {
    const pr = thread.number;
    return next(
      done,
      [
        ['list_unresolved_review_threads', () => ({ repo: REPO, number: pr })],
        ['write_file', () => ({ workspace: ws, path: 'sum.js', content: SECOND_FIX })],
        ['write_file', () => ({ workspace: ws, path: 'test.js', content: SECOND_TEST })],
        ['run_workspace_command', () => ({ workspace: ws, command: 'npm test' })],
        ['commit', () => ({ workspace: ws, message: 'Default sum() to an empty array' })],
        ['push', () => ({ workspace: ws })],
        ['reply_to_review_comment', () => ({ repo: REPO, number: pr, comment_id: Number(must(done[0]!.result, /comment_id (\d+)/, 'review comment id')), body: APOLLO_REPLY })],
        ['request_reviews', () => ({ repo: REPO, number: pr, reviewers: ['artemis'] })],
      ],
      () => 'Addressed the review and asked Artemis to look again.',
    );
  }
  return { text: 'Nothing for me here.' };
}

/** Artemis asks for a change the first time, approves once asked again; Perseus approves. */
function reviewer(me: 'artemis' | 'perseus', req: FakeLLMRequest): ScriptedResponse {
  const pr = githubThread(req)?.number ?? 0;
  const done = steps(req, 'turn');
  const reviewedBefore = steps(req, 'all').filter((s) => s.name === 'submit_review').length > done.filter((s) => s.name === 'submit_review').length;
  const firstLook = me === 'artemis' && !reviewedBefore;
  return next(
    done,
    [
      ['get_pull_request_diff', () => ({ repo: REPO, number: pr })],
      [
        'submit_review',
        () =>
          firstLook
            ? { repo: REPO, number: pr, event: 'REQUEST_CHANGES', body: 'One gap left.', comments: [{ path: 'sum.js', line: 2, body: ARTEMIS_COMMENT }] }
            : { repo: REPO, number: pr, event: 'APPROVE', body: me === 'artemis' ? 'Looks good now.' : 'No security concerns.' },
      ],
    ],
    () => (firstLook ? 'Requested changes: one inline comment on sum.js.' : 'Approved.'),
  );
}

/** The responder: one persona per request; anything else is recorded in `unexpected`. */
export function scriptedTeam(unexpected: string[]) {
  return (req: FakeLLMRequest): ScriptedResponse => {
    const who = personaOf(req);
    if (who === 'athena') return athena(req);
    if (who === 'apollo') return apollo(req);
    if (who === 'artemis' || who === 'perseus') return reviewer(who, req);
    unexpected.push(`${who}: ${req.messages.at(-1)?.content.slice(0, 200)}`);
    return { text: 'ok' };
  };
}
