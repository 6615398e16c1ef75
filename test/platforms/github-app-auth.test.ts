/**
 * `github.app`: personas without a token of their own act through the GitHub App installation,
 * in the tools and in the channel; personas with a token keep using it. Against the fake GitHub,
 * which verifies the App's RS256 JWT with the public key only and hands out installation tokens
 * that act as `pantheon-app[bot]`.
 */
import { sandboxingFor, testSandbox } from '../support/sandbox.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Octokit } from 'octokit';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { GitHubAdapter } from '../../platforms/github/adapter.js';
import { createGitHubClient } from '../../github/client.js';
import { GitHubIdentities } from '../../github/identities.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { githubClients, githubTools, TeamDirectory } from '../../tools/github/index.js';
import { workspaceTools } from '../../tools/workspace/index.js';
import type { PantheonTool, ToolCall } from '../../tools/types.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { tempDir } from '../support/pantheon-process.js';

const logger = createLogger({ level: 'silent' });
const APP_ID = 424242;
const INSTALLATION = 7001;
const APOLLO_TOKEN = 'ghp_apollo_own_token_0123456789';
const BOT = 'pantheon-app[bot]';

/** A PEM key pair; the private key as GitHub hands it out for an App (PKCS#1, `BEGIN RSA PRIVATE KEY`). */
const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
const persona = (id: string, login: string, token?: string): Persona => ({ id, name: id, role: 'developer', description: id, prompt: id, tools: [], handles: {}, github: { login, token } });

describe('GitHub App authentication', () => {
  const key = keyPair();
  const app = { appId: APP_ID, privateKey: key.privateKey, installationId: INSTALLATION };
  let gh: FakeGitHub;
  let tokens: readonly string[];
  let db: Database;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    gh = await startFakeGitHub();
    tokens = gh.addApp({ appId: APP_ID, publicKey: key.publicKey, installationId: INSTALLATION }).tokens;
    gh.addUser('apollo-bot', { token: APOLLO_TOKEN });
    gh.addUser('jeff', { token: 'tok-jeff' });
    await gh.createRepo('acme', 'calc', { 'README.md': '# calc\n' }, { private: true });
    gh.setPermission('acme', 'calc', BOT, 'write');
    gh.setPermission('acme', 'calc', 'apollo-bot', 'write');
    gh.setPermission('acme', 'calc', 'jeff', 'write');
    const jeff = new Octokit({ auth: 'tok-jeff', baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
    await jeff.rest.issues.create({ owner: 'acme', repo: 'calc', title: 'Add a changelog' });
    dir = await tempDir('pantheon-gh-app-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
  });
  after(async () => {
    await db?.close();
    await gh?.close();
    await dir?.remove();
  });

  test('tools: a persona without a token acts as the App installation (REST and git); one with a token keeps its own', async () => {
    const team = new TeamDirectory([
      { id: 'athena', name: 'Athena', role: 'pm', github: { login: 'athena' } },
      { id: 'apollo', name: 'Apollo', role: 'developer', github: { login: 'apollo-bot' } },
    ]);
    // As tools/github/module.ts builds them: one set of clients shared by both groups.
    const deps = { apiUrl: gh.url, throttle: false, app, team, logger, dataDir: dir.path, clients: githubClients({ apiUrl: gh.url, throttle: false, app }) };
    const github = githubTools(deps);
    const { resolved } = await testSandbox(dir.path);
    const workspace = workspaceTools({ ...deps, sandboxing: sandboxingFor(resolved) });
    const toolsOf = (id: string, githubToken?: string): Map<string, PantheonTool> => {
      const ctx = { persona: { id, name: id, role: 'developer' }, credentials: { ...(githubToken ? { githubToken } : {}), chat: {} }, outbox: { send: async () => ({ queued: true }) } };
      return new Map([...github(ctx), ...workspace(ctx)].map((t) => [t.name, t]));
    };
    const use = (tools: Map<string, PantheonTool>, name: string, args: Record<string, unknown>) => {
      const persona = tools === apolloTools ? 'apollo' : 'athena';
      const call: ToolCall = { id: `call-${name}-${persona}`, threadId: 'local:general', platform: 'local', persona, runId: 'run' };
      const tool = tools.get(name);
      assert.ok(tool, `${persona} has ${name}`);
      return tool.run(tool.schema.parse(args), call);
    };

    const from = gh.requests.length;
    const athena = toolsOf('athena');
    const apolloTools = toolsOf('apollo', APOLLO_TOKEN);
    const answer = await use(athena, 'create_issue', { repo: 'acme/calc', title: 'Document the App setup', body: 'Explain github.app.', acceptance_criteria: ['docs name github.app'] });
    assert.match(answer, /Opened issue acme\/calc#2/);
    assert.equal(gh.issues('acme', 'calc').find((i) => i.number === 2)?.author, BOT, "the issue is the App bot's");
    // The checkout and the git traffic use the installation token too, through the credential helper.
    assert.match(await use(athena, 'clone', { repo: 'acme/calc', issue: 2 }), /Cloned acme\/calc into workspace acme-calc-2/);
    const athenaMade = gh.requests.slice(from).filter((r) => r.token);
    assert.ok(
      athenaMade.some((r) => r.path.endsWith('git-upload-pack')),
      'git fetched with a token',
    );
    assert.equal(tokens.length, 1, 'one installation token, reused');
    for (const r of athenaMade.filter((r) => !r.path.startsWith('/app/'))) {
      assert.equal(r.login, BOT, `${r.method} ${r.path}`);
      assert.equal(r.token, tokens[0]);
    }
    const exchange = gh.requests.slice(from).filter((r) => r.path === `/app/installations/${INSTALLATION}/access_tokens`);
    assert.deepEqual(
      exchange.map((r) => `${r.method} ${r.status}`),
      ['POST 201'],
    );

    const before = gh.requests.length;
    assert.match(await use(apolloTools, 'get_issue', { repo: 'acme/calc', number: 1 }), /Add a changelog/);
    const apolloMade = gh.requests.slice(before);
    assert.ok(apolloMade.length > 0);
    for (const r of apolloMade) assert.deepEqual([r.login, r.token], ['apollo-bot', APOLLO_TOKEN], 'apollo never uses the App');
  });

  test('channel: a persona without a token comments as the App; one with a token as itself', async () => {
    const identities = new GitHubIdentities([persona('athena', 'athena'), persona('apollo', 'apollo-bot', APOLLO_TOKEN)], { config: { apiUrl: gh.url, throttle: false, app } });
    const adapter = new GitHubAdapter({ pool: db.pool, identities, logger, systemPersona: 'athena' });
    await adapter.post({ idempotencyKey: 'app-1', platform: 'github', threadId: 'github:acme/calc#1', role: 'agent', persona: 'athena', text: 'Noted.' });
    await adapter.post({ idempotencyKey: 'app-2', platform: 'github', threadId: 'github:acme/calc#1', role: 'agent', persona: 'apollo', text: 'On it.' });
    await adapter.post({ idempotencyKey: 'app-3', platform: 'github', threadId: 'github:acme/calc#1', role: 'system', text: 'Loop guard.' });
    const comments = gh.comments('acme', 'calc', 1).map((c) => `${c.author}: ${c.body.split('\n')[0]}`);
    assert.deepEqual(comments, [`${BOT}: Noted.`, 'apollo-bot: On it.', `${BOT}: **Pantheon:** Loop guard.`]);
    const posts = gh.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/calc/issues/1/comments');
    assert.deepEqual(
      posts.map((r) => r.login),
      [BOT, 'apollo-bot', BOT],
    );
    assert.ok(
      posts.filter((r) => r.login === BOT).every((r) => tokens.includes(r.token!)),
      'the App posts with an installation token',
    );
    // A persona unknown to the team gets no client at all, App or not.
    assert.equal(identities.clientFor('nobody'), undefined);
  });

  test('the fake refuses a JWT signed with another key, and one for another App', async () => {
    const issued = tokens.length;
    const wrongKey = createGitHubClient({ auth: { app: { ...app, privateKey: keyPair().privateKey } }, apiUrl: gh.url, throttle: false });
    await assert.rejects(wrongKey.rest.repos.get({ owner: 'acme', repo: 'calc' }), (err: { status?: number; message?: string }) => {
      assert.equal(err.status, 401);
      assert.match(String(err.message), /JSON web token could not be decoded/);
      return true;
    });
    const wrongApp = createGitHubClient({ auth: { app: { ...app, appId: 999 } }, apiUrl: gh.url, throttle: false });
    await assert.rejects(wrongApp.rest.repos.get({ owner: 'acme', repo: 'calc' }), { status: 401 });
    assert.equal(tokens.length, issued, 'no installation token was handed out');
    const refused = gh.requests.filter((r) => r.path.startsWith('/app/') && r.status === 401);
    assert.equal(refused.length, 2);
    assert.ok(!gh.requests.some((r) => r.path === '/repos/acme/calc' && r.login === null && r.status === 200), 'nothing was read anonymously instead');
  });
});
