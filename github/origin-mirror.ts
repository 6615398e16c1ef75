import type { Logger } from '../core/log.js';
import type { WorkLedger } from '../ledger/index.js';
import type { OutboxPort } from '../core/chat/outbox.js';
import type { OutboundMessage, PostResult } from '../core/chat/types.js';
import type { GitHubClient } from './client.js';
import type { GitHubIdentities } from './identities.js';
import { LedgerSync } from './ledger-sync.js';
import { decodeGitHubThreadId } from './thread-id.js';

/** Most characters of a GitHub comment repeated in the origin chat thread. */
const MIRROR_CHARS = 1500;

/**
 * When a persona speaks on a GitHub issue or PR that belongs to a work item asked for in a chat
 * thread, the chat thread hears it too ("[W-3] apollo on acme/api#12: on it, PR soon"), like the
 * ledger tools' progress reports. The link is the ledger's `externalRef` (the GitHub thread id),
 * or, for a PR without an item, the issues its body closes. Idempotent by the comment's key.
 *
 * Listens to the outbox's after-post hook (`posted`), so the GitHub adapter only posts: nothing
 * it does feeds back into the outbox.
 */
export class OriginMirror {
  private readonly sync: LedgerSync;

  constructor(private readonly deps: { ledger: WorkLedger; outbox: OutboxPort; identities: GitHubIdentities; logger: Logger }) {
    this.sync = new LedgerSync({ ledger: deps.ledger, outbox: deps.outbox });
  }

  /**
   * A message the outbox got posted (a `PostedListener`): a persona's comment on GitHub, posted
   * with its own client (a persona without one posted nothing). Never fails the post.
   */
  async posted(message: OutboundMessage, result: PostResult): Promise<void> {
    if (message.platform !== 'github') return;
    const client = this.deps.identities.clientFor(message.persona);
    if (!client) return;
    await this.mirror(message, result.url, client).catch((err) => {
      this.deps.logger.warn({ err: (err as Error).message, thread: message.threadId }, 'could not tell the origin thread');
    });
  }

  private async mirror(message: OutboundMessage, commentUrl: string | undefined, client: GitHubClient): Promise<void> {
    if (message.role !== 'agent' || !message.persona || message.idempotencyKey.startsWith('github:refusal:')) return;
    const thread = decodeGitHubThreadId(message.threadId);
    const ref = { repo: { owner: thread.owner, name: thread.repo }, number: thread.number };
    let items = await this.sync.itemsFor(ref);
    if (!items.length) items = await this.sync.itemsFor(ref, await this.pullBody(client, thread).catch(() => null));
    for (const item of items) {
      if (!item.originThread || !item.originPlatform || item.originPlatform === 'github') continue;
      const text = message.text.length > MIRROR_CHARS ? `${message.text.slice(0, MIRROR_CHARS)}…` : message.text;
      await this.deps.ledger.recordProgress(item.id, { actor: message.persona, text: `on ${thread.owner}/${thread.repo}#${thread.number}: ${text}` });
      await this.deps.outbox.send({
        idempotencyKey: `${message.idempotencyKey}:origin:${item.id}`,
        platform: item.originPlatform,
        threadId: item.originThread,
        role: 'agent',
        persona: message.persona,
        text: `[${item.id}] on ${thread.owner}/${thread.repo}#${thread.number}: ${text}${commentUrl ? `\n${commentUrl}` : ''}`,
      });
    }
  }

  /** A PR's body (the issues it closes); null for an issue. */
  private async pullBody(client: GitHubClient, t: { owner: string; repo: string; number: number }): Promise<string | null> {
    const { data } = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner: t.owner, repo: t.repo, issue_number: t.number });
    return data.pull_request ? (data.body ?? null) : null;
  }
}
