import type { CheckRun, Comment, Issue, NotificationThread, Permission, Pull, Repo, Review, ReviewComment, User } from './types.js';

/** A label as GitHub stores it per repository (created on first use, as the issues API does). */
export interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

/** Everything one repository holds besides its git data. */
export interface RepoState {
  repo: Repo;
  createdAt: string;
  permissions: Map<string, Permission>;
  issues: Map<number, Issue>;
  pulls: Map<number, Pull>;
  /** Issues and pulls share one number sequence. */
  nextNumber: number;
  comments: Comment[];
  reviews: Review[];
  reviewComments: ReviewComment[];
  labels: Map<string, Label>;
  checkRuns: CheckRun[];
}

/** Distinct id ranges per kind, so an issue id is never mistaken for an issue number or a comment id. */
const ID_BASES = {
  user: 1_000,
  repo: 50_000,
  issue: 100_000,
  comment: 200_000,
  review: 300_000,
  reviewComment: 400_000,
  checkRun: 500_000,
  checkSuite: 600_000,
  workflowRun: 700_000,
  label: 800_000,
  notification: 900_000,
} as const;

export type IdKind = keyof typeof ID_BASES;

/** The fake's in-memory state. Keys are lower-case: GitHub logins and repo names are case-insensitive. */
export class GitHubStore {
  readonly users = new Map<string, User>();
  readonly byToken = new Map<string, User>();
  readonly repos = new Map<string, RepoState>();
  readonly notifications: NotificationThread[] = [];
  private readonly counters = new Map<IdKind, number>();

  constructor(
    readonly url: string,
    readonly gitUrl: string,
    readonly root: string,
  ) {}

  nextId(kind: IdKind): number {
    const next = (this.counters.get(kind) ?? ID_BASES[kind]) + 1;
    this.counters.set(kind, next);
    return next;
  }

  now(): string {
    return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  addUser(login: string, opts: { token?: string; type?: User['type'] } = {}): User {
    const existing = this.users.get(login.toLowerCase());
    if (existing) {
      if (opts.token && opts.token !== existing.token) {
        this.byToken.delete(existing.token);
        existing.token = opts.token;
        this.byToken.set(existing.token, existing);
      }
      if (opts.type) existing.type = opts.type;
      return existing;
    }
    const user: User = { id: this.nextId('user'), login, type: opts.type ?? 'User', token: opts.token ?? `ghp_fake_${login}` };
    this.users.set(login.toLowerCase(), user);
    this.byToken.set(user.token, user);
    return user;
  }

  user(login: string): User | undefined {
    return this.users.get(login.toLowerCase());
  }

  repoState(owner: string, name: string): RepoState | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** The owner is admin; others have what `setPermission` gave them, else `read` on public repos. */
  permission(state: RepoState, login: string | null | undefined): Permission {
    if (!login) return state.repo.private ? 'none' : 'read';
    if (login.toLowerCase() === state.repo.owner.toLowerCase()) return 'admin';
    const explicit = state.permissions.get(login.toLowerCase());
    if (explicit) return explicit;
    return state.repo.private ? 'none' : 'read';
  }

  /** Collaborators are users with an explicit grant (or the owner). */
  isCollaborator(state: RepoState, login: string): boolean {
    if (login.toLowerCase() === state.repo.owner.toLowerCase()) return true;
    const p = state.permissions.get(login.toLowerCase());
    return p !== undefined && p !== 'none';
  }

  canWrite(state: RepoState, login: string | null | undefined): boolean {
    const p = this.permission(state, login);
    return p === 'write' || p === 'admin';
  }

  /** Finds (or creates, on first use) a label, like the issues API does. */
  label(state: RepoState, name: string): Label {
    const key = name.toLowerCase();
    let label = state.labels.get(key);
    if (!label) {
      label = { id: this.nextId('label'), name, color: 'ededed', description: null };
      state.labels.set(key, label);
    }
    return label;
  }

  /** The issue or pull with this number. */
  thread(state: RepoState, number: number): { kind: 'issue'; item: Issue } | { kind: 'pull'; item: Pull } | undefined {
    const issue = state.issues.get(number);
    if (issue) return { kind: 'issue', item: issue };
    const pull = state.pulls.get(number);
    if (pull) return { kind: 'pull', item: pull };
    return undefined;
  }
}
