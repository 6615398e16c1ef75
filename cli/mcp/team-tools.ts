import { z } from 'zod';

/**
 * What `pantheon mcp` offers an MCP client (Claude Desktop, Claude Code, Cursor): the team, seen
 * from outside. A client may ask a persona and read what the team does; approving stays with the
 * humans in chat or the console, so nothing here decides an approval.
 */
export interface TeamPort {
  personas(): Array<{ id: string; name: string; role: string; description: string }>;
  /** Posts `message` to `persona` in the local conversation `thread` and waits up to `waitMs` for its answer. */
  ask(opts: { persona: string; message: string; thread: string; waitMs: number }): Promise<string>;
  workInFlight(opts: { all: boolean }): Promise<string>;
  pendingApprovals(): Promise<string>;
  /** A thread's transcript: a local conversation by name, or any platform's thread id (`mattermost:...`). */
  readConversation(opts: { thread: string; limit: number }): Promise<string>;
}

export interface TeamTool {
  name: string;
  description: string;
  args: z.ZodObject;
  readOnly: boolean;
  run(port: TeamPort, args: Record<string, unknown>): Promise<string>;
}

const DEFAULT_THREAD = 'mcp';

export const TEAM_TOOLS: TeamTool[] = [
  {
    name: 'list_personas',
    description: "The team's personas: id, name, role and what each is for.",
    args: z.object({}),
    readOnly: true,
    run: async (port) =>
      port
        .personas()
        .map((p) => `- ${p.id} (${p.name}, ${p.role}): ${p.description}`)
        .join('\n'),
  },
  {
    name: 'ask_persona',
    description:
      'Ask one persona of the team something and wait for its answer. The question is posted in a local conversation of the team (the thread, "mcp" unless named), where people see it and the answer; ask again in the same thread to continue the conversation.',
    args: z.object({
      persona: z.string().describe('The persona to ask, by id (list_personas), e.g. "apollo"'),
      message: z.string().min(1).describe('What to ask or tell the persona'),
      thread: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a conversation name: letters, digits, '.', '_' or '-'")
        .default(DEFAULT_THREAD)
        .describe('The local conversation to ask in'),
      waitSeconds: z.number().int().min(1).max(600).default(120).describe('How long to wait for the answer'),
    }),
    readOnly: false,
    run: (port, a) => port.ask({ persona: a.persona as string, message: a.message as string, thread: a.thread as string, waitMs: (a.waitSeconds as number) * 1000 }),
  },
  {
    name: 'list_work',
    description: 'The work in flight on the team (work items: chat requests, issues, pull requests, jobs), with owners and threads.',
    args: z.object({ all: z.boolean().default(false).describe('Include finished work too') }),
    readOnly: true,
    run: (port, a) => port.workInFlight({ all: a.all as boolean }),
  },
  {
    name: 'list_pending_approvals',
    description: "Tool calls waiting for a human's approval. Approving or denying is done by an approver in chat (approve <id> / deny <id>) or in the console, never here.",
    args: z.object({}),
    readOnly: true,
    run: (port) => port.pendingApprovals(),
  },
  {
    name: 'read_conversation',
    description: 'The latest messages of a conversation: a local conversation by name (e.g. "mcp", "general") or a platform thread id (e.g. "mattermost:town-square").',
    args: z.object({
      thread: z.string().min(1).describe('Conversation name or thread id'),
      limit: z.number().int().min(1).max(500).default(50).describe('How many of the latest messages'),
    }),
    readOnly: true,
    run: (port, a) => port.readConversation({ thread: a.thread as string, limit: a.limit as number }),
  },
];
