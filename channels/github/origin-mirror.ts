import type { Logger } from '../../core/log.js';
import type { WorkLedger } from '../../ledger/index.js';
import type { OutboxPort } from '../../core/chat/outbox.js';
import type { OutboundMessage } from '../../core/chat/types.js';
import type { GitHubClient } from '../../github/client.js';
import { LedgerSync } from './ledger-sync.js';
import { decodeGitHubThreadId } from './thread-id.js';

/** Most characters of a GitHub comment repeated in the origin chat thread. */
const MIRROR_CHARS = 1500;

/**
 * When a persona speaks on a GitHub issue or PR that belongs to a work item asked for in a chat
 * thread, the chat thread hears it too ("[W-3] apollo on acme/api#12: on it, PR soon"), like the
 * ledger tools' progress reports. The link is the ledger's `externalRef` (the GitHub thread id),
 * or, for a PR without an item, the issues its body closes. Idempotent by the comment's key.
 */
export class OriginMirror {
  private readonly sync: LedgerSync;

  constructor(private readonly deps: { ledger: WorkLedger; outbox: OutboxPort; logger: Logger }) {
    this.sync = new LedgerSync({ ledger: deps.ledger, outbox: deps.outbox });
  }

  async mirror(message: OutboundMessage, commentUrl: string | undefined, client: GitHubClient): Promise<void> {
    if (message.role !== 'agent' || !message.persona || message.idempotencyKey.startsWith('github:refusal:')) return;
    const thread = decodeGitHubThreadId(message.threadId);
    const ref = { repo: { owner: thread.owner, name: thread.repo }, number: thread.number };
    let items = await this.sync.itemsFor(ref);
    if (!items.length) items = await this.sync.itemsFor(ref, await this.pullBody(client, thread).catch(() => null));
    for (const item of items) {
      if (!item.originThread || !item.originChannel || item.originChannel === 'github') continue;
      const text = message.text.length > MIRROR_CHARS ? `${message.text.slice(0, MIRROR_CHARS)}…` : message.text;
      await this.deps.ledger.recordProgress(item.id, { actor: message.persona, text: `on ${thread.owner}/${thread.repo}#${thread.number}: ${text}` });
      await this.deps.outbox.send({
        idempotencyKey: `${message.idempotencyKey}:origin:${item.id}`,
        channel: item.originChannel,
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
