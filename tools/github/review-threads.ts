/** An inline review comment, in the REST shape (`GET /repos/{o}/{r}/pulls/{n}/comments`). */
export interface ReviewCommentLike {
  id: number;
  in_reply_to_id?: number;
  user: { login: string } | null;
  path: string;
  line?: number | null;
  original_line?: number | null;
  body: string;
  created_at: string;
  html_url: string;
}

/** A review thread: its first comment and the replies to it, oldest first. */
export interface ReviewThread<C extends ReviewCommentLike = ReviewCommentLike> {
  root: C;
  replies: C[];
  /** Resolved on GitHub (from GraphQL `isResolved`; false when unknown). */
  resolved: boolean;
  /** The lines it was written on have changed since (`line` is null). */
  outdated: boolean;
}

/**
 * Groups review comments into threads. On GitHub every reply points at the thread's first
 * comment (`in_reply_to_id`), so one level of grouping is enough; a reply whose root is
 * missing (deleted) starts its own thread.
 */
export function groupThreads<C extends ReviewCommentLike>(comments: readonly C[], resolvedRoots: ReadonlySet<number> = new Set()): ReviewThread<C>[] {
  const byId = new Map(comments.map((c) => [c.id, c]));
  const threads = new Map<number, ReviewThread<C>>();
  const sorted = [...comments].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  for (const c of sorted) {
    const rootId = c.in_reply_to_id && byId.has(c.in_reply_to_id) ? c.in_reply_to_id : c.id;
    const thread = threads.get(rootId);
    if (thread) thread.replies.push(c);
    else {
      const root = byId.get(rootId)!;
      threads.set(rootId, { root, replies: rootId === c.id ? [] : [c], resolved: resolvedRoots.has(rootId), outdated: root.line == null });
    }
  }
  return [...threads.values()];
}

/**
 * Threads still waiting on the pull request's author: not resolved, and the last word is not
 * the author's (once the author has replied, the thread waits on the reviewer).
 */
export function awaitingAuthor<C extends ReviewCommentLike>(threads: readonly ReviewThread<C>[], author: string): ReviewThread<C>[] {
  const a = author.toLowerCase();
  return threads.filter((t) => {
    if (t.resolved) return false;
    const last = t.replies.at(-1) ?? t.root;
    return last.user?.login.toLowerCase() !== a;
  });
}
