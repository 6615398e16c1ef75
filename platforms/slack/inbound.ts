import { App, SocketModeReceiver, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { InboundRedelivery, IngressSink } from '../../core/chat/types.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import { registerSecret } from '../../core/log.js';
import type { SlackAdapter } from './adapter.js';
import { slackLogger, type SlackApi, type SlackIdentity } from './api.js';
import { parseSlackPayload, payloadAuthor } from './parse.js';

/** A persona's Slack app, as configured in its `handles.slack`. */
export interface SlackPersonaApp {
  persona: string;
  botToken: string;
  /** `xapp-…`, needed for Socket Mode. */
  appToken?: string;
}

export interface SlackInboundOptions {
  mode: 'socket' | 'http';
  apps: SlackPersonaApp[];
  apis: ReadonlyMap<string, SlackApi>;
  apiUrl?: string;
  ingress: IngressSink;
  adapter: SlackAdapter;
  logger: Logger;
  /** Counts payloads the ingress could not store (`pantheon_inbound_failures_total`). */
  metrics?: Pick<Metrics, 'inboundFailures'>;
  /** How long a display-name lookup may delay an inbound message. */
  nameLookupMs?: number;
  /** How long start-up waits for a socket before carrying on (it keeps connecting meanwhile). */
  connectTimeoutMs?: number;
}

type Json = Record<string, any>;

/** HTTP mode: Bolt gets its payloads from our own verified routes, not from a server of its own. */
class RouteReceiver implements Receiver {
  app?: App;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/**
 * Socket Mode, acknowledged by us. Bolt acknowledges an Events API envelope before any middleware
 * runs, which would tell Slack "received" before the event is stored; so Bolt is handed a no-op
 * and the envelope's own ack is kept (by payload) for the middleware, which calls it once the
 * event is stored. An envelope Bolt decided about without reaching the middleware is acknowledged
 * as Bolt would have.
 */
class StoreFirstSocketReceiver implements Receiver {
  private readonly inner: SocketModeReceiver;

  constructor(
    opts: { appToken: string; apiUrl?: string; logger: unknown },
    private readonly acks: WeakMap<object, () => Promise<void>>,
  ) {
    this.inner = new SocketModeReceiver({ appToken: opts.appToken, logger: opts.logger as never, installerOptions: { clientOptions: { slackApiUrl: opts.apiUrl } } });
  }

  init(app: App): void {
    this.inner.init({
      processEvent: async (event: ReceiverEvent) => {
        this.acks.set(event.body, event.ack as () => Promise<void>);
        try {
          await app.processEvent({ ...event, ack: async () => {} });
        } finally {
          const unclaimed = this.acks.get(event.body);
          this.acks.delete(event.body);
          if (unclaimed) await unclaimed();
        }
      },
    } as unknown as App);
  }

  start(): Promise<unknown> {
    return this.inner.start();
  }
  stop(): Promise<unknown> {
    return this.inner.stop();
  }
}

/**
 * Everything that comes in from Slack, for every persona's app: one `@slack/bolt` App per
 * persona (a Socket Mode connection with its app token, or fed by the webhook routes), whose one
 * middleware turns each payload into an envelope for the ingress. Nothing here answers anyone.
 */
export class SlackInbound {
  /** Slack redelivers an event it got no acknowledgement for (a Socket Mode ack, a 2xx). */
  readonly redelivery: InboundRedelivery = 'platform';
  private readonly identities = new Map<string, SlackIdentity>();
  private readonly personaByBotUser = new Map<string, string>();
  /** `api_app_id` → persona, learned from event payloads (interactions do not name the bot). */
  private readonly personaByAppId = new Map<string, string>();
  private readonly bolts = new Map<string, { app: App; receiver: Receiver }>();
  private readonly names = new Map<string, Promise<string | undefined>>();
  /** Socket Mode acks not yet sent, by payload (see StoreFirstSocketReceiver). */
  private readonly acks = new WeakMap<object, () => Promise<void>>();
  private identifying: Promise<void> | undefined;

  constructor(private readonly opts: SlackInboundOptions) {}

  /** Learns each app's bot user (`auth.test`), then connects every app (Socket Mode) or waits for the routes (HTTP). */
  async start(): Promise<void> {
    await this.identify();
    for (const app of this.opts.apps) {
      const bolt = this.prepare(app);
      if (bolt) this.bolts.set(app.persona, bolt);
    }
    if (this.opts.mode === 'socket') await Promise.all([...this.bolts].map(([persona, { app }]) => this.connect(persona, app)));
  }

  /**
   * Socket Mode, one persona's app (where this process owns its lease): every app's bot user is
   * learned first (a mention of any of them must read as that persona), then this app connects.
   */
  async listen(persona: string): Promise<void> {
    await this.identify();
    const app = this.opts.apps.find((a) => a.persona === persona);
    const bolt = app && !this.bolts.has(persona) ? this.prepare(app) : undefined;
    if (!bolt) return;
    this.bolts.set(persona, bolt);
    await this.connect(persona, bolt.app);
  }

  /** Closes one persona's Socket Mode connection (its lease was lost or given up). */
  async unlisten(persona: string): Promise<void> {
    const bolt = this.bolts.get(persona);
    this.bolts.delete(persona);
    await bolt?.app.stop().catch(() => {});
  }

  async stop(): Promise<void> {
    await Promise.all([...this.bolts.values()].map(({ app }) => app.stop().catch(() => {})));
    this.bolts.clear();
  }

  /** `auth.test` for every app not known yet; concurrent callers share one round. */
  private identify(): Promise<void> {
    this.identifying ??= Promise.all(
      this.opts.apps
        .filter(({ persona }) => !this.identities.has(persona))
        .map(async ({ persona }) => {
          try {
            const identity = await this.opts.apis.get(persona)!.authTest();
            this.identities.set(persona, identity);
            this.personaByBotUser.set(identity.botUserId, persona);
          } catch (err) {
            this.opts.logger.error(
              { persona, err: (err as Error).message },
              `slack: auth.test failed for ${persona}'s bot token; check handles.slack.botToken in its persona file. Its app takes no messages.`,
            );
          }
        }),
    ).then(() => {
      this.identifying = undefined;
    });
    return this.identifying;
  }

  /** A persona's Bolt app, once its bot is known (and, in Socket Mode, it has an app token). */
  private prepare(app: SlackPersonaApp): { app: App; receiver: Receiver } | undefined {
    const identity = this.identities.get(app.persona);
    if (!identity) return undefined;
    if (this.opts.mode === 'socket' && !app.appToken) {
      this.opts.logger.warn({ persona: app.persona }, `slack: ${app.persona} has no handles.slack.appToken, so its app posts but cannot listen in Socket Mode`);
      return undefined;
    }
    return this.boltFor(app, identity);
  }

  /**
   * HTTP mode: a payload whose signature was verified. Events name the receiving bot in
   * `authorizations`; interactions only name the app, so any app can take them (a click is a
   * click, whoever drew the button).
   */
  async dispatch(body: Json, retry: { num?: number; reason?: string } = {}): Promise<void> {
    const botUser: string | undefined = body.authorizations?.[0]?.user_id;
    let persona = botUser ? this.personaByBotUser.get(botUser) : undefined;
    if (persona && body.api_app_id) this.personaByAppId.set(body.api_app_id, persona);
    persona ??= this.personaByAppId.get(body.api_app_id) ?? [...this.bolts.keys()][0];
    const bolt = persona ? this.bolts.get(persona) : undefined;
    if (!bolt) throw new Error('no Slack app is ready to take this payload');
    await bolt.app.processEvent({ body, ack: async () => {}, retryNum: retry.num, retryReason: retry.reason } as ReceiverEvent);
  }

  private boltFor(cfg: SlackPersonaApp, identity: SlackIdentity): { app: App; receiver: Receiver } {
    registerSecret(cfg.botToken);
    registerSecret(cfg.appToken);
    const logger = slackLogger(this.opts.logger, { slack: cfg.persona });
    const receiver = this.opts.mode === 'http' ? new RouteReceiver() : new StoreFirstSocketReceiver({ appToken: cfg.appToken!, apiUrl: this.opts.apiUrl, logger }, this.acks);
    const app = new App({
      token: cfg.botToken,
      // Known from our own auth.test: Bolt needs no call of its own.
      botId: identity.botId,
      botUserId: identity.botUserId,
      receiver,
      clientOptions: { slackApiUrl: this.opts.apiUrl },
      logger: logger as never,
      convoStore: false,
    });
    app.use(async (args) => {
      const { body, context } = args as unknown as { body: Json; context: { retryNum?: number } };
      // Socket Mode: the envelope's own ack, kept from Bolt; HTTP mode: the route answers instead.
      const ack = this.acks.get(body) ?? (args as { ack?: () => Promise<void> }).ack;
      this.acks.delete(body);
      // Stored first, acknowledged after: an event we could not store is left unacknowledged, so
      // Slack delivers it again (a redelivery of a stored one is deduped by the ingress).
      try {
        await this.take(cfg.persona, body, context.retryNum);
      } catch (err) {
        // HTTP mode: the route answers 503, so Slack retries.
        if (this.opts.mode === 'http') throw err;
        this.opts.logger.warn({ persona: cfg.persona, err: (err as Error).message }, 'slack: could not take an event in; leaving it unacknowledged so Slack redelivers it');
        return;
      }
      if (ack) await ack();
    });
    return { app, receiver };
  }

  private async connect(persona: string, app: App): Promise<void> {
    const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const started = app.start().then(
      () => true,
      (err: Error) => {
        this.opts.logger.error({ persona, err: err.message }, `slack: ${persona}'s Socket Mode connection failed; check handles.slack.appToken (xapp-…, connections:write)`);
        return true;
      },
    );
    const slow = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const done = await Promise.race([started, slow]);
    clearTimeout(timer);
    if (!done) this.opts.logger.warn({ persona }, 'slack: Socket Mode is still connecting; carrying on meanwhile');
  }

  /** One payload from one persona's app → at most one envelope in the ingress. */
  private async take(receiver: string, body: Json, retryNum?: number): Promise<void> {
    const event: Json | undefined = body?.event;
    const channel: string | undefined = event?.channel ?? body?.container?.channel_id;
    if (channel && (event?.channel_type === 'im' || channel.startsWith('D'))) this.opts.adapter.rememberChannel(channel, receiver);
    const author = payloadAuthor(body);
    const authorName = author && !this.personaByBotUser.has(author) ? await this.nameOf(receiver, author) : undefined;
    const envelope = parseSlackPayload(body, { receiver, personaByBotUser: this.personaByBotUser, authorName });
    if (!envelope) return;
    const { ingress, logger, metrics } = this.opts;
    const result = await deliverInbound(ingress, envelope, { redelivery: this.redelivery, logger, metrics });
    if (!result.ack) throw result.error!;
    if (!result.accepted && retryNum) this.opts.logger.debug({ inbound: envelope.id, retryNum }, 'slack redelivery of a message already taken');
  }

  private async nameOf(persona: string, user: string): Promise<string | undefined> {
    // Every app in a channel sees the same message: one lookup per person, whichever app asks first.
    let lookup = this.names.get(user);
    if (!lookup) {
      lookup = this.opts.apis.get(persona)?.userName(user) ?? Promise.resolve(undefined);
      this.names.set(user, lookup);
      void lookup.then((name) => {
        if (!name) this.names.delete(user);
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), this.opts.nameLookupMs ?? 1500);
    });
    const name = await Promise.race([lookup, late]);
    clearTimeout(timer);
    return name;
  }
}
