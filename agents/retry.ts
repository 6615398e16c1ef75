import { setTimeout as delay } from 'node:timers/promises';
/**
 * Retrying one model call. LangChain's ChatOpenAI/ChatAnthropic build their SDK clients
 * with `maxRetries: 0` and retry in their own AsyncCaller, whose delay is an exponential
 * backoff of at least 1-2 s that only stretches to Retry-After, and which gives up at
 * once on a 429 without Retry-After. Pantheon builds those models with `maxRetries: 0`
 * and retries here instead, the way the official SDKs do: `retry-after-ms` / `Retry-After`
 * decide the wait when present, `x-should-retry` overrides, else a short jittered backoff.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff when the server gives no Retry-After; doubles per retry. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the next model in the chain is tried instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'maxRetries'> = { baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

type FailureKind = 'rate_limit' | 'server' | 'network' | 'timeout' | 'context_length' | 'client' | 'abort';

export interface Failure {
  kind: FailureKind;
  retryable: boolean;
  status?: number;
  /** The server's own wait hint, when it gave one. */
  retryAfterMs?: number;
}

function statusOf(err: any): number | undefined {
  const s = err?.status ?? err?.response?.status ?? err?.statusCode ?? err?.cause?.status;
  return typeof s === 'number' ? s : undefined;
}

function header(err: any, name: string): string | undefined {
  const h = err?.headers ?? err?.response?.headers;
  if (!h) return undefined;
  const v = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Reads `retry-after-ms`, then `Retry-After` (seconds or an HTTP date). */
function retryAfterMs(err: unknown): number | undefined {
  const ms = header(err, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = header(err, 'retry-after');
  if (ra === undefined) return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The request is longer than the model's context window: LangChain's ContextOverflowError (it
 * wraps OpenAI's `context_length_exceeded` and Anthropic's "prompt is too long"), or the words
 * OpenAI-compatible servers use (vLLM: "maximum context length", llama.cpp: "exceeds the
 * available context size"). Waiting does not help; a shorter request does.
 */
export function isContextOverflow(err: any): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err.name === 'ContextOverflowError') return true;
  const code = err.code ?? err.error?.code ?? err.error?.error?.code ?? err.cause?.code;
  if (code === 'context_length_exceeded') return true;
  const text = `${err.message ?? ''} ${err.error?.message ?? ''} ${err.error?.error?.message ?? ''}`;
  return /prompt is too long|maximum context length|context_length_exceeded|exceeds the available context size|context window/i.test(text);
}

export function isAbort(err: any): boolean {
  return err?.name === 'AbortError' || err?.constructor?.name === 'APIUserAbortError';
}

/** Sorts a failed model call into what to do next. */
export function classifyFailure(err: unknown): Failure {
  const e = err as any;
  if (isAbort(e)) return { kind: 'abort', retryable: false };
  if (e?.name === 'TimeoutError' || e?.constructor?.name === 'APIConnectionTimeoutError') {
    // The call already used its whole timeout; a different model is the better bet.
    return { kind: 'timeout', retryable: false };
  }
  if (isContextOverflow(e)) return { kind: 'context_length', retryable: false, status: statusOf(e) };
  const status = statusOf(e);
  const hint = retryAfterMs(e);
  const should = header(e, 'x-should-retry');
  if (status === undefined) {
    // `terminated` / UND_ERR_SOCKET: undici's words for a connection dropped in the middle of an answer.
    const network =
      e?.constructor?.name === 'APIConnectionError' ||
      /ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET|socket hang up|other side closed|terminated|fetch failed|network/i.test(String(e?.message ?? '') + String(e?.cause?.code ?? ''));
    return { kind: network ? 'network' : 'client', retryable: network };
  }
  const kind: FailureKind = status === 429 ? 'rate_limit' : status >= 500 ? 'server' : 'client';
  let retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  // An exhausted quota will not come back by waiting.
  if (status === 429 && (e?.code === 'insufficient_quota' || e?.error?.code === 'insufficient_quota' || e?.error?.error?.code === 'insufficient_quota')) retryable = false;
  if (should === 'true') retryable = true;
  if (should === 'false') retryable = false;
  return { kind, retryable, status, retryAfterMs: hint };
}

/** The wait before retry number `retry` (0-based), or undefined when the hint is too long to wait for. */
function retryDelayMs(failure: Failure, retry: number, policy: Omit<RetryPolicy, 'maxRetries'>): number | undefined {
  if (failure.retryAfterMs !== undefined) {
    return failure.retryAfterMs <= policy.maxRetryAfterMs ? failure.retryAfterMs : undefined;
  }
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return backoff * (1 - Math.random() * 0.25);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

export interface RetryHooks {
  signal?: AbortSignal;
  /** Told before each wait, e.g. to log it. */
  onRetry?: (info: { attempt: number; delayMs: number; failure: Failure; error: unknown }) => void;
}

/** Runs `call` until it succeeds, fails for good, or runs out of retries; rethrows the last error. */
export async function withRetries<T>(call: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const failure = classifyFailure(error);
      if (!failure.retryable || attempt >= policy.maxRetries) throw error;
      const delayMs = retryDelayMs(failure, attempt, policy);
      if (delayMs === undefined) throw error;
      hooks.onRetry?.({ attempt, delayMs, failure, error });
      await sleep(delayMs, hooks.signal);
    }
  }
}
