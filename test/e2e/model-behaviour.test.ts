import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLLM, type FakeLLM, type FakeLLMRequest, type ScriptedResponse } from '../fakes/llm/index.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram/index.js';
import { getMessages, modelEnv, postMessage, runCli, startPantheonProcess, tempDir, waitForMessage, type ApiMessage, type RunningPantheon } from '../support/pantheon-process.js';

/**
 * Issue 15, end to end: the real `pantheon start` process, its real model SDKs talking to the
 * scripted model server, which misbehaves as real models do. For each misbehaviour the human sees
 * the recovered answer or one clear message, the server keeps serving, and the next message in the
 * same thread is answered. Then the OpenAI-compatible servers' quirks, Telegram, and doctor.
 */
const TOKEN = '7000002:AAH-fake-telegram-token-model-e2e';
const jeff: FakeUser = { id: 111, first_name: 'Jeff', username: 'jeff' };
const chatRequests = (fake: FakeLLM) => fake.requests.filter((r) => r.wire === 'openai');
const MODEL = 'openai:gpt-4.1-mini';

async function project(lines: string[] = []) {
  const dir = await tempDir('pantheon-model-e2e-');
  await mkdir(join(dir.path, 'personas'));
  await writeFile(join(dir.path, 'personas', 'apollo.yaml'), 'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer who ships fixes.\ntools: [handoff]\nprompt: I write code.\n');
  await writeFile(join(dir.path, 'personas', 'athena.yaml'), 'id: athena\nname: Athena\nrole: pm\ndescription: Product manager.\ntools: [handoff]\nprompt: I scope work.\n');
  // Short timeout and backoff so the failure scenarios are quick; the rest as shipped.
  await writeFile(join(dir.path, 'pantheon.yaml'), ['models:', '  timeoutMs: 2000', '  maxRetries: 2', 'humans:', '  - { id: jeff, local: jeff, telegram: 111, approver: true }', ...lines].join('\n'));
  return dir;
}

describe('models as they really behave, through the real process', () => {
  let llm: FakeLLM;
  before(async () => {
    llm = await startFakeLLM();
  });
  after(async () => {
    await llm.close();
  });

  it('local chat: each misbehaviour ends in the recovered answer or one clear message, and the thread answers the next message', async () => {
    const dir = await project();
    const app = await startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    const room = 'misbehaving';
    const old = new Set<string>();
    /** Sends a message with the model's scripted answers; resolves to what was posted in answer to it. */
    const exchange = async (text: string, script: ScriptedResponse[], until: (m: ApiMessage) => boolean): Promise<ApiMessage[]> => {
      llm.enqueue(...script);
      await postMessage(app.url, room, { text, user: 'jeff' });
      await waitForMessage(app.url, room, (m) => !old.has(m.id) && m.role !== 'user' && until(m), 20_000).catch(async (err) => {
        throw new Error(`${err.message}\nserver log:\n${app.stderr().slice(-3000)}`);
      });
      await new Promise((r) => setTimeout(r, 300)); // anything else that would be posted for this message
      const fresh = (await getMessages(app.url, room)).filter((m) => !old.has(m.id));
      for (const m of fresh) old.add(m.id);
      assert.ok(llm.pending === 0, `the model was asked for every scripted answer (${llm.pending} left)`);
      return fresh.filter((m) => m.role !== 'user');
    };
    const answerAgain = async () => {
      const posted = await exchange('@apollo still there?', [{ text: 'Still here.' }], (m) => m.text === 'Still here.');
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['agent', 'Still here.']],
      );
    };
    try {
      // Arguments that are not JSON: the model is told and corrects itself; the human sees the answer only.
      let posted = await exchange(
        '@apollo what is in flight?',
        [{ toolCalls: [{ name: 'work_in_flight', rawArgs: '{"owner": "apol' }] }, { toolCalls: [{ name: 'work_in_flight', args: {} }] }, { text: 'Nothing is in flight.' }],
        (m) => m.text === 'Nothing is in flight.',
      );
      assert.deepEqual(
        posted.map((m) => [m.role, m.persona, m.text]),
        [['agent', 'apollo', 'Nothing is in flight.']],
      );
      const [, repair, afterTool] = chatRequests(llm).slice(-3) as [FakeLLMRequest, FakeLLMRequest, FakeLLMRequest];
      assert.match(repair.messages.at(-1)!.content, /^Error: the arguments of your call to work_in_flight are not a valid JSON object: \{"owner": "apol/);
      assert.equal(repair.messages.at(-1)!.role, 'tool');
      assert.doesNotMatch(afterTool.messages.at(-1)!.content, /^Error/, 'the corrected call ran');

      // Malformed past the cap: one message naming the model.
      posted = await exchange(
        '@apollo what is in flight now?',
        [1, 2, 3, 4].map(() => ({ toolCalls: [{ name: 'work_in_flight', rawArgs: '{"owner": ' }] })),
        (m) => m.role === 'system',
      );
      assert.equal(posted.length, 1, JSON.stringify(posted));
      assert.match(
        posted[0]!.text,
        new RegExp(`^Apollo could not produce a valid tool call: ${MODEL} got it wrong 4 times in a row \\(last: its call to work_in_flight had arguments that are not valid JSON\\)`),
      );
      await answerAgain();

      // Nothing at all, twice.
      posted = await exchange('@apollo hello?', [{ text: '' }, { text: '' }], (m) => m.role === 'system');
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['system', `Apollo could not answer: ${MODEL} answered with nothing, twice. Send your message again, or give apollo another model.`]],
      );
      await answerAgain();

      // Nothing once: retried into an answer.
      posted = await exchange('@apollo hello again?', [{ text: '' }, { text: 'Hello!' }], (m) => m.text === 'Hello!');
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['agent', 'Hello!']],
      );

      // Cut off at the output limit: continued once.
      posted = await exchange('@apollo tell me a story', [{ text: 'Once upon a time, ', cutOff: true }, { text: 'the end.' }], (m) => m.role === 'agent');
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['agent', 'Once upon a time, the end.']],
      );
      assert.match(chatRequests(llm).at(-1)!.messages.at(-1)!.content, /cut off by the output limit\. Continue exactly where it stopped/);

      // Rate limited past the retries: one message naming the model and what failed; no secrets, no body.
      posted = await exchange(
        '@apollo are you busy?',
        [1, 2, 3].map(() => ({ status: 429, error: 'Rate limit reached for gpt-4.1-mini in organization org-secret123', headers: { 'retry-after-ms': '5' } })),
        (m) => m.role === 'system',
      );
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['system', `Apollo could not answer: ${MODEL} was rate limited (429) after 3 attempts. Send your message again in a while, or configure a fallback model (models.fallback).`]],
      );
      await answerAgain();

      // The connection drops mid-answer, every time.
      posted = await exchange(
        '@apollo one more?',
        [1, 2, 3].map(() => ({ dropConnection: true })),
        (m) => m.role === 'system',
      );
      assert.deepEqual(
        posted.map((m) => m.text),
        [`Apollo could not answer: ${MODEL} dropped the connection in the middle of its answer after 3 attempts. Send your message again in a while, or configure a fallback model (models.fallback).`],
      );
      await answerAgain();

      // No answer within the timeout.
      posted = await exchange('@apollo slow?', [{ delayMs: 3000, text: 'too late' }], (m) => m.role === 'system');
      assert.deepEqual(
        posted.map((m) => m.text),
        [`Apollo could not answer: ${MODEL} did not answer in time (timeout). Send your message again in a while, or configure a fallback model (models.fallback).`],
      );
      await answerAgain();

      // Longer than the context window: the older turns are folded into the thread's summary and the model asked once more.
      const before = chatRequests(llm).length;
      posted = await exchange('@apollo summarise', [{ contextOverflow: true }, { text: 'Jeff tested misbehaviours; Apollo answered.' }, { text: 'A short summary.' }], (m) => m.role === 'agent');
      assert.deepEqual(
        posted.map((m) => [m.role, m.text]),
        [['agent', 'A short summary.']],
      );
      const [full, summarising, trimmed] = chatRequests(llm).slice(before) as [FakeLLMRequest, FakeLLMRequest, FakeLLMRequest];
      assert.match(summarising.messages[0]!.content, /running summary of a long chat thread/);
      assert.ok(trimmed.messages.length < full.messages.length, `${trimmed.messages.length} < ${full.messages.length}`);
      assert.equal(trimmed.messages[1]!.role, 'user', 'the summary is quoted as a user message, not system text');
      assert.match(trimmed.messages[1]!.content, /<thread-summary>\nJeff tested misbehaviours; Apollo answered\.\n<\/thread-summary>/);
      await answerAgain();

      const health = await fetch(`${app.url}/healthz`);
      assert.equal(health.status, 200);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      assert.doesNotMatch(metrics, /pantheon_runs_total\{persona="team",outcome="error"\}/, 'no run failed');
      assert.doesNotMatch((await getMessages(app.url, room)).map((m) => m.text).join('\n'), /org-secret123|stack|at .*\.js:\d+/);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('Ollama-, vLLM-, llama.cpp- and LM Studio-style tool calls each drive a full tool-calling turn', async () => {
    const dir = await project();
    const app = await startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    try {
      for (const quirk of ['ollama', 'vllm', 'llamacpp', 'lmstudio'] as const) {
        llm.clear();
        llm.setQuirk(quirk);
        llm.enqueue({ toolCalls: [{ name: 'work_in_flight', args: { owner: 'apollo' } }] }, { text: `Nothing in flight (${quirk}).` });
        await postMessage(app.url, `quirk-${quirk}`, { text: '@apollo what is in flight for you?', user: 'jeff' });
        const reply = await waitForMessage(app.url, `quirk-${quirk}`, (m) => m.role !== 'user', 20_000);
        assert.deepEqual([reply.role, reply.text], ['agent', `Nothing in flight (${quirk}).`]);
        const [first, second] = chatRequests(llm) as [FakeLLMRequest, FakeLLMRequest];
        assert.ok(first.tools.includes('work_in_flight'));
        const call = second.messages.find((m) => m.role === 'assistant')?.toolCalls?.[0];
        assert.equal(call?.name, 'work_in_flight', `${quirk}: the call went back to the model as a proper tool call`);
        assert.deepEqual(call?.args, { owner: 'apollo' });
        assert.ok(call?.id, `${quirk}: the call has an id`);
        const result = second.messages.find((m) => m.role === 'tool');
        assert.equal(result?.toolCallId, call?.id);
        assert.doesNotMatch(result!.content, /^Error/, `${quirk}: the tool ran: ${result!.content}`);
        assert.equal((await getMessages(app.url, `quirk-${quirk}`)).length, 2, 'one question, one answer, no notice');
      }
    } finally {
      llm.setQuirk(undefined);
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('telegram: each misbehaviour ends in the recovered answer or one clear message, and the chat answers the next message', async () => {
    const tg: FakeTelegram = await startFakeTelegram({ token: TOKEN });
    const dir = await project(['channels:', '  telegram:', '    token: "${TELEGRAM_BOT_TOKEN}"', `    apiRoot: ${tg.apiRoot}`]);
    const app: RunningPantheon = await startPantheonProcess({ env: modelEnv(llm, { TELEGRAM_BOT_TOKEN: TOKEN }), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    const toJeff = () => tg.sent.filter((m) => m.chat_id === 111);
    /** Asks apollo with the model's scripted answers; resolves to what Telegram showed Jeff in answer. */
    const ask = async (question: string, script: ScriptedResponse[], shown: RegExp): Promise<string[]> => {
      llm.clear();
      llm.enqueue(...script);
      const from = toJeff().length;
      tg.sendText({ from: jeff, text: `/ask apollo ${question}` });
      await tg.waitForSent((m) => m.chat_id === 111 && toJeff().indexOf(m) >= from && shown.test(m.visible));
      await new Promise((r) => setTimeout(r, 300)); // anything else that would be sent for this message
      assert.equal(llm.pending, 0, 'the model was asked for every scripted answer');
      return toJeff()
        .slice(from)
        .map((m) => m.visible);
    };
    const cases: { what: string; script: ScriptedResponse[]; shown: RegExp }[] = [
      {
        what: 'arguments that are not JSON, corrected',
        script: [{ toolCalls: [{ name: 'work_in_flight', rawArgs: '{"owner": ' }] }, { toolCalls: [{ name: 'work_in_flight', args: {} }] }, { text: 'All quiet.' }],
        shown: /^Apollo: All quiet\.$/,
      },
      {
        what: 'malformed past the cap',
        script: [1, 2, 3, 4].map(() => ({ toolCalls: [{ name: 'work_in_flight', rawArgs: '{"owner": ' }] })),
        shown: new RegExp(`Apollo could not produce a valid tool call: ${MODEL} got it wrong 4 times in a row`),
      },
      { what: 'nothing, twice', script: [{ text: '' }, { text: '' }], shown: new RegExp(`Apollo could not answer: ${MODEL} answered with nothing, twice\\.`) },
      { what: 'nothing once, then an answer', script: [{ text: '' }, { text: 'Hello!' }], shown: /^Apollo: Hello!$/ },
      { what: 'cut off, continued', script: [{ text: 'Once upon a time, ', cutOff: true }, { text: 'the end.' }], shown: /^Apollo: Once upon a time, the end\.$/ },
      {
        what: 'rate limited past the retries',
        script: [1, 2, 3].map(() => ({ status: 429, error: 'Rate limit reached in organization org-secret123', headers: { 'retry-after-ms': '5' } })),
        shown: new RegExp(`Apollo could not answer: ${MODEL} was rate limited \\(429\\) after 3 attempts\\.`),
      },
      {
        what: 'the connection dropped mid-answer',
        script: [1, 2, 3].map(() => ({ dropConnection: true })),
        shown: new RegExp(`Apollo could not answer: ${MODEL} dropped the connection in the middle of its answer after 3 attempts\\.`),
      },
      { what: 'no answer in time', script: [{ delayMs: 3000, text: 'too late' }], shown: new RegExp(`Apollo could not answer: ${MODEL} did not answer in time \\(timeout\\)\\.`) },
      {
        what: 'longer than the context window',
        script: [{ contextOverflow: true }, { text: 'Jeff tested misbehaviours; Apollo answered.' }, { text: 'A short summary.' }],
        shown: /^Apollo: A short summary\.$/,
      },
    ];
    try {
      for (const c of cases) {
        const shown = await ask(`(${c.what})?`, c.script, c.shown);
        assert.equal(shown.length, 1, `${c.what}: one message, got ${JSON.stringify(shown)}`);
        assert.doesNotMatch(shown[0]!, /org-secret123|stack|at .*\.js:\d+/, c.what);
        const next = await ask('still there?', [{ text: 'Still here.' }], /^Apollo: Still here\.$/);
        assert.deepEqual(next, ['Apollo: Still here.'], `${c.what}: the next message is answered`);
      }
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
    } finally {
      assert.equal(await app.stop(), 0);
      await tg.close();
      await dir.remove();
    }
  });

  it('a reasoning persona (Anthropic extended thinking) drives a tool turn; its thinking goes back to the API and is not posted', async () => {
    const dir = await project();
    await writeFile(
      join(dir.path, 'personas', 'apollo.yaml'),
      'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer.\nmodel: anthropic:claude-sonnet-4-5\nreasoning: { budgetTokens: 2048 }\ntools: [handoff]\nprompt: I write code.\n',
    );
    const env = modelEnv(llm, { ANTHROPIC_BASE_URL: llm.anthropicBaseUrl, ANTHROPIC_API_KEY: 'sk-ant-test-key-0000000000000' });
    const app = await startPantheonProcess({ env, dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    try {
      llm.clear();
      llm.enqueue({ thinking: 'I should look at the ledger first.', toolCalls: [{ name: 'work_in_flight', args: {} }] }, { thinking: 'Nothing there.', text: 'Nothing is in flight.' });
      await postMessage(app.url, 'thinking', { text: '@apollo what is in flight?', user: 'jeff' });
      const reply = await waitForMessage(app.url, 'thinking', (m) => m.role !== 'user', 20_000);
      assert.deepEqual([reply.role, reply.text], ['agent', 'Nothing is in flight.']);
      const [first, second] = llm.requests.filter((r) => r.wire === 'anthropic') as [FakeLLMRequest, FakeLLMRequest];
      assert.deepEqual((first.body as { thinking?: unknown }).thinking, { type: 'enabled', budget_tokens: 2048 });
      assert.equal(second.messages.find((m) => m.role === 'assistant')?.thinking, 'I should look at the ledger first.');
      assert.equal((await getMessages(app.url, 'thinking')).length, 2);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('a reasoning persona (OpenAI o-series, reasoning effort low) drives a tool turn over the Responses API; its reasoning item goes back with the tool result and is not posted', async () => {
    const dir = await project();
    await writeFile(
      join(dir.path, 'personas', 'apollo.yaml'),
      'id: apollo\nname: Apollo\nrole: developer\ndescription: Developer.\nmodel: openai:o4-mini\nreasoning: { effort: low }\ntools: [handoff]\nprompt: I write code.\n',
    );
    const app = await startPantheonProcess({ env: modelEnv(llm), dataDir: join(dir.path, 'data'), cwd: dir.path, timeoutMs: 90_000 });
    try {
      llm.clear();
      llm.enqueue({ thinking: 'I should look at the ledger first.', toolCalls: [{ name: 'work_in_flight', args: {} }] }, { thinking: 'Nothing there.', text: 'Nothing is in flight.' });
      await postMessage(app.url, 'reasoning-items', { text: '@apollo what is in flight?', user: 'jeff' });
      const reply = await waitForMessage(app.url, 'reasoning-items', (m) => m.role !== 'user', 20_000);
      assert.deepEqual([reply.role, reply.text], ['agent', 'Nothing is in flight.']);
      // Two model calls, both over the Responses API, neither refused (a refusal would be retried or posted).
      const calls = llm.requests.filter((r) => r.wire !== 'embeddings');
      assert.deepEqual(
        calls.map((r) => r.wire),
        ['responses', 'responses'],
        app.stderr().slice(-3000),
      );
      const [first, second] = calls as [FakeLLMRequest, FakeLLMRequest];
      const body = first.body as { reasoning?: unknown; store?: boolean; include?: string[] };
      assert.deepEqual([body.reasoning, body.store, body.include], [{ effort: 'low' }, false, ['reasoning.encrypted_content']]);
      const loop = second.messages.find((m) => m.role === 'assistant');
      assert.equal(loop?.reasoningItems?.length, 1, 'the reasoning item went back before its function call');
      assert.equal(loop?.toolCalls?.[0]?.name, 'work_in_flight');
      assert.ok(second.messages.some((m) => m.role === 'tool'));
      assert.equal((await getMessages(app.url, 'reasoning-items')).length, 2);
    } finally {
      assert.equal(await app.stop(), 0);
      await dir.remove();
    }
  });

  it('pantheon doctor tells a model that cannot call tools from one that can', async () => {
    const dir = await project();
    try {
      llm.clear();
      // A model that only ever talks: never calls the tool it is asked to call.
      llm.setResponder(() => ({ text: 'I would check the weather, but I cannot use tools. pong' }));
      const cannot = await runCli(['doctor', '--data-dir', join(dir.path, 'data')], { env: modelEnv(llm), cwd: dir.path, timeoutMs: 90_000 });
      assert.equal(cannot.code, 1, cannot.stdout + cannot.stderr);
      assert.match(cannot.stdout, /^Models$/m);
      assert.match(cannot.stdout, new RegExp(`^ {2}✖ model ${MODEL} \\(apollo, athena, pantheon\\): cannot drive Pantheon's tools — one tool call: get_weather did not run for paris`, 'm'));

      // One that can: calls get_weather when asked, answers with the result.
      llm.setResponder((req) => {
        const last = req.messages.at(-1)!;
        if (last.role === 'tool') return { text: `It is ${/(\d+°C)/.exec(last.content)?.[1] ?? '?'} in Paris.` };
        if (/get_weather/.test(last.content)) return { toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] };
        return { text: 'pong' };
      });
      const can = await runCli(['doctor', '--data-dir', join(dir.path, 'data')], { env: modelEnv(llm), cwd: dir.path, timeoutMs: 90_000 });
      assert.match(can.stdout, new RegExp(`^ {2}✔ model ${MODEL} \\(apollo, athena, pantheon\\): can drive Pantheon's tools \\(plain answer, one tool call\\)$`, 'm'), can.stdout + can.stderr);
    } finally {
      llm.setResponder(undefined);
      await dir.remove();
    }
  });
});
