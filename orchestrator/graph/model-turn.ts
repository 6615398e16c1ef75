import type { Logger } from '../../core/log.js';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { isGraphBubbleUp, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { answeredBy, answerText, CONTINUE_PROMPT, describeModelFailure, isContextOverflowFailure, isCutOff, isEmptyAnswer } from '../../agents/model-outcome.js';
import { isAbort } from '../../agents/retry.js';
import { checkToolCalls, REPAIR_MARK } from '../../agents/tool-call-check.js';
import type { CompiledPersona } from './persona-agent.js';

/** Consecutive answers with malformed tool calls a persona's model may send back for repair before the human is told. */
const MAX_REPAIRS = 3;

/**
 * One model step of a persona, as models really behave: every answer leads somewhere visible.
 * - a provider failure (after the chain's retries and fallbacks): a notice naming the model and what failed;
 * - a context-length refusal: the conversation compacted harder (`shrink`), and one more try;
 * - no text and no tool call: one more try, then a notice;
 * - cut off at the output limit: continued once, else posted with a note that it was cut off;
 * - malformed tool calls: error results the model can correct (the step runs again), at most
 *   MAX_REPAIRS answers in a row, then a notice.
 */
export interface ModelTurn {
  /** Messages for the conversation: the answer (repaired), error results for its malformed calls. */
  messages: BaseMessage[];
  /** Tool calls to run. */
  calls: ToolCall[];
  /** The model must answer again (its malformed calls were answered with errors). */
  again: boolean;
  /** Answers with malformed calls in a row, this one included. */
  repairs: number;
  /** Told to the human as a system message; `kind` keeps it once per turn. */
  notice?: { kind: string; text: string };
}

export interface ModelTurnInput {
  persona: { id: string; name: string; tools: readonly StructuredToolInterface[] };
  agent: CompiledPersona;
  messages: BaseMessage[];
  /** Malformed answers in a row before this step. */
  repairs: number;
  config: LangGraphRunnableConfig;
  maxRepairs?: number;
  /**
   * After a context-length refusal: the same conversation in fewer tokens (compacted into the
   * thread's summary, graph/context.ts), or undefined when it cannot be shortened.
   */
  shrink?: (messages: BaseMessage[]) => Promise<BaseMessage[] | undefined>;
  /** Hears a provider failure with its text (the human is told only which model and how it failed). */
  logger?: Logger;
}

type Call = { answer: AIMessage; error?: undefined } | { answer?: undefined; error: unknown };

export async function takeModelTurn(input: ModelTurnInput): Promise<ModelTurn> {
  const { persona, agent, config } = input;
  const maxRepairs = input.maxRepairs ?? MAX_REPAIRS;
  const who = persona.name;
  let messages = input.messages;
  let trimmed = false;
  let emptyTries = 0;
  let lastSpec: string | undefined;

  const call = async (msgs: BaseMessage[]): Promise<Call> => {
    try {
      const answer = await agent.callModel(msgs, config);
      lastSpec = answeredBy(answer) ?? lastSpec;
      return { answer };
    } catch (error) {
      // Interrupts, cancellations and a run being stopped are not the model's failures.
      if (isGraphBubbleUp(error) || isAbort(error) || config.signal?.aborted) throw error;
      return { error };
    }
  };
  const stop = (kind: string, text: string, messages: BaseMessage[] = []): ModelTurn => ({ messages, calls: [], again: false, repairs: 0, notice: { kind: `${kind}-${persona.id}`, text } });

  for (;;) {
    const first = await call(messages);
    if (!first.answer) {
      if (!trimmed && isContextOverflowFailure(first.error)) {
        const shorter = await input.shrink?.(messages);
        if (shorter) {
          trimmed = true;
          messages = shorter;
          continue;
        }
      }
      const what = describeModelFailure(first.error, lastSpec);
      input.logger?.warn({ persona: persona.id, err: { message: (first.error as Error)?.message ?? String(first.error) } }, `${persona.id}'s model failed: ${what}`);
      const hint = isContextOverflowFailure(first.error) ? ' Start a fresh context with /new.' : ' Send your message again in a while, or configure a fallback model (models.fallback).';
      return stop('model-failed', `${who} could not answer: ${what}.${hint}`);
    }
    const answer = first.answer;
    const spec = answeredBy(answer) ?? 'the model';

    if (isEmptyAnswer(answer)) {
      emptyTries += 1;
      if (emptyTries < 2) continue;
      return stop('model-empty', `${who} could not answer: ${spec} answered with nothing, twice. Send your message again, or give ${persona.id} another model.`);
    }

    const cutOff = isCutOff(answer);
    if (!answer.tool_calls?.length && !answer.invalid_tool_calls?.length) {
      if (!cutOff) return { messages: [answer], calls: [], again: false, repairs: 0 };
      return { messages: [await continued(answer, spec)], calls: [], again: false, repairs: 0 };
    }

    const checked = await checkToolCalls(answer, await agent.tools(), { cutOff });
    if (!checked.rejected.length) return { messages: [checked.answer], calls: checked.valid, again: false, repairs: 0 };
    const repairs = input.repairs + 1;
    if (repairs > maxRepairs) {
      // Every call must have its result before the conversation can go on, the ones not run too.
      const notRun = checked.valid.map(
        (c) =>
          new ToolMessage({
            content: 'Not run: the turn was stopped after repeated malformed tool calls.',
            tool_call_id: c.id!,
            name: c.name,
            status: 'error',
            additional_kwargs: { [REPAIR_MARK]: true },
          }),
      );
      return stop(
        'model-invalid-calls',
        `${who} could not produce a valid tool call: ${spec} got it wrong ${repairs} times in a row (last: ${checked.problems[0]}). Try rephrasing, or give ${persona.id} a model that handles tools better.`,
        [checked.answer, ...checked.rejected, ...notRun],
      );
    }
    return { messages: [checked.answer, ...checked.rejected], calls: checked.valid, again: checked.valid.length === 0, repairs };
  }

  /** A cut-off answer continued once; still cut off (or the continuation failed), it says so. */
  async function continued(answer: AIMessage, spec: string): Promise<AIMessage> {
    const head = answerText(answer);
    const more = await call([...messages, new AIMessage({ content: head }), new HumanMessage({ content: CONTINUE_PROMPT })]);
    const tail = more.answer && !more.answer.tool_calls?.length ? answerText(more.answer) : '';
    const complete = !!more.answer && !isCutOff(more.answer) && !!tail.trim();
    const text = `${head}${tail}${complete ? '' : `\n\n(This answer was cut off: ${spec} reached its output limit.)`}`;
    return new AIMessage({ id: answer.id, name: answer.name, content: text, response_metadata: answer.response_metadata, usage_metadata: answer.usage_metadata });
  }
}
