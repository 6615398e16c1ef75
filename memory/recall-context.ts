import { createMiddleware } from 'langchain';
import { MemoryUnavailableError } from './errors.js';
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { Logger } from '../core/log.js';
import type { MemoryStore } from './store.js';
import type { RecallHit } from './types.js';
import { oneLine, provenance, scopeLabel } from './tools/format.js';
import { readableScopes } from './tools/visibility.js';

const DEFAULT_RECALL_TOKEN_BUDGET = 800;
/** Candidates asked of the store; the budget usually keeps fewer. */
const CANDIDATES = 8;
/** The longest single memory shown in the block, in characters. */
const MAX_MEMORY_CHARS = 600;

const HEADER =
  "## From the team's memory\n" +
  'Recalled because they may bear on the message you are answering. They may be out of date: ' +
  'say where a memory came from when you rely on it, and use `recall` for more.';

export interface RecallForRunOptions {
  persona: string;
  threadId: string;
  /** The incoming message. */
  text: string;
  /** Tokens the block may use (estimated as characters / 4); default 800. */
  tokenBudget?: number;
  /**
   * Whether a hit bears on the message. The store's score is rank-based (it always has a best
   * hit), so relevance is judged apart from it; the default keeps hits that share a word with
   * the message. Pass another test for a semantic embedder.
   */
  isRelevant?: (hit: RecallHit, text: string) => boolean;
}

/**
 * The memories most relevant to an incoming message, as a short system-prompt block with
 * their sources, within a token budget; `block` is '' when nothing relevant is known. It
 * sees what the persona's `recall` tool sees: team, its own, this conversation, repositories.
 */
export async function recallForRun(store: Pick<MemoryStore, 'recall' | 'status'>, opts: RecallForRunOptions): Promise<{ block: string; hits: RecallHit[] }> {
  const text = opts.text.trim();
  if (!text) return { block: '', hits: [] };
  const budgetChars = Math.max(0, Math.floor((opts.tokenBudget ?? DEFAULT_RECALL_TOKEN_BUDGET) * 4));
  const found = await store.recall({
    text,
    scopes: await readableScopes(store, { persona: opts.persona, threadId: opts.threadId }),
    limit: CANDIDATES,
  });
  const relevant = found.filter((h) => (opts.isRelevant ?? sharesTerms)(h, text));

  const now = new Date();
  let used = HEADER.length;
  const lines: string[] = [];
  const hits: RecallHit[] = [];
  for (const hit of relevant) {
    const m = hit.memory;
    const prefix = `- [${m.id}] (${m.kind}, ${scopeLabel(m.scope, opts.persona)}, ${provenance(m, now)}) `;
    const room = budgetChars - used - 1 - prefix.length;
    if (room < 40) break;
    lines.push(prefix + oneLine(m.content, Math.min(MAX_MEMORY_CHARS, room)));
    used += 1 + lines[lines.length - 1]!.length;
    hits.push(hit);
  }
  if (!lines.length) return { block: '', hits: [] };
  return { block: `${HEADER}\n${lines.join('\n')}`, hits };
}

const STOPWORDS = new Set(
  (
    'the and for are but not you your with this that have has had was were will would can could should what when where who why how ' +
    "all any our out about into from over then than them they their there here its it's just also been being does did done get got " +
    'let lets make made please thanks thank hey hello need want like some more most very much such only other which while each ' +
    'onto upon off yes yet use used using may might must shall because before after again same both few own too ask tell know'
  ).split(' '),
);

/** Words of a text worth matching: lower case, no stop words, crude suffixes off. */
function significantTerms(text: string): Set<string> {
  const terms = new Set<string>();
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length < 3 || STOPWORDS.has(raw) || /^\d+$/.test(raw)) continue;
    terms.add(raw.replace(/(ing|ed|es|s|ly)$/, '').slice(0, 8) || raw);
  }
  return terms;
}

/** The default relevance test: the memory shares at least one significant word with the message. */
function sharesTerms(hit: RecallHit, text: string): boolean {
  const wanted = significantTerms(text);
  for (const term of significantTerms(hit.memory.content)) if (wanted.has(term)) return true;
  return false;
}

// ---- the middleware ---------------------------------------------------------------------

/** Blocks kept per thread and message; a turn's model calls reuse one recall. */
const CACHE_SIZE = 256;

export interface MemoryMiddlewareOptions {
  tokenBudget?: number;
  isRelevant?: RecallForRunOptions['isRelevant'];
  /** Recall failures (an embedder mismatch, a database hiccup) are logged and the call goes on without memories. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Recalls into a persona's context: before each model call, the memories relevant to the
 * message being answered (the last human message the persona sees) are appended to the system
 * message. One recall per thread and message: the tool loop of a turn reuses it.
 * Place it before `personaMessagesMiddleware` (outermost): it then sees the transcript as
 * stored, where the last human message is the human's request (or a handoff's ask), not a
 * teammate's answer quoted as a user message.
 */
export function memoryMiddleware(store: Pick<MemoryStore, 'recall' | 'status'>, personaId: string, opts: MemoryMiddlewareOptions = {}) {
  const cache = new Map<string, Promise<string>>();
  let warnedUnavailable = false;
  const blockFor = (threadId: string, message: BaseMessage, text: string): Promise<string> => {
    const key = `${threadId}\u0000${message.id ?? text}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const block = recallForRun(store, { persona: personaId, threadId, text, tokenBudget: opts.tokenBudget, isRelevant: opts.isRelevant })
      .then((r) => r.block)
      .catch((err: unknown) => {
        cache.delete(key);
        // A server without pgvector is said once, not on every turn (the start-up log says it too).
        if (err instanceof MemoryUnavailableError) {
          if (warnedUnavailable) return '';
          warnedUnavailable = true;
        }
        opts.logger?.warn({ err, persona: personaId, threadId }, 'memory recall failed; answering without memories');
        return '';
      });
    cache.set(key, block);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return block;
  };

  return createMiddleware({
    name: `pantheon-memory-${personaId}`,
    wrapModelCall: async (request, handler) => {
      const threadId = request.runtime?.configurable?.thread_id;
      const last = lastHumanMessage(request.messages);
      if (typeof threadId !== 'string' || !last) return handler(request);
      const block = await blockFor(threadId, last, messageContentText(last));
      if (!block) return handler(request);
      return handler({ ...request, systemMessage: request.systemMessage.concat(`\n\n${block}`) });
    },
  });
}

function lastHumanMessage(messages: readonly BaseMessage[]): BaseMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (HumanMessage.isInstance(messages[i])) return messages[i];
  return undefined;
}

function messageContentText(m: BaseMessage): string {
  if (typeof m.content === 'string') return m.content;
  return m.content.map((part) => (typeof part === 'string' ? part : part.type === 'text' ? String((part as { text?: unknown }).text ?? '') : '')).join(' ');
}
