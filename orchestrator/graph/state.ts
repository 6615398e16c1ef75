import { Annotation, MessagesAnnotation } from '@langchain/langgraph';
import { FRESH_CONTEXT, type ThreadContext } from './context.js';

/** A delegation in flight: written by the handoff tool, read by the handoff gate. */
export interface HandoffRequest {
  from: string;
  to: string;
  message: string;
  toolCallId: string;
}

/** What one turn answers: the inbound messages handed to the graph together. */
export interface TurnInfo {
  inboundIds: string[];
  platform: string;
  threadId: string;
  /** The human who wrote the (last) message: recorded as the requester of work. */
  requestedBy: string;
}

/**
 * A thread's TurnInfo as its checkpoint holds it. Checkpoints written before the platform field
 * was renamed say `channel`: a thread paused then (waiting for an approval) still answers on
 * the right platform after the upgrade.
 */
export function turnInfo(turn: TurnInfo | null | undefined): TurnInfo | null {
  if (!turn) return null;
  if (typeof turn.platform === 'string') return turn;
  const legacy = (turn as { channel?: unknown }).channel;
  return { ...turn, platform: typeof legacy === 'string' ? legacy : turn.threadId.split(':')[0]! };
}

/**
 * A persona of the turn could not answer (its model failed, its budget was spent): what the chat
 * was told, with the turn's first inbound message, so a later turn does not read it as its own.
 */
export interface TurnFailure {
  inbound: string | null;
  text: string;
}

/** The failure of `turn`, if the state's failure is that turn's. */
export function failureOf(failure: TurnFailure | null | undefined, turn: TurnInfo | null): string | null {
  if (!failure || !turn) return null;
  return failure.inbound === (turn.inboundIds[0] ?? null) ? failure.text : null;
}

const replace = <T>(initial: () => T) => Annotation<T>({ reducer: (_old, value) => value, default: initial });

/**
 * The team graph's state, one per thread (checkpointed by thread id). `messages` is the shared
 * transcript every persona sees (other personas' words reach a persona as quoted user messages,
 * see foreign-messages.ts); the rest steers the turn.
 */
export const TeamState = Annotation.Root({
  ...MessagesAnnotation.spec,
  /** The persona a new turn starts with (the graph goes straight to it); the rest wait in `queue`. */
  start: replace<string | null>(() => null),
  /** Personas still to answer this turn, in order. */
  queue: replace<string[]>(() => []),
  /** Persona turns taken for the current inbound batch (the loop guard counts them). */
  turns: replace<number>(() => 0),
  /** Messages before this index have been posted (or were never to be posted). */
  cursor: replace<number>(() => 0),
  handoff: replace<HandoffRequest | null>(() => null),
  /** Answers in a row whose tool calls were malformed and sent back for repair (graph/model-turn.ts). */
  repairs: replace<number>(() => 0),
  turn: replace<TurnInfo | null>(() => null),
  /** The turn ended without an answer from a persona it addressed (see TurnFailure); how its messages are marked. */
  failure: replace<TurnFailure | null>(() => null),
  /** What of the transcript models are sent: where /new started the context, the rolling summary (graph/context.ts). */
  context: replace<ThreadContext>(() => FRESH_CONTEXT),
});

export type TeamStateValue = typeof TeamState.State;
