/**
 * Review requests are claimed for a day, so a repeated request does not wake the reviewer twice;
 * but a submitted review ends the request on GitHub, so being asked again afterwards (the author
 * pushed a fix) must wake the reviewer at once. Real octokit, fake GitHub, real webhook payloads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import { createLogger } from '../../core/log.js';
import { createDatabase, migrate, type Database } from '../../core/db/index.js';
import type { Envelope } from '../../core/chat/types.js';
import { GitHubAuthoriser } from '../../platforms/github/authorise.js';
import { GitHubIdentities } from '../../github/identities.js';
import { GitHubInbound } from '../../platforms/github/inbound.js';
import { LedgerSync } from '../../github/ledger-sync.js';
import { mapWebhook, type WebhookPayload } from '../../platforms/github/map-webhook.js';
import { SeenActivities } from '../../platforms/github/seen.js';
import { WorkLedger } from '../../ledger/index.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github/index.js';
import { tempDir } from '../support/pantheon-process.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';

const logger = createLogger({ level: 'silent' });
const exec = promisify(execFile);
const persona = (id: string): Persona => ({ id, name: id, role: 'developer', description: id, prompt: id, tools: [], handles: {}, github: { login: `${id}-bot`, token: `tok-${id}` } });

describe('GitHub re-review: a submitted review releases the review-request claim', () => {
  let gh: FakeGitHub;
  let db: Database;
  let dir: { path: string; remove: () => Promise<void> };
  let inbound: GitHubInbound;
  let identities: GitHubIdentities;
  const woken: Envelope[] = [];
  const as = (who: string) => new Octokit({ auth: `tok-${who}`, baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
  /** Runs `act`, then every webhook it caused through the pipeline, as the webhook job does. */
  const deliver = async (act: () => Promise<unknown>): Promise<string[]> => {
    await gh.settled();
    const from = gh.deliveries.length;
    await act();
    await gh.settled();
    const results: string[] = [];
    for (const d of gh.deliveries.slice(from)) {
      for (const a of mapWebhook(d.event, d.payload as WebhookPayload, identities)) results.push(`${d.event}.${d.action}:${await inbound.handle(a, `delivery:${d.id}`)}`);
    }
    return results;
  };

  before(async () => {
    gh = await startFakeGitHub();
    for (const id of ['apollo', 'artemis']) gh.addUser(`${id}-bot`, { token: `tok-${id}` });
    await gh.createRepo('acme', 'api', { 'README.md': '# api\n' });
    for (const id of ['apollo', 'artemis']) gh.setPermission('acme', 'api', `${id}-bot`, 'write');
    dir = await tempDir('pantheon-gh-rereview-');
    db = await createDatabase({ dataDir: join(dir.path, 'db'), logger });
    await migrate(db.pool, { logger });
    identities = new GitHubIdentities([persona('apollo'), persona('artemis')], { config: { apiUrl: gh.url, throttle: false } });
    const ledger = new WorkLedger(db.pool);
    const outbox = new RecordingOutbox();
    const sync = new LedgerSync({ ledger, outbox });
    inbound = new GitHubInbound({
      logger,
      ingress: async (e) => {
        woken.push(e);
        return { id: e.id, accepted: true };
      },
      outbox,
      identities,
      authoriser: new GitHubAuthoriser({ pool: db.pool, logger, humanLogins: [], isPersonaLogin: (l) => !!identities.personaByLogin(l), cacheSeconds: 300 }),
      seen: new SeenActivities(db.pool),
      work: (event) => sync.handle(event),
    });
    // apollo's branch, one commit ahead of main, pushed over git HTTP with his token.
    const clone = join(dir.path, 'clone');
    const git = (...args: string[]) => exec('git', args, { cwd: clone, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    await exec('git', ['clone', '-q', `${gh.gitUrl.replace('http://', 'http://x:tok-apollo@')}/acme/api.git`, clone]);
    await git('checkout', '-q', '-b', 'feat/limit');
    await writeFile(join(clone, 'README.md'), '# api\nRate limited.\n');
    await git('-c', 'user.name=Apollo', '-c', 'user.email=apollo@example.test', 'commit', '-qam', 'Rate limit');
    await git('push', '-q', 'origin', 'feat/limit');
  });
  after(async () => {
    await db?.close();
    await gh?.close();
    await dir?.remove();
  });

  test('asked, asked again (no wake), reviews, asked again after the fix (wakes)', async () => {
    const repo = { owner: 'acme', repo: 'api' };
    const { data: pr } = await as('apollo').rest.pulls.create({ ...repo, title: 'Rate limiting', head: 'feat/limit', base: 'main', body: 'Adds a limit.' });
    const request = () => as('apollo').rest.pulls.requestReviewers({ ...repo, pull_number: pr.number, reviewers: ['artemis-bot'] });
    const wakesOfArtemis = () => woken.filter((e) => e.targets?.includes('artemis')).length;

    assert.deepEqual(await deliver(request), ['pull_request.review_requested:ingress']);
    assert.equal(wakesOfArtemis(), 1);
    assert.match(woken.at(-1)!.text, /review/i);

    // The same request seen again (polling, or a re-request) while artemis has not reviewed: claimed, no second wake.
    const first = gh.deliveries.findLast((d) => d.event === 'pull_request' && d.action === 'review_requested')!;
    const again = mapWebhook('pull_request', first.payload as WebhookPayload, identities)[0]!;
    assert.equal(await inbound.handle(again, 'notification:artemis:1:x'), 'duplicate');
    assert.equal(wakesOfArtemis(), 1);

    // artemis reviews: that wakes apollo (changes requested) and ends artemis's request.
    const reviewed = await deliver(() => as('artemis').rest.pulls.createReview({ ...repo, pull_number: pr.number, event: 'REQUEST_CHANGES', body: 'Add a test for the limit.' }));
    assert.ok(reviewed.includes('pull_request_review.submitted:ingress'), JSON.stringify(reviewed));
    assert.deepEqual(woken.at(-1)!.targets, ['apollo']);
    assert.deepEqual((await as('apollo').rest.pulls.get({ ...repo, pull_number: pr.number })).data.requested_reviewers, [], 'GitHub no longer lists artemis as requested');

    // apollo fixes it and asks again: artemis wakes again at once, not a day later.
    assert.deepEqual(await deliver(request), ['pull_request.review_requested:ingress']);
    assert.equal(wakesOfArtemis(), 2);
    assert.equal(woken.at(-1)!.author.id, 'apollo-bot');
  });
});
