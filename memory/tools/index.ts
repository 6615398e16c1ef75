import { z } from 'zod';
import type { PantheonTool, ToolContext, ToolGroupFactory } from '../../core/tools/types.js';
import { MemoryUnavailableError } from '../errors.js';
import { EmbedderMismatchError, MEMORY_KINDS } from '../types.js';
import type { MemoryStore } from '../store.js';
import { formatRecall } from './format.js';
import { canSee, invalidateRepoScopes, readableScopes, SCOPE_HELP, writeScope } from './visibility.js';

/** Longest memory a persona may store with one call: a memory is a note, not a document. */
const MAX_CONTENT_CHARS = 4000;
const DEFAULT_RECALL_LIMIT = 8;
const MAX_RECALL_LIMIT = 25;

export interface MemoryToolDeps {
  store: Pick<MemoryStore, 'remember' | 'recall' | 'get' | 'forget' | 'status'>;
}

const rememberSchema = z.object({
  content: z.string().trim().min(1).max(MAX_CONTENT_CHARS).describe('What to remember, self-contained: someone reading it months later must understand it'),
  kind: z.enum(MEMORY_KINDS).describe('fact, decision, preference, summary, code_context or runbook'),
  scope: z.string().trim().min(1).default('team').describe(`Who may recall it: ${SCOPE_HELP}`),
});

const recallSchema = z.object({
  query: z.string().trim().min(1).max(1000).describe('What you want to know, in words'),
  kinds: z.array(z.enum(MEMORY_KINDS)).optional().describe('Only these kinds'),
  limit: z.number().int().min(1).max(MAX_RECALL_LIMIT).optional().describe(`At most this many (default ${DEFAULT_RECALL_LIMIT})`),
});

const forgetSchema = z.object({
  id: z.string().trim().min(1).max(200).describe('The id of the memory, as recall shows it in brackets'),
});

/**
 * The `memory` tool group: `remember`, `recall` and `forget`, seen from one persona in one
 * thread (see visibility.ts for who sees what). `remember` is keyed by the tool call id, so a
 * run resumed after a crash stores once; `forget` deletes for real.
 */
export function memoryTools(deps: MemoryToolDeps): ToolGroupFactory {
  return (ctx: ToolContext): PantheonTool[] => [remember(deps, ctx), recall(deps, ctx), forget(deps, ctx)];
}

function remember({ store }: MemoryToolDeps, ctx: ToolContext): PantheonTool<typeof rememberSchema> {
  return {
    name: 'remember',
    description: "Store something worth knowing later (a fact, a decision, a preference, a runbook...) in the team's memory. " + `Scope ${SCOPE_HELP}; default team. Returns the memory's id.`,
    risk: 'write',
    schema: rememberSchema,
    async run({ content, kind, scope }, call) {
      const seat = { persona: ctx.persona.id, threadId: call.threadId };
      const target = writeScope(seat, scope);
      if (typeof target !== 'string') return target.refused;
      let memory;
      try {
        memory = await store.remember({
          scope: target,
          kind,
          content,
          source: call.threadId,
          author: ctx.persona.id,
          metadata: { runId: call.runId, ...(call.inboundId ? { inboundId: call.inboundId } : {}) },
          dedupeKey: `tool:${call.threadId}:${call.id}`,
        });
      } catch (err) {
        return unavailable(err, 'Memory');
      }
      if (target.startsWith('repo:')) invalidateRepoScopes(store);
      const who = target === 'team' ? 'the team' : target.startsWith('persona:') ? 'you only' : target.startsWith('conversation:') ? 'this conversation' : target;
      return `Remembered as ${memory.id} (${memory.kind}, visible to ${who}).`;
    },
  };
}

function recall({ store }: MemoryToolDeps, ctx: ToolContext): PantheonTool<typeof recallSchema> {
  return {
    name: 'recall',
    description:
      "Search the team's memory (team, your private notes, this conversation, repositories) for what is known about something. " + 'Returns a numbered list with ids, kinds, sources and ages.',
    risk: 'read',
    schema: recallSchema,
    async run({ query, kinds, limit }, call) {
      const seat = { persona: ctx.persona.id, threadId: call.threadId };
      try {
        const hits = await store.recall({
          text: query,
          scopes: await readableScopes(store, seat),
          kinds: kinds?.length ? kinds : undefined,
          limit: limit ?? DEFAULT_RECALL_LIMIT,
        });
        return formatRecall(hits, { viewer: ctx.persona.id });
      } catch (err) {
        return unavailable(err, 'Memory search');
      }
    },
  };
}

function forget({ store }: MemoryToolDeps, ctx: ToolContext): PantheonTool<typeof forgetSchema> {
  return {
    name: 'forget',
    description: 'Delete a memory for good (from every search), by the id recall shows. Only memories you can recall can be forgotten.',
    risk: 'write',
    schema: forgetSchema,
    async run({ id }, call) {
      const seat = { persona: ctx.persona.id, threadId: call.threadId };
      // Another persona's private memory answers exactly like a missing one: its existence is private too.
      try {
        const memory = await store.get(id);
        if (!memory || !canSee(seat, memory.scope)) return `No such memory: ${id}.`;
        const deleted = await store.forget(memory.id);
        return deleted ? `Forgot ${memory.id}.` : `No such memory: ${id} (already forgotten).`;
      } catch (err) {
        return unavailable(err, 'Memory');
      }
    },
  };
}

/**
 * The store's known conditions as an answer the persona can act on (carry on without memory);
 * anything else is a real failure for the guard to record.
 */
function unavailable(err: unknown, what: string): string {
  if (err instanceof EmbedderMismatchError) {
    return `${what} is unavailable until a human re-embeds the memories: ${err.message}. Carry on without it, and say so if it matters.`;
  }
  if (err instanceof MemoryUnavailableError) return `${what} is unavailable: ${err.message}. Carry on without it.`;
  throw err;
}
