import { randomUUID } from 'node:crypto';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { interopSafeParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';

/**
 * A model's tool calls are untrusted input. Before any tool runs, each call of an answer is
 * checked: arguments that are not JSON (LangChain's `invalid_tool_calls`, a call cut off at the
 * output limit, a string where an object belongs), a tool that does not exist, arguments that
 * fail the tool's schema, a call without an id or repeating another's id. A malformed call gets an
 * error tool result the model can correct; the rest run. The answer is rewritten so that every
 * call the model made is in `tool_calls` with a unique id, each answered by exactly one result,
 * as every provider requires of the next request.
 */
export interface CheckedCalls {
  /** The answer as it goes into the conversation (the same object when nothing was wrong). */
  answer: AIMessage;
  /** Calls to run. */
  valid: ToolCall[];
  /** Error results for the malformed calls, one each, in the calls' order. */
  rejected: ToolMessage[];
  /** What was wrong, one short phrase per rejected call, for a human: "its call to lookup had arguments that are not JSON". */
  problems: string[];
}

/** Marks a tool result Pantheon wrote for a malformed call (not a tool's own answer). */
export const REPAIR_MARK = 'pantheon_repair';

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

function asArgs(raw: unknown): { args?: Record<string, unknown>; raw?: string } {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return { args: raw as Record<string, unknown> };
  const text = typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : JSON.stringify(raw);
  if (typeof raw === 'string') {
    try {
      const parsed = JSON.parse(raw.trim() || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { args: parsed };
    } catch {
      /* reported below */
    }
  }
  return { raw: text };
}

function issuesOf(error: unknown): string {
  const issues = (error as { issues?: Array<{ path?: PropertyKey[]; message?: string }> })?.issues;
  if (!Array.isArray(issues) || !issues.length) return String((error as Error)?.message ?? error);
  return issues
    .slice(0, 5)
    .map((i) => `${i.path?.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message ?? 'invalid'}`)
    .join('; ');
}

/** Checks every call of `answer` against `tools` (see CheckedCalls). `cutOff`: the answer hit the output limit. */
export async function checkToolCalls(answer: AIMessage, tools: readonly StructuredToolInterface[], opts: { cutOff?: boolean } = {}): Promise<CheckedCalls> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const offered = `[${[...byName.keys()].join(', ')}]`;
  const made: Array<{ id?: string; name: string; args: unknown; parseError?: string }> = [
    ...(answer.tool_calls ?? []).map((c) => ({ id: c.id, name: c.name, args: c.args as unknown })),
    ...(answer.invalid_tool_calls ?? []).map((c) => ({ id: c.id, name: c.name ?? '', args: c.args as unknown, parseError: c.error })),
  ];
  const seen = new Map<string, string>();
  const calls: ToolCall[] = [];
  const valid: ToolCall[] = [];
  const rejected: ToolMessage[] = [];
  const problems: string[] = [];
  let changed = (answer.invalid_tool_calls?.length ?? 0) > 0;
  const reject = (call: ToolCall, text: string, problem: string) => {
    rejected.push(new ToolMessage({ content: `Error: ${text}`, tool_call_id: call.id!, name: call.name || 'unknown', status: 'error', additional_kwargs: { [REPAIR_MARK]: true } }));
    problems.push(problem);
  };

  for (const m of made) {
    const name = typeof m.name === 'string' ? m.name : '';
    const parsed = asArgs(m.args);
    const signature = `${name}\u0000${JSON.stringify(parsed.args ?? parsed.raw)}`;
    let id = typeof m.id === 'string' && m.id ? m.id : '';
    const repeats = id && seen.has(id) ? seen.get(id) === signature : false;
    if (!id || seen.has(id)) {
      // No id, or another call's: a result could not say which call it answers. A fresh one is safe.
      id = `${id || 'call'}_${randomUUID().slice(0, 8)}`;
      changed = true;
    }
    seen.set(id, signature);
    if (!parsed.args) changed = true;
    const call: ToolCall = { id, name, args: parsed.args ?? {}, type: 'tool_call' };
    calls.push(call);

    if (repeats) {
      reject(call, `this call repeats your previous call ${m.id} to ${name} with the same id and arguments; it ran once. Do not repeat a call in one answer.`, `it repeated a call to ${name}`);
      continue;
    }
    if (!name) {
      reject(call, `a tool call needs the name of a tool, one of ${offered}.`, 'a tool call named no tool');
      continue;
    }
    const tool = byName.get(name);
    if (!tool) {
      reject(call, `${name} is not a valid tool, try one of ${offered}.`, `it called ${name}, a tool that does not exist`);
      continue;
    }
    if (!parsed.args) {
      const why = opts.cutOff ? ' (your answer was cut off at the output limit: make the call shorter)' : '';
      reject(
        call,
        `the arguments of your call to ${name} are not a valid JSON object${why}: ${clip(parsed.raw ?? '')}${m.parseError ? ` (${clip(m.parseError.split('\n').find((l) => l.startsWith('Error:')) ?? '', 120)})` : ''}. Call ${name} again with its arguments as one JSON object.`,
        `its call to ${name} had arguments that are not valid JSON${opts.cutOff ? ' (cut off at the output limit)' : ''}`,
      );
      continue;
    }
    if (isInteropZodSchema(tool.schema)) {
      const result = await interopSafeParseAsync(tool.schema, parsed.args);
      if (!result.success) {
        reject(
          call,
          `the arguments of your call to ${name} do not match its schema: ${issuesOf(result.error)}. You sent ${clip(JSON.stringify(parsed.args))}. Call ${name} again with arguments that match.`,
          `its call to ${name} had arguments that do not match the tool's schema`,
        );
        continue;
      }
    }
    valid.push(call);
  }
  if (!changed) return { answer, valid, rejected, problems };
  return { answer: withCalls(answer, calls), valid, rejected, problems };
}

/**
 * The answer with `calls` as its tool calls and nothing left invalid. Content blocks of calls
 * (Anthropic's `tool_use`) are dropped so the provider rebuilds them from `tool_calls` with the
 * settled ids; thinking and text blocks stay where they were.
 */
function withCalls(answer: AIMessage, calls: ToolCall[]): AIMessage {
  const content = Array.isArray(answer.content) ? answer.content.filter((b) => !(b && typeof b === 'object' && (b.type === 'tool_use' || b.type === 'input_json_delta'))) : answer.content;
  const { tool_calls: _raw, ...kwargs } = answer.additional_kwargs ?? {};
  return new AIMessage({
    id: answer.id,
    name: answer.name,
    content: content as AIMessage['content'],
    tool_calls: calls,
    invalid_tool_calls: [],
    additional_kwargs: kwargs,
    response_metadata: answer.response_metadata,
    usage_metadata: answer.usage_metadata,
  });
}
