import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 16, part 6: budgets are checked before every model call of a run, not only at its start.
 * A persona whose budget runs out in the middle of a tool-calling turn is stopped before its next
 * model call, with a message naming the budget; the team's daily cap (orchestrator.budget) does the
 * same across personas; `pantheon work` and `GET /api/usage` show what each persona and thread used.
 */
describe('budgets per model call, through the real process', () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
  });
  after(async () => {
    await llm.close();
  });

  it('a budget reached mid-turn stops the run before the next model call; usage is shown', { timeout: 120_000 }, async () => {
    const dir = await tempDir('pantheon-budget-');
    await mkdir(join(dir.path, 'personas'));
    const persona = (id: string, extra = '') =>
      writeFile(
        join(dir.path, 'personas', `${id}.yaml`),
        `id: ${id}\nname: ${id[0]!.toUpperCase()}${id.slice(1)}\nrole: developer\ndescription: Developer.\ntools: [chat]\nprompt: I write code.\n${extra}`,
      );
    await persona('apollo', 'budget: { dailyTokens: 1000 }\n');
    await persona('hermes');
    await writeFile(
      join(dir.path, 'pantheon.yaml'),
      ['models: { default: "openai:gpt-4.1-mini" }', 'orchestrator:', '  budget: { dailyTokens: 5000 }', 'humans:', '  - { id: jeff, local: jeff }'].join('\n'),
    );
    const env = modelEnv(llm);
    const dataDir = join(dir.path, 'data');
    const app = await startPantheonProcess({ env, dataDir, cwd: dir.path });
    try {
      // Apollo's first call spends 1,100 of his 1,000 tokens and asks for a tool: the tool runs, his next call does not.
      llm.clear();
      llm.enqueue({ toolCalls: [{ name: 'list_team', args: {} }], usage: { input: 900, output: 200 } }, { text: 'Here is the team (must never be asked for).' });
      await postMessage(app.url, 'mid-turn', { text: '@apollo who is on the team? then summarise', user: 'jeff' });
      const stopped = await waitForMessage(app.url, 'mid-turn', (m) => m.role === 'system');
      assert.equal(stopped.text, "Apollo has used today's budget: 1,100 of 1,000 tokens; Apollo is back at 00:00 UTC, or raise budget.dailyTokens in apollo's persona file.");
      await sleep(500);
      assert.equal(llm.requests.length, 1, 'no model call after the budget was reached');
      assert.deepEqual(
        (await getMessages(app.url, 'mid-turn')).map((m) => m.role),
        ['user', 'system'],
        'nothing else is posted in the persona’s name',
      );

      // The team's cap: Hermes has no budget of his own, but the team's 5,000 tokens run out mid-turn.
      llm.clear();
      llm.enqueue({ toolCalls: [{ name: 'list_team', args: {} }], usage: { input: 3000, output: 1000 } }, { text: 'never asked' });
      await postMessage(app.url, 'team-cap', { text: '@hermes list the team twice', user: 'jeff' });
      const team = await waitForMessage(app.url, 'team-cap', (m) => m.role === 'system');
      assert.equal(
        team.text,
        "The team has used today's budget: 5,100 of 5,000 tokens, so Hermes stops here; the team is back at 00:00 UTC, or raise orchestrator.budget.dailyTokens in pantheon.yaml.",
      );
      await sleep(500);
      assert.equal(llm.requests.length, 1, 'no model call after the team cap was reached');

      // A new message to a spent persona is refused at the turn's start, with no model call either.
      llm.clear();
      await postMessage(app.url, 'mid-turn', { text: '@apollo still there?', user: 'jeff' });
      await waitForMessage(app.url, 'mid-turn', (m) => m.role === 'system' && m.id !== stopped.id);
      assert.equal(llm.requests.length, 0);

      // The usage, per persona and per thread: the API and `pantheon work` (over the running server).
      const api = (await (await fetch(`${app.url}/api/usage`, { headers: app.auth })).json()) as {
        personas: Array<{ key: string; calls: number; inputTokens: number; outputTokens: number }>;
        threads: Array<{ key: string; inputTokens: number; outputTokens: number }>;
      };
      assert.deepEqual(
        api.personas.map((p) => [p.key, p.calls, p.inputTokens, p.outputTokens]),
        [
          ['hermes', 1, 3000, 1000],
          ['apollo', 1, 900, 200],
        ],
      );
      assert.deepEqual(
        api.threads.map((t) => [t.key, t.inputTokens + t.outputTokens]),
        [
          ['local:team-cap', 4000],
          ['local:mid-turn', 1100],
        ],
      );
      const work = await runCli(['work', '--url', app.url, '--data-dir', dataDir], { env: { ...env, PANTHEON_CONSOLE_TOKEN: app.token } });
      assert.equal(work.code, 0, work.stderr);
      assert.match(
        work.stdout,
        /Model usage since \d{4}-\d\d-\d\d 00:00 UTC, per persona:\nPERSONA\s+CALLS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST\nhermes\s+1\s+3,000\s+1,000\s+\$\d+\.\d{4}\napollo\s+1\s+900\s+200\s+\$/,
      );
      assert.match(work.stdout, /per thread.*:\nTHREAD\s+CALLS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST\nlocal:team-cap\s+1\s+3,000\s+1,000\s+\$\S+\nlocal:mid-turn\s+1\s+900\s+200\s+\$/);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
