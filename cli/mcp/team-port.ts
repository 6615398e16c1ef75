import type pg from 'pg';
import type { IngressSink } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { summarizeInFlight, type WorkLedger } from '../../ledger/index.js';
import { threadTranscript } from '../../memory/summaries.js';
import type { ApprovalStore } from '../../orchestrator/approvals/index.js';
import { acceptLocalMessage } from '../../platforms/local/accept.js';
import type { ChatMessage, ChatStore } from '../../platforms/local/store.js';
import { isConversationName } from '../../platforms/local/thread-id.js';
import type { TeamPort } from './team-tools.js';

/** Who a question from an MCP client is from, in the chat: not a human, so never an approver. */
const MCP_AUTHOR = 'mcp-client';

/** A message that would be a chat command (approve, deny, /cancel...): an MCP client does not run those. */
const COMMAND = /^\s*(\/|(approve|deny)\b)/i;

const POLL_MS = 500;

export interface TeamPortDeps {
  personas: readonly Persona[];
  store: ChatStore;
  ingress: IngressSink;
  ledger: WorkLedger;
  approvals: ApprovalStore;
  pool: pg.Pool;
  logger: Pick<Logger, 'warn' | 'error'>;
}

/** The team as `pantheon mcp` sees it, in the server's own process. */
export function inProcessTeamPort(deps: TeamPortDeps): TeamPort {
  return {
    personas: () => deps.personas.map((p) => ({ id: p.id, name: p.name, role: p.role, description: p.description })),

    async ask({ persona, message, thread, waitMs }) {
      if (!deps.personas.some((p) => p.id === persona)) throw new Error(`no persona "${persona}"; the team is ${deps.personas.map((p) => p.id).join(', ')}`);
      if (!isConversationName(thread)) throw new Error(`"${thread}" is not a conversation name: letters, digits, '.', '_' or '-'`);
      if (COMMAND.test(message)) throw new Error('chat commands (approve, deny, /...) are for people in chat, not for MCP clients; ask a question instead');
      const posted = await acceptLocalMessage({ store: deps.store, ingress: deps.ingress, logger: deps.logger }, { conversation: thread, user: MCP_AUTHOR, text: `@${persona} ${message}` });
      if (!posted.stored) throw new Error('the message could not be stored; ask again');
      const after = posted.shown?.seq ?? 0;
      const seen = await waitForAnswer(deps.store, thread, after, persona, waitMs);
      const answer = seen.find((m) => m.role === 'agent' && m.persona === persona);
      const lines = seen.filter((m) => m !== answer).map(line);
      if (answer) return [...lines, answer.text].join('\n');
      return [...lines, `${persona} has not answered within ${Math.round(waitMs / 1000)} s. The answer will appear in the conversation "${thread}": read it later with read_conversation.`].join('\n');
    },

    async workInFlight({ all }) {
      const items = await deps.ledger.list({ includeFinished: all });
      if (!all) return summarizeInFlight(items);
      return items.length ? items.map((i) => `- ${i.id} [${i.state}] ${i.title}${i.owner ? ` (owner ${i.owner})` : ''}`).join('\n') : 'No work items.';
    },

    async pendingApprovals() {
      const pending = await deps.approvals.pending();
      if (!pending.length) return 'No approvals are pending.';
      return [
        `${pending.length} pending (an approver answers in chat with approve <id> or deny <id>):`,
        ...pending.map(
          (a) =>
            `- [${a.id}] ${a.persona} wants to run ${a.tool} (${a.risk}) in ${a.thread}${a.reason ? `: ${a.reason}` : ''}; arguments ${JSON.stringify(a.args)}; expires ${a.expiresAt.toISOString()}`,
        ),
      ].join('\n');
    },

    async readConversation({ thread, limit }) {
      const threadId = thread.includes(':') ? thread : `local:${thread}`;
      const messages = await threadTranscript(deps.pool, threadId, { limit });
      if (!messages.length) return `No messages in ${threadId}.`;
      return messages.map((m) => (m.role === 'agent' ? `[${m.author}] ${m.text}` : m.role === 'system' ? `* ${m.text}` : `<${m.author}> ${m.text}`)).join('\n');
    },
  };
}

function line(m: ChatMessage): string {
  return m.role === 'agent' ? `[${m.persona ?? m.author}] ${m.text}` : m.role === 'system' ? `* ${m.text}` : `<${m.author}> ${m.text}`;
}

/** The conversation's messages after `after` until `persona` answers (or the wait ends): woken by the store, and polling for other processes' writes. */
async function waitForAnswer(store: ChatStore, conversation: string, after: number, persona: string, waitMs: number): Promise<ChatMessage[]> {
  const deadline = Date.now() + waitMs;
  const seen: ChatMessage[] = [];
  let last = after;
  let wake: (() => void) | undefined;
  const onChange = () => wake?.();
  store.changes.on(conversation, onChange);
  try {
    for (;;) {
      for (const m of await store.list(conversation, { afterSeq: last, limit: 200 })) {
        last = m.seq;
        seen.push(m);
        if (m.role === 'agent' && m.persona === persona) return seen;
      }
      const left = deadline - Date.now();
      if (left <= 0) return seen;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    store.changes.off(conversation, onChange);
  }
}
