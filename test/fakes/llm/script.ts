import { randomBytes } from 'node:crypto';
import type { FakeLLMRequest, Quirk, ResolvedAnswer, Responder, ScriptedResponse } from './types.js';

let counter = 0;

/**
 * A unique id in a wire's style. Ids must never repeat: LangGraph's messages reducer
 * merges messages with equal ids, which would silently swallow a scripted answer.
 */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter.toString(36)}${randomBytes(6).toString('hex')}`;
}

/** Rough token estimate so unscripted usage is plausible and non-zero. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The default responder: quotes the last user message back. */
export const echoResponder: Responder = (req) => {
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  return { text: `echo: ${lastUser?.content ?? ''}` };
};

export function fixedResponder(text: string): Responder {
  return () => ({ text });
}

/**
 * The server's script: queued responses are consumed in order by any chat wire;
 * when the queue is empty the responder decides.
 */
export class Script {
  private readonly queue: ScriptedResponse[] = [];
  private responder: Responder = echoResponder;

  enqueue(...responses: ScriptedResponse[]): void {
    this.queue.push(...responses);
  }

  setResponder(fn: Responder | undefined): void {
    this.responder = fn ?? echoResponder;
  }

  /** Responses still waiting in the queue. */
  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
    this.responder = echoResponder;
  }

  async next(req: FakeLLMRequest): Promise<ScriptedResponse> {
    const queued = this.queue.shift();
    if (queued) return queued;
    return this.responder(req);
  }
}

/** Settles ids, usage and model for a successful scripted response. */
export function resolveAnswer(res: ScriptedResponse, req: FakeLLMRequest, toolIdPrefix: string, serverQuirk?: Quirk): ResolvedAnswer {
  const text = res.text ?? '';
  const toolCalls = (res.toolCalls ?? []).map((c) => ({
    id: c.id ?? uniqueId(toolIdPrefix),
    name: c.name,
    args: c.args ?? {},
    ...(c.rawArgs !== undefined ? { rawArgs: c.rawArgs } : {}),
  }));
  const quirk = res.quirk === 'none' ? undefined : (res.quirk ?? serverQuirk);
  const promptText = req.messages.map((m) => m.content).join('\n');
  const outputText = text + toolCalls.map((c) => c.name + (c.rawArgs ?? JSON.stringify(c.args))).join('');
  return {
    text,
    toolCalls,
    usage: res.usage ?? { input: estimateTokens(promptText), output: estimateTokens(outputText) },
    model: res.model ?? req.model,
    cutOff: res.cutOff === true,
    ...(res.thinking !== undefined ? { thinking: res.thinking } : {}),
    ...(quirk ? { quirk } : {}),
  };
}

/** The arguments of a resolved call as the wire carries them. */
export const argsText = (c: ResolvedAnswer['toolCalls'][number]): string => c.rawArgs ?? JSON.stringify(c.args);
