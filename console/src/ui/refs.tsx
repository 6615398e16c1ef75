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
