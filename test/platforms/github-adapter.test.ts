import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Octokit } from 'octokit';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import { GitHubAdapter, commentMarker } from '../../platforms/github/adapter.js';
import { GitHubIdentities } from '../../github/identities.js';
import { OriginMirror } from '../../github/origin-mirror.js';
import { WorkLedger } from '../../ledger/index.js';
import { MemoryQueue } from '../../core/queue/index.js';
import { Outbox } from '../../orchestrator/outbox.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { tempDir } from '../support/pantheon-process.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';

const logger = createLogger({ level: 'silent' });
const persona = (id: string, login: string, token?: string): Persona => ({ id, name: id, role: 'developer', description: id, prompt: id, tools: [], handles: {}, github: { login, token } });

/** The GitHub adapter against the fake GitHub: who posts, idempotency, edits, origin mirroring. */
describe('GitHub platform adapter', () => {
  let gh: FakeGitHub;
  let db: Database;
  let dir: { path: string; remove: () => Promise<void> };
  let adapter: GitHubAdapter;
  let mirror: OriginMirror;
  let outbox: RecordingOutbox;
  let ledger: WorkLedger;
  let issue: number;
  const thread = () => `github:acme/api#${issue}`;
  const comments = () => gh.comments('acme', 'api', issue);

  before(async () => {
    gh = await startFakeGitHub();
    for (const login of ['apollo-bot', 'athena-bot', 'hermes-bot', 'jeff']) gh.addUser(login, { token: `tok-${login}` });
    await gh.createRepo('acme', 'api', { 'README.md': '# api\n' });
    for (const login of ['apollo-bot', 'athena-bot', 'hermes-bot']) gh.setPermission('acme', 'api', login, 'write');
    const jeff = new Octokit({ auth: 'tok-jeff', baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
    issue = (await jeff.rest.issues.create({ owner: 'acme', repo: 'api', title: 'Rate limiting' })).data.number;
    dir = await tempDir('pantheon-gh-adapter-');
    db = await createDatabase({ dataDir: dir.path, logger });
    await migrate(db.pool, { logger });
    const personas = [persona('apollo', 'apollo-bot', 'tok-apollo-bot'), persona('athena', 'athena-bot', 'tok-athena-bot'), persona('hermes', 'hermes-bot')];
    const identities = new GitHubIdentities(personas, { config: { apiUrl: gh.url, throttle: false } });
    outbox = new RecordingOutbox();
    ledger = new WorkLedger(db.pool);
    adapter = new GitHubAdapter({ pool: db.pool, identities, logger, systemPersona: 'athena' });
    mirror = new OriginMirror({ ledger, outbox, identities, logger });
  });
  after(async () => {
    await db?.close();
    await gh?.close();
    await dir?.remove();
  });

  test('a persona posts with its own token; the same key never posts twice', async () => {
    const before = gh.requests.length;
    const first = await adapter.post({ idempotencyKey: 'k-hello', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'On it.' });
    const [c] = comments();
    assert.equal(c!.author, 'apollo-bot');
    assert.equal(String(c!.id), first.id);
    assert.ok(c!.body.startsWith('On it.'));
    assert.ok(c!.body.includes(commentMarker('k-hello')));
    const posts = gh.requests.slice(before).filter((r) => r.method === 'POST');
    assert.deepEqual(
      posts.map((r) => r.login),
      ['apollo-bot'],
    );

    const again = await adapter.post({ idempotencyKey: 'k-hello', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'On it.' });
    assert.deepEqual(again, { id: first.id, duplicate: true });
    assert.equal(comments().length, 1);
  });

  test('after a crash between posting and recording, the marker is found instead of posting again', async () => {
    // The first attempt reached GitHub, then the process died before recording the comment id.
    await db.pool.query(`INSERT INTO github_comments (idempotency_key, thread, persona) VALUES ('k-crash', $1, 'apollo')`, [thread()]);
    const apollo = new Octokit({ auth: 'tok-apollo-bot', baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
    const { data } = await apollo.rest.issues.createComment({ owner: 'acme', repo: 'api', issue_number: issue, body: `Pushed.\n\n${commentMarker('k-crash')}` });
    const count = comments().length;
    const result = await adapter.post({ idempotencyKey: 'k-crash', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'Pushed.' });
    assert.deepEqual(result, { id: String(data.id), duplicate: true, url: data.html_url });
    assert.equal(comments().length, count);
  });

  test('system messages come from the default persona, marked as Pantheon; a persona without a token posts nothing', async () => {
    await adapter.post({ idempotencyKey: 'k-sys', platform: 'github', threadId: thread(), role: 'system', text: 'Approval a1b2 is waiting.' });
    const sys = comments().at(-1)!;
    assert.equal(sys.author, 'athena-bot');
    assert.match(sys.body, /^\*\*Pantheon:\*\* Approval a1b2 is waiting\./);
    const count = comments().length;
    const skipped = await adapter.post({ idempotencyKey: 'k-hermes', platform: 'github', threadId: thread(), role: 'agent', persona: 'hermes', text: 'hi' });
    assert.equal(skipped.id, 'skipped');
    assert.equal(comments().length, count, "never with another persona's token");
  });

  test('edit replaces the text in place, as the same persona', async () => {
    const posted = await adapter.post({ idempotencyKey: 'k-progress', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'Deploy: 10%' });
    await adapter.edit(thread(), posted.id, { idempotencyKey: 'k-progress-2', replaces: 'k-progress', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'Deploy: done' });
    const edited = comments().find((c) => String(c.id) === posted.id)!;
    assert.match(edited.body, /^Deploy: done/);
    assert.ok(edited.body.includes(commentMarker('k-progress')));
    const patch = gh.requests.filter((r) => r.method === 'PATCH').at(-1)!;
    assert.equal(patch.login, 'apollo-bot');
  });

  test("a persona speaking on an issue linked to a work item also tells the chat thread it came from (the outbox's after-post hook)", async () => {
    const item = await ledger.create({ kind: 'issue', title: 'Rate limiting', externalRef: thread(), originThread: 'local:plan', originPlatform: 'local', requestedBy: 'jeff', actor: 'athena' });
    await adapter.post({ idempotencyKey: 'k-quiet', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'Posting alone.' });
    assert.equal(outbox.sent.filter((m) => m.threadId === 'local:plan').length, 0, 'the adapter only posts; nothing it does feeds the outbox');

    // As the GitHub module wires it: the outbox delivers through the adapter, then tells the mirror.
    const delivering = new Outbox({ pool: db.pool, queue: new MemoryQueue({ logger }), logger });
    delivering.register(adapter);
    delivering.onPosted((message, posted) => mirror.posted(message, posted));
    await delivering.deliver({ idempotencyKey: 'k-progress-note', platform: 'github', threadId: thread(), role: 'agent', persona: 'apollo', text: 'Branch pushed, opening the PR.' });
    const mirrored = outbox.sent.find((m) => m.threadId === 'local:plan');
    assert.ok(mirrored, JSON.stringify(outbox.sent));
    assert.equal(mirrored!.persona, 'apollo');
    assert.equal(mirrored!.platform, 'local');
    assert.match(mirrored!.text, new RegExp(`^\\[${item.id}\\] on acme/api#${issue}: Branch pushed, opening the PR\\.`));
    const comment = comments().find((c) => c.body.includes(commentMarker('k-progress-note')))!;
    assert.ok(mirrored!.text.endsWith(`\n${comment.htmlUrl}`), "with a link to the comment (the post's url)");
    const events = await ledger.events(item.id);
    assert.ok(events.some((e) => e.kind === 'progress'));
  });
});
