/**
 * Edits shared by issues and pull requests (title, body, state, labels, assignees), with the
 * webhooks and notifications GitHub sends for each change: `issues` events for issues,
 * `pull_request` events for pulls.
 */
import { issuesEvent, notify, pullRequestEvent } from '../events.js';
import type { PendingEvent } from '../http.js';
import { validationFailed } from '../http.js';
import { labelJson, userJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { Issue, Pull } from '../types.js';

export interface ItemEdit {
  title?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  stateReason?: Issue['stateReason'];
  labels?: string[];
  assignees?: string[];
}

type Json = Record<string, any>;

/** Assignees must have write access, or be the author or a commenter of the thread. */
export function assignable(store: GitHubStore, state: RepoState, item: Issue | Pull | null, login: string): boolean {
  const user = store.user(login);
  if (!user) return false;
  if (store.canWrite(state, user.login)) return true;
  if (!item) return false;
  const same = (a: string): boolean => a.toLowerCase() === user.login.toLowerCase();
  return same(item.author) || state.comments.some((c) => c.number === item.number && same(c.author));
}

/** Canonical logins for `logins`, or 422 naming the first one that cannot be assigned. */
export function checkAssignees(store: GitHubStore, state: RepoState, item: Issue | Pull | null, logins: string[], resource: string): string[] {
  for (const login of logins) {
    if (!assignable(store, state, item, login)) throw validationFailed([{ resource, field: 'assignees', code: 'invalid', value: login }]);
  }
  return [...new Set(logins.map((l) => store.user(l)!.login))];
}

export async function emitItemEvent(store: GitHubStore, state: RepoState, item: Issue | Pull, action: string, actor: string, extra: Json = {}): Promise<PendingEvent> {
  return 'head' in item ? pullRequestEvent(store, state, action, item, actor, extra) : issuesEvent(store, state, action, item, actor, extra);
}

/** Applies `edit` to `item` and returns the webhooks to send, in GitHub's order. */
export async function applyEdit(store: GitHubStore, state: RepoState, item: Issue | Pull, actor: string, edit: ItemEdit): Promise<PendingEvent[]> {
  const events: PendingEvent[] = [];
  const steps: Array<[string, Json]> = [];
  const now = store.now();

  const changes: Json = {};
  if (edit.title !== undefined && edit.title !== item.title) {
    changes.title = { from: item.title };
    item.title = edit.title;
  }
  if (edit.body !== undefined && edit.body !== item.body) {
    changes.body = { from: item.body ?? '' };
    item.body = edit.body;
  }
  if (Object.keys(changes).length > 0) steps.push(['edited', { changes }]);

  if (edit.state && edit.state !== item.state) {
    item.state = edit.state;
    item.closedAt = edit.state === 'closed' ? now : null;
    if (!('head' in item)) item.stateReason = edit.state === 'closed' ? (edit.stateReason ?? 'completed') : 'reopened';
    steps.push([edit.state === 'closed' ? 'closed' : 'reopened', {}]);
    notify(store, state, item, actor, [[item.author, 'state_change']]);
  }

  if (edit.labels) {
    const wanted = edit.labels.map((name) => store.label(state, name).name);
    const lower = (list: string[]): string[] => list.map((l) => l.toLowerCase());
    for (const name of item.labels) {
      if (!lower(wanted).includes(name.toLowerCase())) steps.push(['unlabeled', { label: labelJson(store, state, store.label(state, name)) }]);
    }
    for (const name of wanted) {
      if (!lower(item.labels).includes(name.toLowerCase())) steps.push(['labeled', { label: labelJson(store, state, store.label(state, name)) }]);
    }
    item.labels = [...new Set(wanted)];
  }

  if (edit.assignees) {
    const wanted = checkAssignees(store, state, item, edit.assignees, 'Issue');
    const removed = item.assignees.filter((l) => !wanted.includes(l));
    const added = wanted.filter((l) => !item.assignees.includes(l));
    item.assignees = wanted;
    for (const login of removed) steps.push(['unassigned', { assignee: userJson(store, login) }]);
    for (const login of added) steps.push(['assigned', { assignee: userJson(store, login) }]);
    notify(
      store,
      state,
      item,
      actor,
      added.map((l) => [l, 'assign']),
    );
  }

  if (steps.length > 0) item.updatedAt = now;
  for (const [action, extra] of steps) {
    events.push(await emitItemEvent(store, state, item, action, actor, extra));
  }
  return events;
}
