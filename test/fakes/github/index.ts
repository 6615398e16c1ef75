/**
 * A fake GitHub over real HTTP, backed by real bare git repositories, so the real octokit,
 * the real `git` and the Pantheon GitHub channel/tools can be tested without a network.
 *
 *   const gh = await startFakeGitHub({ webhookUrl, webhookSecret });
 *   gh.addUser('apollo-bot', { token: 'apollo-token', type: 'User' });
 *   const repo = await gh.createRepo('acme', 'api', { 'README.md': '# api\n' });
 *   gh.setPermission('acme', 'api', 'apollo-bot', 'write');
 *   new Octokit({ auth: 'apollo-token', baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false } });
 *   // git clone repo.cloneUrl; push with basic auth (any user name, the token as password)
 *
 * REST: GitHub's JSON shapes, `Link` pagination, rate-limit headers, 401/404/422 error bodies.
 * Webhooks: every state change is delivered (after the REST answer, in order, signed) to the
 * webhook url; `deliveries` records them. Review threads: the REST review comments carry
 * `in_reply_to_id` and a fake-only `resolved` flag; `POST /graphql` answers the
 * `reviewThreads` query and the `resolveReviewThread`/`unresolveReviewThread` mutations.
 * See README.md next to this file for the endpoint list.
 */
export { startFakeGitHub, type StartFakeGitHubOptions } from './server.js';
export { cloneAs, type GitClient } from './git-client.js';
export type {
  CheckFailure,
  CheckRun,
  Comment,
  FakeGitHub,
  InjectedFailure,
  Issue,
  NotificationThread,
  Permission,
  Pull,
  RecordedRequest,
  Repo,
  Review,
  ReviewComment,
  User,
  WebhookDelivery,
} from './types.js';
