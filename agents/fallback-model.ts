import { BaseChatModel, type BaseChatModelCallOptions, type BaseChatModelParams, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import type { Logger } from '../core/log.js';
import { classifyFailure, isAbort, withRetries, type RetryPolicy } from './retry.js';

/** One model in a fallback chain. */
export interface ModelLink {
  /** `provider:model` */
  spec: string;
  provider: string;
  model: string;
  /** The provider's chat model, as built. */
  base: BaseChatModel;
  /** What is called: `base`, or `base` with tools bound. */
  runnable?: Runnable<BaseLanguageModelInput, BaseMessage>;
}

/** One HTTP-level attempt at one model, for accounting. */
export interface ModelAttempt {
  spec: string;
  provider: string;
  model: string;
  /** 0 for the first try at this model, then 1, 2… for retries. */
  attempt: number;
  ok: boolean;
  latencyMs: number;
  usage: { input: number; output: number };
  error?: unknown;
}

export interface FallbackChatModelFields extends BaseChatModelParams {
  links: ModelLink[];
  retry: RetryPolicy;
  /** Called after every attempt, successful or not. Its errors are logged, never thrown. */
  onAttempt?: (a: ModelAttempt) => void | Promise<void>;
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

/** One model's part in a failed chain: its last error and how many requests it was sent. */
export interface ModelFailure {
  spec: string;
  error: unknown;
  attempts?: number;
}

/** Raised when every model in the chain failed; `failures` holds each model's last error. */
export class ModelChainError extends Error {
  constructor(readonly failures: ModelFailure[]) {
    super(
      `Every model in the chain failed: ${failures
        .map((f) => `${f.spec} (${(f.error as Error)?.message ?? String(f.error)})`)
        .join('; ')}. Check the provider's status, API key and base URL, or add fallback models (models.fallback).`,
      { cause: failures.at(-1)?.error },
    );
    this.name = 'ModelChainError';
  }
}

/** The key under an answer's `response_metadata` naming the `provider:model` that gave it. */
export const ANSWERED_BY = 'pantheon_model';

function usageOf(message: BaseMessage): { input: number; output: number } {
  const u = (message as AIMessage).usage_metadata;
  return { input: u?.input_tokens ?? 0, output: u?.output_tokens ?? 0 };
}

/**
 * A chat model that tries each model of a chain in turn: every model gets its retries
 * (Retry-After honoured, see retry.ts) before the next is tried. `bindTools` binds each
 * underlying model, so it works with `createAgent`. Answers are not streamed: the chain
 * needs a whole answer to know a model succeeded.
 */
export class FallbackChatModel extends BaseChatModel<BaseChatModelCallOptions> {
  readonly links: ModelLink[];
  private readonly fields: FallbackChatModelFields;

  static override lc_name(): string {
    return 'FallbackChatModel';
  }

  constructor(fields: FallbackChatModelFields) {
    super(fields);
    if (fields.links.length === 0) throw new Error('FallbackChatModel needs at least one model');
    this.fields = fields;
    this.links = fields.links;
  }

  _llmType(): string {
    return 'pantheon-fallback';
  }

  /** The chain as `provider:model` specs, primary first. */
  get specs(): string[] {
    return this.links.map((l) => l.spec);
  }

  override bindTools(tools: BindToolsInput[], kwargs?: Partial<BaseChatModelCallOptions>): FallbackChatModel {
    const links = this.links.map((link) => {
      if (typeof link.base.bindTools !== 'function') {
        throw new Error(`Model ${link.spec} cannot call tools; pick a model with tool calling for this persona.`);
      }
      return { ...link, runnable: link.base.bindTools(tools, kwargs) as Runnable<BaseLanguageModelInput, BaseMessage> };
    });
    return new FallbackChatModel({ ...this.fields, links });
  }

  private async report(a: ModelAttempt): Promise<void> {
    try {
      await this.fields.onAttempt?.(a);
    } catch (err) {
      this.fields.logger?.warn({ err, spec: a.spec }, 'model usage could not be recorded');
    }
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], _runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    const failures: ModelFailure[] = [];
    for (const [i, link] of this.links.entries()) {
      const target = link.runnable ?? link.base;
      let attempts = 0;
      try {
        const message = await withRetries(
          async (attempt) => {
            attempts = attempt + 1;
            const started = performance.now();
            try {
              // The outer model reports to callbacks; the inner call stays silent so traces and
              // message streams see one model run, not two.
              const out = await target.invoke(messages, { ...options, callbacks: [] });
              await this.report({ ...this.label(link), attempt, ok: true, latencyMs: performance.now() - started, usage: usageOf(out) });
              return out;
            } catch (error) {
              await this.report({ ...this.label(link), attempt, ok: false, latencyMs: performance.now() - started, usage: { input: 0, output: 0 }, error });
              throw error;
            }
          },
          this.fields.retry,
          {
            signal: options.signal,
            onRetry: ({ attempt, delayMs, failure }) => this.fields.logger?.debug({ spec: link.spec, attempt, delayMs: Math.round(delayMs), status: failure.status }, 'retrying model call'),
          },
        );
        // Which model of the chain answered: what a message about this answer names.
        message.response_metadata = { ...message.response_metadata, [ANSWERED_BY]: link.spec };
        return { generations: [{ text: typeof message.content === 'string' ? message.content : message.text, message }] };
      } catch (error) {
        if (isAbort(error) || options.signal?.aborted) throw error;
        failures.push({ spec: link.spec, error, attempts });
        const next = this.links[i + 1];
        if (next) {
          const failure = classifyFailure(error);
          this.fields.logger?.warn({ spec: link.spec, next: next.spec, status: failure.status, kind: failure.kind, err: error }, 'model failed, falling back');
        }
      }
    }
    throw new ModelChainError(failures);
  }

  private label(link: ModelLink): Pick<ModelAttempt, 'spec' | 'provider' | 'model'> {
    return { spec: link.spec, provider: link.provider, model: link.model };
  }
}
