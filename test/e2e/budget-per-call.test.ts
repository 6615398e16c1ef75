import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest } from '../fakes/llm/index.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage } from '../support/pantheon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isThreadSummary = (r: FakeLLMRequest) => /running summary of a long chat thread/.test(r.messages[0]?.content ?? '');
const isMemorySummary = (r: FakeLLMRequest) => /You write the team's memory of a conversation/.test(r.messages[0]?.content ?? '');

/**
 * Issue 16, part 6: budgets are checked before every model call of a run, not only at its start.
 * A persona whose budget runs out in the middle of a tool-calling turn is stopped before its next
 * model call, with a message naming the budget; the team's daily cap (orchestrator.budget) does the
 * same across personas; `pantheon work` and `GET /api/usage` show what each persona and thread used.
 * The summary calls are model calls too: a thread's rolling summary over budget is not made (nor the
 * persona's call after it), and memory summaries wait while the team's cap is spent.
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
  it("a rolling-summary call over budget is not made: the turn ends with the budget's message", { timeout: 120_000 }, async () => {
    const dir = await tempDir('pantheon-budget-summary-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(
      join(dir.path, 'personas', 'athena.yaml'),
      'id: athena\nname: Athena\nrole: pm\ndescription: PM.\ntools: []\nprompt: I plan.\nbudget: { dailyTokens: 3000 }\ncontext: { historyTokens: 1000, summaryTokens: 200 }\n',
    );
    await writeFile(join(dir.path, 'pantheon.yaml'), ['models: { default: "openai:gpt-4.1-mini" }', 'humans:', '  - { id: jeff, local: jeff }'].join('\n'));
    // Athena's answers cost little; summarising the long paste costs 5,000 tokens, more than her budget.
    llm.clear();
    llm.setResponder((req) => {
      if (isThreadSummary(req))
        return /PASTE/.test(req.messages.at(-1)!.content) ? { text: 'A long log was pasted.', usage: { input: 5000, output: 20 } } : { text: 'Planning chatter.', usage: { input: 10, output: 5 } };
      return { text: 'Noted.', usage: { input: 10, output: 5 } };
    });
    const app = await startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path });
    const room = 'paste';
    const say = async (text: string, n: number) => {
      await postMessage(app.url, room, { text, user: 'jeff' });
      const deadline = Date.now() + 20_000;
      while ((await getMessages(app.url, room)).filter((m) => m.role !== 'user').length < n) {
        if (Date.now() > deadline) throw new Error(`no answer to "${text.slice(0, 30)}"\n${app.stderr().slice(-2000)}`);
        await sleep(20);
      }
    };
    try {
      for (let i = 1; i <= 5; i++) await say(`@athena item ${i}: ${'we planned the quarter again. '.repeat(8)}`, i);
      // A paste longer than one summary piece: folding it takes two summary calls, and the first spends the budget.
      await say(`@athena PASTE ${'alpha '.repeat(1600)}`, 6);
      assert.equal(llm.requests.filter(isThreadSummary).length, 1, 'the turns before the paste were folded, at small cost');
      const before = llm.requests.length;
      await say('@athena and what now?', 7);
      const told = (await getMessages(app.url, room)).at(-1)!;
      assert.equal(told.role, 'system');
      assert.match(told.text, /^Athena has used today's budget: 5,\d{3} of 3,000 tokens; Athena is back at 00:00 UTC, or raise budget\.dailyTokens in athena's persona file\.$/);
      await sleep(500);
      const after = llm.requests.slice(before);
      assert.deepEqual(
        after.map((r) => (isThreadSummary(r) ? 'summary' : 'athena')),
        ['summary'],
        'one summary call (the paste), then neither the second summary call nor athena’s',
      );
    } finally {
      llm.setResponder(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it("memory summaries wait while the team's cap is spent, and are written once it is raised", { timeout: 120_000 }, async () => {
    const dir = await tempDir('pantheon-budget-memory-');
    await mkdir(join(dir.path, 'personas'));
    await writeFile(join(dir.path, 'personas', 'hermes.yaml'), 'id: hermes\nname: Hermes\nrole: developer\ndescription: Developer.\ntools: []\nprompt: I write code.\n');
    const config = (cap: number) =>
      writeFile(
        join(dir.path, 'pantheon.yaml'),
        [
          'models: { default: "openai:gpt-4.1-mini" }',
          'orchestrator:',
          `  budget: { dailyTokens: ${cap} }`,
          'memory: { summarizeAfterIdleMinutes: 0.01 }',
          'humans:',
          '  - { id: jeff, local: jeff }',
        ].join('\n'),
      );
    await config(1000);
    llm.clear();
    llm.setResponder((req) =>
      isMemorySummary(req) ? { text: 'Facts:\n- The release train leaves on Tuesdays (RT-42).', usage: { input: 50, output: 20 } } : { text: 'Tuesdays, RT-42.', usage: { input: 900, output: 200 } },
    );
    const dataDir = join(dir.path, 'data');
    let app = await startPantheonProcess({ env: modelEnv(llm), dataDir, cwd: dir.path });
    try {
      await postMessage(app.url, 'trains', { text: '@hermes when does the release train leave? RT-42', user: 'jeff' });
      await waitForMessage(app.url, 'trains', (m) => m.role === 'agent');
      // The conversation is idle after 0.6 s and the watcher looks every second: several passes, none may call the model.
      const waiting = /conversation summaries wait: The team has used today's budget: 1,100 of 1,000 tokens/;
      for (let i = 0; i < 100 && !waiting.test(app.stdout() + app.stderr()); i++) await sleep(100);
      assert.match(app.stdout() + app.stderr(), waiting, 'the watcher says why it waits');
      await sleep(2500);
      assert.equal(llm.requests.filter(isMemorySummary).length, 0, 'no memory-summary call over the cap');
      assert.equal(await app.stop(), 0);

      // The cap raised: the same conversation is summarised.
      await config(100_000);
      app = await startPantheonProcess({ env: modelEnv(llm), dataDir, cwd: dir.path });
      for (let i = 0; i < 100 && !llm.requests.some(isMemorySummary); i++) await sleep(100);
      assert.equal(llm.requests.filter(isMemorySummary).length, 1, 'summarised once the budget allows');
    } finally {
      llm.setResponder(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });
});
