import { z } from 'zod';
import { notifyPreferencesSchema, type NotifyPreferences } from './notify.js';
import { boolean, positiveInt } from './coerce.js';

/**
 * Pacing of posts to one platform (orchestrator/rate-limiter.ts): a token bucket per thread and
 * one for the platform as a whole. Overridden per platform by `outbox.rateLimits` in pantheon.yaml.
 */
export interface RateLimit {
  /** Posts per second to one thread (a channel or chat); bursts up to `burst`. */
  perThread?: number;
  /** Posts per second to the platform as a whole. */
  perPlatform?: number;
  /** How many posts may go at once before pacing starts (default: one second's worth, at least 1). */
  burst?: number;
}

/**
 * A chat platform as the rest of Pantheon knows it before any of its code (or SDK) is loaded:
 * its name and thread-id prefix, its part of the configuration and its defaults. Each platform
 * folder declares one (`platforms/<name>/platform.ts`); the module list registers them all
 * (`registerPlatforms`, cli/platforms.ts), and pantheon.yaml and the persona files are checked
 * against what is registered: `channels.<name>`, a persona's `handles.<name>`, `humans[].<name>`,
 * `server.limits.webhookBodyKb.<name>`. Nothing else lists the platforms.
 *
 * Each platform also adds itself to `Platforms` (below) by declaration merging, so that the
 * sections it contributes are typed where they are read (`config.channels.telegram.token`).
 */
export interface PlatformDescriptor {
  /** The adapter's name: `Envelope.platform`, the outbox's key, the config keys above. */
  readonly name: string;
  /** Its thread ids read `<threadPrefix>:...` (bindings, `post_message` targets). */
  readonly threadPrefix: string;
  /** Its `channels.<name>` section (a strict object); absent when it has none. */
  readonly section?: z.ZodType;
  /** A persona's account on the platform, `handles.<name>` in its file. */
  readonly handle?: z.ZodType;
  /** The token a persona's tools act with on the platform, from its handle. */
  readonly handleToken?: (handle: never) => string | undefined;
  /** A person's user id on the platform, `humans[].<name>`. */
  readonly humanId?: z.ZodType;
  /** User ids are compared without case (GitHub logins). */
  readonly userIdsIgnoreCase?: boolean;
  /** Default of `server.limits.webhookBodyKb.<name>`, the largest body its webhook route takes (KB). */
  readonly webhookBodyKb?: number;
  /** Its published posting limits: the defaults of `outbox.rateLimits.<name>`. */
  readonly rateLimit?: RateLimit;
  /** Messages nobody is addressed in are a conversation with the orchestrator itself (local chat, Telegram). */
  readonly orchestratorChat?: boolean;
}

/**
 * Every platform by name, each added by its own `platform.ts`:
 * `declare module '../../core/config/platforms.js' { interface Platforms { telegram: typeof telegramPlatform } }`.
 * Exported for that merging only (nothing imports it by name): the tag keeps knip from reporting it.
 * @public
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each platform's declaration merging
export interface Platforms {}

type PlatformName = keyof Platforms & string;
type Contributing<K extends string> = { [N in PlatformName]: Platforms[N] extends { readonly [k in K]: z.ZodType } ? N : never }[PlatformName];
type Output<N extends PlatformName, K extends string> = Platforms[N] extends { readonly [k in K]: infer S extends z.ZodType } ? z.output<S> : never;

/** `channels:` of pantheon.yaml: each platform's own section, when configured. */
export type PlatformsConfig = { [N in Contributing<'section'>]?: Output<N, 'section'> };
/** `handles:` of a persona file: its account on each platform. */
export type PersonaHandles = { [N in Contributing<'handle'>]?: Output<N, 'handle'> };
/** The platform fields of one entry of `humans:`: who the person is on each platform. */
export type HumanPlatformIds = { [N in Contributing<'humanId'>]?: Output<N, 'humanId'> };
/** `server.limits.webhookBodyKb`: one limit (KB) per platform with a webhook route. */
export type WebhookBodyLimits = { [N in PlatformName as Platforms[N] extends { readonly webhookBodyKb: number } ? N : never]: number };

const registered = new Map<string, PlatformDescriptor>();
let generation = 0;

/**
 * Makes platforms known, in the order given (which is the order of keys in "allowed here"
 * messages). Registering the same descriptor again does nothing; two different platforms with one
 * name are a programming error.
 */
export function registerPlatforms(platforms: Iterable<PlatformDescriptor>): void {
  for (const platform of platforms) {
    const known = registered.get(platform.name);
    if (known === platform) continue;
    if (known) throw new Error(`two platforms are named "${platform.name}"`);
    registered.set(platform.name, platform);
    generation++;
  }
}

/** The registered platforms, in registration order. */
export function registeredPlatforms(): readonly PlatformDescriptor[] {
  return [...registered.values()];
}

/** Each platform's published posting limits, by name: the defaults of `outbox.rateLimits`. */
export function platformRateLimits(): Record<string, RateLimit> {
  return Object.fromEntries(registeredPlatforms().flatMap((p) => (p.rateLimit ? [[p.name, p.rateLimit]] : [])));
}

/** A schema built from the registered platforms, built again only when another one registers. */
function composed<T>(build: (platforms: readonly PlatformDescriptor[]) => T): () => T {
  let builtAt = -1;
  let value: T;
  return () => {
    if (builtAt !== generation) {
      value = build(registeredPlatforms());
      builtAt = generation;
    }
    return value;
  };
}

const contributions = (platforms: readonly PlatformDescriptor[], key: 'section' | 'handle' | 'humanId') => platforms.flatMap((p) => (p[key] ? [[p.name, p[key]!.optional()] as const] : []));

/** `channels:`: every platform's section, each optional. */
export const channelsSchema = composed((platforms) => z.strictObject(Object.fromEntries(contributions(platforms, 'section')))) as () => z.ZodType<PlatformsConfig>;

/** A persona's `handles:`: one account per platform, each optional. */
export const handlesSchema = composed((platforms) => z.strictObject(Object.fromEntries(contributions(platforms, 'handle')))) as () => z.ZodType<PersonaHandles>;

const humanIdPattern = z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected letters, digits, ".", "_" or "-"');

/** One entry of `humans:`: an id, the person's user id on each platform, and whether they approve. */
export const humanSchema = composed((platforms) =>
  z.strictObject({
    id: humanIdPattern,
    ...Object.fromEntries(contributions(platforms, 'humanId')),
    /** May answer `approve <id>` / `deny <id>`. */
    approver: boolean().default(false),
    /** Where and when the notifier reaches them, and with what (core/config/notify.ts). */
    notify: notifyPreferencesSchema
      .superRefine((prefs, ctx) => {
        const reachable = [...new Set(['local', ...platforms.filter((p) => p.humanId).map((p) => p.name)])];
        prefs.via?.forEach((via, i) => {
          if (!reachable.includes(via)) ctx.addIssue({ code: 'custom', path: ['via', i], message: `expected a platform a person can be reached on: ${reachable.join(', ')}` });
        });
      })
      .optional(),
  }),
) as () => z.ZodType<{ id: string; approver: boolean; notify?: NotifyPreferences } & HumanPlatformIds>;

/**
 * `server.limits.webhookBodyKb`: each webhook route's limit, its platform's default unless set.
 * Listed largest first: the largest is the one the unverified-body budget must hold.
 */
export const webhookBodyKbSchema = composed((platforms) =>
  z.strictObject(
    Object.fromEntries(
      platforms
        .filter((p) => p.webhookBodyKb !== undefined)
        .sort((a, b) => b.webhookBodyKb! - a.webhookBodyKb!)
        .map((p) => [p.name, positiveInt().default(p.webhookBodyKb!)]),
    ),
  ),
) as unknown as () => z.ZodType<WebhookBodyLimits>;

/** A binding's `channel:` names a thread of a registered platform: `<platform>:<channel>`. */
export const bindingChannelSchema = composed((platforms) => {
  const prefixes = platforms.map((p) => p.threadPrefix);
  const pattern = prefixes.length ? new RegExp(`^(${prefixes.map(escapeRegExp).join('|')}):.+`) : /(?!)/;
  return z.string().regex(pattern, `expected "<platform>:<channel>" with platform one of ${prefixes.join('|')}, e.g. "mattermost:town-square"`);
}) as () => z.ZodType<string>;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
