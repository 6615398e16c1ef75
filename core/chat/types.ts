/**
 * An approval request as platform-neutral data, for adapters with buttons (Slack blocks,
 * Mattermost attachments, Telegram inline keyboards, Discord components). Each adapter draws
 * it its own way; one that cannot posts `fallbackText`, which says how to answer by typing.
 * A button press answers like typing `<action.id> <approvalId>`.
 */
export interface ApprovalCard {
  approvalId: string;
  title: string;
  fields: Array<{ label: string; value: string }>;
  actions: [ApprovalCardAction & { id: 'approve' }, ApprovalCardAction & { id: 'deny' }];
  fallbackText: string;
}

interface ApprovalCardAction {
  id: 'approve' | 'deny';
  label: string;
}

/**
 * The platform adapter contract. Every platform (local, Mattermost, Slack, Discord, Telegram,
 * GitHub) turns what arrives into an `Envelope` and hands it to the ingress; everything the team
 * says goes out through the outbox, which calls the adapter's `post`. Adapters never run agents.
 */

/** One inbound message, platform-neutral. `id` is the dedupe key: the same platform message always maps to the same id. */
export interface Envelope {
  id: string;
  /** Adapter name: 'local', 'mattermost', ... */
  platform: string;
  /** Opaque, prefixed thread id (`local:{conversation}`), the key for checkpoints, locks and replies. */
  threadId: string;
  author: { id: string; name: string; isBot?: boolean };
  text: string;
  receivedAt: string;
  /** A direct message to a persona's own handle: that persona answers. */
  directTo?: string;
  /** Personas a platform event is aimed at (GitHub assignee, requested reviewer, mentioned login). */
  targets?: string[];
  /** What `bindings:` match against (e.g. `mattermost:town-square`); defaults to the thread id. */
  bindingKey?: string;
}

/** One message the team posts. `idempotencyKey` makes a retried or replayed send post once. */
export interface OutboundMessage {
  idempotencyKey: string;
  platform: string;
  threadId: string;
  role: 'agent' | 'system';
  /** The persona speaking; absent for system messages. */
  persona?: string;
  text: string;
  /** The envelope this answers, when there is one. */
  replyTo?: string;
  /**
   * Buttons to draw where the platform has them (an approval request). Adapters without buttons,
   * or that fail to draw them, post `text`, which always says how to answer by typing.
   */
  card?: ApprovalCard;
  /**
   * Edit in place instead of posting anew: the idempotency key of an earlier message in the same
   * thread (a job's progress message). Adapters with `edit` replace that message's text; others
   * post the new text once per key.
   */
  replaces?: string;
}

export interface PostResult {
  /** The platform's id of the posted message. */
  id: string;
  /** True when this key had been posted before (nothing new was posted). */
  duplicate?: boolean;
  /** A link to the posted message, where the platform gives one (a GitHub comment's URL). */
  url?: string;
}

/** The small required core every adapter implements. Optional capabilities come later as separate interfaces. */
export interface PlatformAdapter {
  readonly name: string;
  /**
   * True when `post` is itself durable and idempotent by key (the embedded chat writes to our own
   * database): the outbox then posts directly instead of recording and queueing first.
   */
  readonly durablePost?: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Posts as `message.persona` (or as the system). Must be idempotent per `idempotencyKey`. */
  post(message: OutboundMessage): Promise<PostResult>;
  encodeThreadId(parts: Record<string, string>): string;
  decodeThreadId(threadId: string): Record<string, string>;
  /** Optional: replace the text of a message this adapter posted (`PostResult.id`). */
  edit?(threadId: string, messageId: string, message: OutboundMessage): Promise<void>;
  /**
   * Optional: a thread id that reaches one person privately (a DM), from their platform user id
   * as the `humans:` registry records it. Approval requests go there to each approver.
   */
  directThreadId?(userId: string): string | undefined;
  /** Optional: show "<persona> is typing" in a thread while a run works. */
  typing?(threadId: string, persona?: string): Promise<void>;
}

/** What an adapter may ask of the ingress besides the envelope. */
export interface IngressOptions {
  /**
   * Runs once the message is durably recorded (answered even if this process dies now) and before
   * it is queued, with the envelope as recorded (its text normalised): the local chat shows the
   * message in its own store here, so the answer never comes before the question. Not run for a
   * duplicate. A failure here still queues the message, then reaches the caller.
   */
  recorded?: (envelope: Envelope) => Promise<void>;
}

/**
 * What an adapter calls when something arrives. Answers quickly: the work happens from the queue.
 * The ingress records the message (NUL removed, lone surrogates replaced, the same for every
 * platform) and queues it. `accepted` is false for our own messages and duplicates.
 */
export type IngressSink = (envelope: Envelope, opts?: IngressOptions) => Promise<{ id: string; accepted: boolean }>;

/**
 * The inbound half of the adapter contract. An adapter takes messages in by listening (a socket
 * or a poller: `start`/`stop`, in the one process that takes messages in) or by answering webhooks
 * (routes its module registers). Either way each message goes through `deliverInbound`
 * (core/chat/inbound.ts): one retry policy, the platform acknowledged only once the envelope is
 * durably stored, dedupe left to the ingress. What happens to a message the ingress could not
 * store depends on the platform, and each says which it is.
 */
export type InboundRedelivery =
  /**
   * The platform delivers again what was not acknowledged: Slack and Telegram redeliver, a
   * webhook's sender retries an error status, an HTTP client retries with the same id, a queue
   * job is retried, a read cursor that did not move is read again.
   */
  | 'platform'
  /**
   * Nothing delivers it again (a Discord gateway event): a message the ingress could not store
   * after every retry is lost, so it is logged as an error with its text and counted
   * (`pantheon_inbound_failures_total{outcome="lost"}`).
   */
  | 'none';

/** What an inbound path tells the platform, decided by `deliverInbound` for every platform alike. */
export interface InboundResult {
  /** True once the envelope is durably stored (now, or before: a redelivery): acknowledge the platform. */
  ack: boolean;
  /** The envelope id. */
  id: string;
  /** Newly stored (false: a duplicate, our own message, or not stored at all). */
  accepted: boolean;
  /** Calls made to the ingress. */
  attempts: number;
  /** The last failure, when `ack` is false. */
  error?: Error;
}
