import type pg from 'pg';
import type { Logger } from '../../core/log.js';
import { splitMessage } from '../format/split.js';
import type { PlatformAdapter, OutboundMessage, PostResult } from '../../core/chat/types.js';
import type { GitHubClient } from '../../github/client.js';
import type { GitHubIdentities } from '../../github/identities.js';
import { decodeGitHubThreadId, encodeGitHubThreadId, type GitHubThread } from '../../github/thread-id.js';

/** GitHub allows 65,536 characters per comment; leave room for the marker. */
const COMMENT_LIMIT = 65_000;

/**
 * The hidden marker that makes a comment findable by its idempotency key. `--` and `>` are
 * spelled out so no key can end the HTML comment early.
 */
export function commentMarker(key: string): string {
  return `<!-- pantheon:${key.replace(/-(?=-)/g, '-\u200b').replace(/>/g, '&gt;')} -->`;
}

/**
 * The GitHub adapter: a persona's message becomes an issue or PR comment posted with THAT
 * persona's own token (never another's). System messages (loop guards, approvals, errors) are
 * posted by `systemPersona` (the orchestrator's default persona) with a "Pantheon:" prefix, or
 * skipped with a warning when it has no token.
 *
 * Idempotent by key: each comment carries a hidden `<!-- pantheon:<key> -->` marker, and the
 * key is recorded (`github_comments`) before posting and with the comment id after. A retry
 * after a crash between the two looks for the marker on GitHub instead of posting again.
 */
export class GitHubAdapter implements PlatformAdapter {
  readonly name = 'github';

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      identities: GitHubIdentities;
      logger: Logger;
      systemPersona?: string;
    },
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  encodeThreadId(parts: Record<string, string>): string {
    return encodeGitHubThreadId({ owner: parts.owner ?? '', repo: parts.repo ?? '', number: parts.number ?? '' });
  }

  decodeThreadId(threadId: string): Record<string, string> {
    const t = decodeGitHubThreadId(threadId);
    return { owner: t.owner, repo: t.repo, number: String(t.number) };
  }

  async post(message: OutboundMessage): Promise<PostResult> {
    const thread = decodeGitHubThreadId(message.threadId);
    const speaker = this.speaker(message);
    if (!speaker) return { id: 'skipped' };
    const parts = splitMessage(this.textOf(message), COMMENT_LIMIT);
    let first: PostResult | undefined;
    for (const [i, part] of parts.entries()) {
      const key = i === 0 ? message.idempotencyKey : `${message.idempotencyKey}#${i + 1}`;
      const posted = await this.postOnce(speaker.client, thread, key, speaker.persona, `${part}\n\n${commentMarker(key)}`);
      first ??= { id: String(posted.id), ...(posted.duplicate ? { duplicate: true } : {}) };
      if (!first.url && posted.url) first.url = posted.url;
    }
    return first!;
  }

  async edit(threadId: string, messageId: string, message: OutboundMessage): Promise<void> {
    const thread = decodeGitHubThreadId(threadId);
    const speaker = this.speaker(message);
    if (!speaker || !/^\d+$/.test(messageId)) return;
    const body = `${splitMessage(this.textOf(message), COMMENT_LIMIT)[0]}\n\n${commentMarker(message.replaces ?? message.idempotencyKey)}`;
    await speaker.client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner: thread.owner, repo: thread.repo, comment_id: Number(messageId), body });
  }

  /** Who posts: the message's persona with its own client; system messages the system persona. */
  private speaker(message: OutboundMessage): { persona: string; client: GitHubClient } | undefined {
    const persona = message.persona ?? this.deps.systemPersona;
    const client = this.deps.identities.clientFor(persona);
    if (!persona || !client) {
      this.deps.logger.warn(
        { thread: message.threadId, persona: persona ?? null, key: message.idempotencyKey },
        message.persona
          ? `persona ${message.persona} has no GitHub token (github.token in its persona file); its message is not posted on GitHub`
          : 'no persona with a GitHub token to post a system message as (orchestrator.defaultPersona); not posted on GitHub',
      );
      return undefined;
    }
    return { persona, client };
  }

  private textOf(message: OutboundMessage): string {
    return message.persona ? message.text : `**Pantheon:** ${message.text}`;
  }

  private async postOnce(client: GitHubClient, t: GitHubThread, key: string, persona: string, body: string): Promise<{ id: number; url?: string; duplicate?: boolean }> {
    const { pool } = this.deps;
    const { rows } = await pool.query<{ comment_id: string | null; started_at: Date }>('SELECT comment_id, started_at FROM github_comments WHERE idempotency_key = $1', [key]);
    const known = rows[0];
    if (known?.comment_id) return { id: Number(known.comment_id), duplicate: true };
    if (known) {
      // A post was started before (a crash, a timeout): it may have reached GitHub.
      const found = await this.findMarked(client, t, key, known.started_at);
      if (found) {
        await this.record(key, found.id);
        return { ...found, duplicate: true };
      }
    } else {
      await pool.query(`INSERT INTO github_comments (idempotency_key, thread, persona) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        key,
        encodeGitHubThreadId({ owner: t.owner, repo: t.repo, number: t.number }),
        persona,
      ]);
    }
    const { data } = await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: t.owner, repo: t.repo, issue_number: t.number, body });
    await this.record(key, Number(data.id));
    return { id: Number(data.id), url: data.html_url };
  }

  private async record(key: string, commentId: number): Promise<void> {
    await this.deps.pool.query(`UPDATE github_comments SET comment_id = $2, posted_at = now() WHERE idempotency_key = $1`, [key, commentId]);
  }

  /** A comment carrying the key's marker, created since shortly before the first attempt. */
  private async findMarked(client: GitHubClient, t: GitHubThread, key: string, since: Date): Promise<{ id: number; url?: string } | undefined> {
    const marker = commentMarker(key);
    const comments = await client.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: t.owner,
      repo: t.repo,
      issue_number: t.number,
      per_page: 100,
      since: new Date(since.getTime() - 5 * 60_000).toISOString(),
    });
    const hit = comments.find((c) => c.body?.includes(marker));
    return hit ? { id: hit.id, url: hit.html_url } : undefined;
  }
}
