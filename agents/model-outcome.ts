import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import { ANSWERED_BY, ModelChainError, type ModelFailure } from './fallback-model.js';
import { classifyFailure, isContextOverflow } from './retry.js';

/**
 * What a model's answer or failure means for the human waiting on it, in words fit for a chat:
 * which model, and what went wrong. Never a provider's raw body (it may echo a key or the prompt)
 * and never a stack trace.
 */

/** The `provider:model` that gave the answer, when known. */
export function answeredBy(answer: AIMessage): string | undefined {
  const meta = answer.response_metadata as Record<string, unknown> | undefined;
  const spec = meta?.[ANSWERED_BY] ?? meta?.model_name ?? meta?.model;
  return typeof spec === 'string' && spec ? spec : undefined;
}

/** The answer stopped at the output limit: OpenAI `finish_reason: length`, Anthropic `stop_reason: max_tokens`, Responses `max_output_tokens`. */
export function isCutOff(answer: AIMessage): boolean {
  const meta = (answer.response_metadata ?? {}) as Record<string, any>;
  return meta.finish_reason === 'length' || meta.stop_reason === 'max_tokens' || meta.incomplete_details?.reason === 'max_output_tokens';
}

/** The text a human would see of an answer: text blocks only (thinking and reasoning are not the answer). */
export function answerText(answer: BaseMessage): string {
  const content = answer.content as unknown;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => (typeof b === 'string' ? b : b && typeof b === 'object' && (b.type === 'text' || b.type === 'output_text') ? String(b.text ?? '') : '')).join('');
}

/** No words and no tool call of any kind. */
export function isEmptyAnswer(answer: AIMessage): boolean {
  return !answerText(answer).trim() && !answer.tool_calls?.length && !answer.invalid_tool_calls?.length;
}

/** A failed model call, or every model of a chain, as "openai:gpt-4.1-mini was rate limited (429) after 3 attempts". */
export function describeModelFailure(err: unknown, fallbackSpec = 'the model'): string {
  const failures: ModelFailure[] = err instanceof ModelChainError ? err.failures : [{ spec: fallbackSpec, error: err }];
  return failures.map((f) => `${f.spec} ${whatFailed(f.error)}${f.attempts && f.attempts > 1 ? ` after ${f.attempts} attempts` : ''}`).join('; then ');
}

/** The request did not fit the model's context window, on one model or on every model of a chain. */
export function isContextOverflowFailure(err: unknown): boolean {
  if (err instanceof ModelChainError) return err.failures.some((f) => isContextOverflow(f.error));
  return isContextOverflow(err);
}

function whatFailed(error: unknown): string {
  const f = classifyFailure(error);
  const status = f.status;
  switch (f.kind) {
    case 'rate_limit':
      return 'was rate limited (429)';
    case 'server':
      if (status === 529) return 'was overloaded (529)';
      if (status === 503) return 'was unavailable (503)';
      return `had a server error (${status})`;
    case 'timeout':
      return 'did not answer in time (timeout)';
    case 'network':
      return /terminated|UND_ERR_SOCKET|other side closed|ECONNRESET|socket hang up/i.test(causeChain(error)) ? 'dropped the connection in the middle of its answer' : 'could not be reached';
    case 'context_length':
      return 'was sent more than fits its context window';
    case 'abort':
      return 'was cancelled';
    default:
      if (status === 401) return 'refused the API key (401)';
      if (status === 403) return 'refused access (403)';
      if (status === 404) return 'was not found (404: check the model name)';
      if (status === 400) return 'refused the request (400)';
      return status ? `failed (${status})` : 'failed';
  }
}

/** The messages and codes of an error and its causes (the SDKs wrap undici's error in their own). */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  let e = error as { message?: unknown; code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++, e = e.cause as typeof e) parts.push(String(e.message ?? ''), String(e.code ?? ''));
  return parts.join(' ');
}

/** What a model is told after its answer was cut off, to continue it. */
export const CONTINUE_PROMPT = 'Your previous answer was cut off by the output limit. Continue exactly where it stopped, without repeating anything.';
