import type { WorkItem } from '../types.js';
import { href } from '../router.js';

/**
 * A link for a reference the team uses: `gh:owner/repo#12` goes to GitHub (issue or PR: GitHub
 * redirects between them), a work item id to its history, a thread to its conversation.
 */
export function Ref({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  const gh = /^gh:([\w.-]+\/[\w.-]+)#(\d+)$/.exec(value);
  if (gh)
    return (
      <a href={`https://github.com/${gh[1]}/issues/${gh[2]}`} rel="noreferrer" target="_blank">
        {gh[1]}#{gh[2]}
      </a>
    );
  if (/^W-\d+$/.test(value)) return <a href={href('work', value)}>{value}</a>;
  return <ThreadLink thread={value} />;
}

export function ThreadLink({ thread }: { thread: string | null | undefined }) {
  if (!thread) return <span class="muted">—</span>;
  return (
    <a class="mono" href={href('conversations', thread)}>
      {thread}
    </a>
  );
}

/** A work item's links as the server gives them (GitHub's own URL, the conversation); its refs otherwise. */
export function WorkLinks({ item }: { item: WorkItem }) {
  if (!item.links) return <Ref value={item.externalRef ?? item.originThread} />;
  if (item.links.length === 0) return <span class="muted">—</span>;
  return (
    <>
      {item.links.map((l) => (
        <div key={`${l.kind}:${l.label}`}>
          {l.url ? (
            <a href={l.url} rel="noreferrer" target="_blank">
              {l.label}
            </a>
          ) : l.conversation ? (
            <ThreadLink thread={l.conversation} />
          ) : (
            l.label
          )}
        </div>
      ))}
    </>
  );
}
