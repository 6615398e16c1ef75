/** The JSON the console reads, as docs/api.md describes it (times are ISO strings). */

export interface WorkItem {
  id: string;
  kind: string;
  title: string;
  originThread: string | null;
  originPlatform: string | null;
  requestedBy: string | null;
  owner: string | null;
  reviewers: string[];
  state: string;
  externalRef: string | null;
  createdAt: string;
  updatedAt: string;
  /** Where the item lives: its issue or PR (with the GitHub the server is configured for), its conversation. */
  links?: { kind: string; label: string; url?: string; conversation?: string }[];
}

export interface WorkItemEvent {
  id: number;
  at: string;
  actor: string;
  kind: string;
  detail: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  at: string;
  kind: string;
  persona: string | null;
  thread: string | null;
  tool: string | null;
  args: unknown;
  outcome: string;
  approvalId: string | null;
  durationMs: number | null;
  actor: string | null;
  detail: string | null;
}

export interface Memory {
  id: string;
  scope: string;
  kind: string;
  content: string;
  source: string | null;
  metadata?: Record<string, unknown>;
  author?: string | null;
  createdAt: string;
  accessCount?: number;
  accessedAt?: string;
  archivedAt?: string | null;
  expiresAt?: string | null;
}

export interface Job {
  id: string;
  status: string;
  host: string;
  command: string;
  kind: string;
  runbook: string | null;
  persona: string | null;
  thread: string | null;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  cancelledBy: string | null;
  workItem: string | null;
  logLines: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobLogLine {
  seq: number;
  stream: string;
  text: string;
  at: string;
}

export interface Usage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface Budget {
  dailyTokens: number | null;
  dailyUsd: number | null;
}

export interface Persona {
  id: string;
  name: string;
  role: string;
  description?: string;
  model: string;
  fallbackModels: string[];
  tools: string[];
  handles: { platform: string; handle?: string; name?: string; id?: string }[];
  github: { login: string } | null;
  status: 'idle' | 'running' | 'waiting_for_approval' | string;
  activeThreads: string[];
  pendingApprovals: number;
  today: Usage;
  budget: Budget;
}

export interface TeamAnswer {
  personas: Persona[];
  team: { today: Usage; budget: Budget };
  since: string;
}

export interface Conversation {
  id: string;
  platform: string;
  title: string;
  lastActivityAt: string;
  lastMessage: { author: string; role: string; text: string } | null;
  messages: number;
  pendingApprovals: number;
  personas: string[];
  canPost: boolean;
}

export interface Approval {
  id: string;
  persona: string;
  tool: string;
  risk: string;
  args: unknown;
  reason: string | null;
  thread: string;
  platform: string;
  /** Who wrote the message whose run asked; absent in a conversation's timeline (it is that conversation). */
  askedBy?: string | null;
  status: 'pending' | 'approved' | 'denied' | 'expired' | string;
  requestedAt: string;
  expiresAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
}

export type TimelineEntry =
  | { kind: 'message'; id: string; at: string; role: 'user' | 'agent' | 'system'; author: string | null; persona: string | null; text: string }
  | { kind: 'handoff'; id: string; at: string; from: string; to: string; message: string; workItem: string | null }
  | {
      kind: 'tool_call';
      id: string;
      at: string;
      persona: string | null;
      tool: string | null;
      args: unknown;
      outcome: string;
      durationMs: number | null;
      approvalId: string | null;
      detail: string | null;
      result: string | null;
    }
  | { kind: 'approval'; id: string; at: string; approval: Approval };

export interface Stats {
  since: string;
  usagePerDay: ({ day: string; persona: string } & Usage)[];
  runsPerHour: { hour: string; runs: number; failed: number }[];
  queue: { now: Record<string, { waiting: number; active: number; delayed: number }>; samples: ({ at: string } & Record<string, number | string>)[] };
}
