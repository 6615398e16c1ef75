import { z } from 'zod';
import { boolean, httpUrl, integer, nonNegative, port, positiveInt, postgresUrl, redisUrl, text } from './coerce.js';
import { bindingChannelSchema, channelsSchema, humanSchema, webhookBodyKbSchema } from './platforms.js';
import { mcpSchema } from './mcp.js';
import { policySchema } from './policy.js';
import { infraCheckSchema, intervalSchema, schedulesSchema } from './schedules.js';

/**
 * The schema of pantheon.yaml. Every object is strict: an unknown key is an error, so a
 * typo (`chanels:`) is reported instead of silently ignored. Defaults live here, once.
 */

/** `provider:model`, e.g. `anthropic:claude-sonnet-4-5` or `openai:gpt-4.1-mini`. */
export const modelNameSchema = z.string().regex(/^[A-Za-z0-9_.-]+:\S.*$/, 'expected "provider:model", e.g. "anthropic:claude-sonnet-4-5"');

/**
 * How much a caller can make the process hold. Webhook bodies are read before anyone knows who
 * sent them (the signature covers the body), so each route has its own limit and all of them
 * share one budget; SSE streams are counted per credential and for the process.
 */
const httpLimitsSchema = z
  .strictObject({
    /** Largest body of each signed webhook route (KB); past it, 413 before the body is read. Defaults: each platform's (its `platform.ts`). */
    webhookBodyKb: z.lazy(webhookBodyKbSchema).prefault({}),
    /** Webhook bodies held at once, across every route, before their signature is checked (MB); past it, 503. */
    unverifiedBodyBudgetMb: positiveInt().default(64),
    /** Largest `POST /api/memory/import` (MB); it is streamed through a temporary file, never held whole. */
    memoryImportMb: positiveInt().default(512),
    /** Open chat streams (`GET /api/chat/:c/stream`) one credential may hold; past it, 429. */
    streamsPerCredential: positiveInt().default(64),
    /** Open chat streams in the whole process; past it, 429. */
    streamsTotal: positiveInt().default(1024),
  })
  .superRefine((limits, ctx) => {
    // A body is admitted only if its size fits in the budget: a budget smaller than a route's limit would refuse its large bodies forever.
    const largest = (Object.entries(limits.webhookBodyKb) as Array<[string, number]>).sort((a, b) => b[1] - a[1])[0];
    if (largest && limits.unverifiedBodyBudgetMb * 1024 < largest[1]) {
      const [platform, largestKb] = largest;
      ctx.addIssue({
        code: 'custom',
        path: ['unverifiedBodyBudgetMb'],
        message: `must hold at least one body of the largest webhook limit (webhookBodyKb.${platform}: ${largestKb} KB), or such bodies are always refused; raise it to ${Math.ceil(largestKb / 1024)} or lower webhookBodyKb.${platform}`,
      });
    }
    if (limits.streamsPerCredential > limits.streamsTotal) {
      ctx.addIssue({ code: 'custom', path: ['streamsPerCredential'], message: `must be at most streamsTotal (${limits.streamsTotal})` });
    }
  });

const serverSchema = z.strictObject({
  port: port(0).default(3000),
  /** Bind address. Unset: 127.0.0.1, whether or not a console token is set. */
  host: text().optional(),
  /** Host header names the server answers to besides loopback, IP addresses and `host` (`*`: any). */
  allowedHosts: z.array(text()).default([]),
  bodyLimitBytes: positiveInt().default(262144),
  limits: httpLimitsSchema.prefault({}),
});

const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic']),
  baseUrl: httpUrl().optional(),
  apiKey: text().optional(),
});

const pricingSchema = z.strictObject({
  inputPerMTok: nonNegative(),
  outputPerMTok: nonNegative(),
});

const modelsSchema = z.strictObject({
  default: modelNameSchema.optional(),
  fallback: z.array(modelNameSchema).optional(),
  timeoutMs: positiveInt().default(60000),
  maxRetries: integer().pipe(z.number().min(0)).default(2),
  /** Named providers, so `ollama:llama3.1` can mean an OpenAI-compatible server. */
  providers: z.record(z.string(), providerSchema).optional(),
  /** USD per million tokens by model name, for cost accounting and budgets. */
  pricing: z.record(z.string(), pricingSchema).optional(),
  /** The model that writes threads' rolling summaries; left out, each persona's own. */
  summary: modelNameSchema.optional(),
});

/** How much of a thread's history a persona's model is sent (orchestrator/graph/context.ts). */
export const contextSchema = z
  .strictObject({
    /** Tokens of history (the summary and the recent messages) per model call; past it, older turns are summarised. */
    historyTokens: positiveInt().pipe(z.number().min(1000, 'must be at least 1000 tokens')).optional(),
    /** Tokens the rolling summary may take, within historyTokens. */
    summaryTokens: positiveInt().pipe(z.number().min(100, 'must be at least 100 tokens')).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.historyTokens !== undefined && c.summaryTokens !== undefined && c.summaryTokens * 2 > c.historyTokens) {
      ctx.addIssue({ code: 'custom', path: ['summaryTokens'], message: `must be at most half of historyTokens (${c.historyTokens})` });
    }
  });

const bindingSchema = z.strictObject({
  /** A thread of a registered platform, `<platform>:<channel>`. */
  channel: z.lazy(bindingChannelSchema),
  persona: text(),
});

const githubSchema = z.strictObject({
  apiUrl: httpUrl().default('https://api.github.com'),
  webhookSecret: text().optional(),
  /** Throttle writes and retry rate limits/5xx (GitHub's guidance). Off only for tests against a fake. */
  throttle: boolean().default(true),
  /** Poll each persona's notifications instead of (or besides) webhooks. */
  polling: z
    .strictObject({
      enabled: boolean().default(false),
      intervalSeconds: z.coerce.number().positive().default(60),
    })
    .prefault({}),
  /** Authenticate as a GitHub App installation instead of per-persona tokens (optional). */
  app: z
    .strictObject({
      appId: z.union([integer(), text()]),
      privateKey: text(),
      installationId: integer(),
    })
    .optional(),
  /** How long a collaborator-permission answer is trusted (seconds). */
  permissionCacheSeconds: positiveInt().default(300),
});

const hostSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected letters, digits, ".", "_" or "-"'),
  address: text(),
  port: port().default(22),
  user: text(),
  /** Path to a private key file; `~` and relative paths are resolved at load time. */
  privateKey: text().optional(),
  /** Name of the environment variable holding the SSH password (never the password itself). */
  passwordEnv: text().optional(),
  /** Use the SSH agent: `true` for $SSH_AUTH_SOCK, or a socket path. */
  agent: z.union([boolean(), text()]).optional(),
  /** Commands that run without approval (`allow`), are refused (`deny`), and the risk of the rest. */
  policy: z
    .strictObject({
      allow: z.array(text()).default([]),
      deny: z.array(text()).default([]),
      risk: z.enum(['read', 'write', 'destructive', 'infra']).default('infra'),
    })
    .optional(),
});

const infraSchema = z.strictObject({
  /** OpenSSH known_hosts file; unknown or changed host keys are refused. */
  knownHosts: text().optional(),
  hosts: z.array(hostSchema).default([]),
  /** Named, reviewed sequences of commands (tools/infra/runbooks.ts). */
  runbooks: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected letters, digits, ".", "_" or "-"'),
        description: text().optional(),
        host: text().optional(),
        steps: z
          .array(
            z.strictObject({
              name: text(),
              run: text(),
              host: text().optional(),
              /** Default: decided by the host's policy (read-only commands do not ask). */
              mutating: boolean().optional(),
              idempotent: boolean().default(false),
              timeoutSeconds: positiveInt().optional(),
            }),
          )
          .min(1),
      }),
    )
    .default([]),
  /**
   * Deprecated: checks on an interval, now `schedules:` entries with `check:` (core/config/schedules.ts).
   * Still read: each becomes a schedule of the same name, `every` and thread, with a notice at start.
   */
  schedule: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected letters, digits, ".", "_" or "-"'),
        every: intervalSchema(),
        check: infraCheckSchema,
        channel: text(),
        resolved: boolean().default(true),
      }),
    )
    .default([]),
  /** Defaults of infra jobs (tools/infra/jobs). */
  jobs: z
    .strictObject({
      timeoutSeconds: positiveInt().default(600),
      /** How long a tool waits for its job before answering "still running". */
      waitSeconds: nonNegative().default(10),
      concurrency: positiveInt().default(8),
      /** Tries after the first, for jobs marked idempotent. */
      retries: integer().pipe(z.number().min(0)).default(2),
      maxLogLines: positiveInt().default(10000),
      progressIntervalMs: positiveInt().default(1000),
      /** A running job whose worker has not reported for this long is treated as orphaned. */
      staleAfterSeconds: positiveInt().default(30),
    })
    .prefault({}),
  /**
   * Targets that `http_probe`, `tls_expiry` and scheduled http/tls checks may reach although they
   * are Pantheon's own host, loopback, link-local or a cloud metadata address: host names,
   * addresses, `host:port` or CIDR ranges. Everything else of that kind is refused; private
   * networks (where staging servers live) are allowed.
   */
  probeAllowlist: z.array(text()).default([]),
  /** SSH connections: idle and maximum age before they are closed and replaced. */
  ssh: z
    .strictObject({
      keepaliveSeconds: positiveInt().default(15),
      maxAgeSeconds: positiveInt().default(3600),
      idleSeconds: positiveInt().default(300),
      connectTimeoutSeconds: positiveInt().default(15),
    })
    .prefault({}),
});

/** What a command a persona runs may use (tools/sandbox). */
export const sandboxLimitsSchema = z.strictObject({
  /** Memory of everything the command starts, together (MB). */
  memoryMb: positiveInt().default(2048),
  /** CPU time of each process (seconds). */
  cpuSeconds: positiveInt().default(900),
  /** Processes and threads at once. */
  processes: positiveInt().default(512),
  /** Output read from the command (MB); past it the command is stopped. */
  outputMb: positiveInt().default(16),
  /** The private /tmp (MB). */
  tmpMb: positiveInt().default(512),
});

export const SANDBOX_BACKENDS = ['auto', 'bubblewrap', 'docker', 'podman', 'none'] as const;
export const SANDBOX_NETWORKS = ['egress', 'none'] as const;

/**
 * How commands personas run on Pantheon's host are contained (docs/security.md). `auto` takes
 * bubblewrap where it works; with no usable backend, commands are refused. `none` runs them
 * unsandboxed and only with an approver's yes, each time.
 */
const sandboxSchema = z.strictObject({
  backend: z.enum(SANDBOX_BACKENDS).default('auto'),
  /** `egress`: the outside world, never the host's loopback, its own addresses or link-local (metadata). */
  network: z.enum(SANDBOX_NETWORKS).default('egress'),
  /** The image commands run in with `docker` or `podman`. */
  image: text().default('node:20-bookworm'),
  /** Further networks commands may never reach (CIDR), e.g. your office LAN. */
  denyNetworks: z.array(text()).default([]),
  /** Further host paths visible read-only inside the sandbox (e.g. /opt/toolchains). */
  readOnlyPaths: z.array(text()).default([]),
  /**
   * Variables every command gets besides PATH, HOME, LANG, CI and TMPDIR, e.g. a registry mirror or
   * NODE_EXTRA_CA_CERTS behind a TLS-inspecting proxy. Repository code reads them: never secrets.
   */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.string()).default({}),
  limits: sandboxLimitsSchema.prefault({}),
});

/** Days a kind of record is kept, or `keep` (never removed). */
const keptDays = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== 'keep' && /^\s*[0-9.]+\s*$/.test(v) ? Number(v) : v),
    z.union([z.literal('keep'), z.number().nonnegative()], { error: 'expected a number of days (0 or more) or keep' }),
  );

/** What `pantheon prune` and the server's periodic pruning remove (orchestrator/retention.ts). */
const retentionSchema = z.strictObject({
  /** Audit entries older than this many days; `keep` (the default): never. */
  auditDays: keptDays().default('keep'),
  /** The stored messages and runs of a thread whose work items all ended this many days ago. */
  transcriptDays: keptDays().default(90),
  /** The log lines of infra jobs that finished this many days ago (the job's record stays). */
  jobLogDays: keptDays().default(30),
  /** How often the server prunes (one replica at a time). */
  intervalMinutes: positiveInt().default(60),
});

/** Persona workspaces: how long they are kept and how much disk each may use. */
const workspacesSchema = z.strictObject({
  /** Days after a workspace's work item ends (or it was last used) before it is removed. */
  retentionDays: nonNegative().default(7),
  /** Disk one workspace may use, its checkout and its private HOME together (MB). */
  quotaMb: positiveInt().default(4096),
  /** Files and directories one workspace may hold, checkout and HOME together (inodes fill a disk too). */
  quotaFiles: positiveInt().default(1_000_000),
});

export const pantheonConfigSchema = z.strictObject({
  server: serverSchema.prefault({}),
  /** Where embedded data lives (PGlite, workspaces); absolute after loading. */
  dataDir: text().default('.pantheon'),
  database: z
    .strictObject({
      url: postgresUrl().optional(),
      /** The embedded database's shared buffers: `auto` sizes them to its data at each start. */
      sharedBuffers: text()
        .regex(/^(auto|[1-9][0-9]*(MB|GB))$/, 'use auto, or a size such as 256MB or 1GB')
        .default('auto'),
    })
    .prefault({}),
  redis: z
    .strictObject({
      url: redisUrl().optional(),
      /** Key prefix of the BullMQ queues: separates installations sharing one Redis. */
      prefix: text()
        .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.' or '-'")
        .default('pantheon'),
    })
    .prefault({}),
  /**
   * Connections that must be single across replicas sharing one Postgres (a bot's socket or
   * poller, GitHub polling, summaries) are each owned through a lease: renewed every quarter of
   * `ttlSeconds`, taken over by another replica once it has not been renewed for `ttlSeconds`.
   */
  leases: z
    .strictObject({
      ttlSeconds: integer().pipe(z.number().min(2, 'use at least 2 seconds').max(120, 'use at most 120 seconds (a dead owner is replaced after this long)')).default(10),
    })
    .prefault({}),
  /** Persona files; default `personas/` next to the config file. Absolute after loading. */
  personasDir: text().optional(),
  models: modelsSchema.prefault({}),
  /** Who people are on each platform (each platform's field: its `platform.ts`), and who may approve. */
  humans: z.array(z.lazy(humanSchema)).default([]),
  bindings: z.array(bindingSchema).default([]),
  policy: policySchema.prefault({}),
  github: githubSchema.prefault({}),
  /** Each platform's own section (its `platform.ts`). */
  channels: z.lazy(channelsSchema).prefault({}),
  infra: infraSchema.prefault({}),
  sandbox: sandboxSchema.prefault({}),
  /** MCP servers personas may use as `mcp:<name>` tool groups (docs/mcp.md). */
  mcp: mcpSchema.prefault({}),
  workspaces: workspacesSchema.prefault({}),
  /** The API token and the web console's sign-in (web/, docs/api.md). */
  console: z
    .strictObject({
      token: text().optional(),
      /** The URL people reach the console at (behind a proxy, `https://…`): login links use it, and its https makes the cookie Secure. */
      publicUrl: httpUrl().optional(),
      /** How long a login link can be used (once). */
      loginLinkMinutes: z.coerce.number().positive().max(1440, 'use at most 1440 (a day): a link is a password in a chat message').default(15),
      /** How long a console session lasts after signing in. */
      sessionHours: positiveInt().pipe(z.number().max(720, 'use at most 720 (30 days)')).default(12),
    })
    .prefault({}),
  /** Pacing of posts per platform (defaults: each platform's published limits; orchestrator/rate-limiter.ts). */
  outbox: z
    .strictObject({
      rateLimits: z
        .record(
          z.string(),
          z.strictObject({
            perThread: z.coerce.number().positive().optional(),
            perPlatform: z.coerce.number().positive().optional(),
            burst: positiveInt().optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
  memory: z
    .strictObject({
      /** Which embedder turns memories into vectors; changing it needs `pantheon memory reembed`. */
      embedder: z
        .strictObject({
          provider: z.enum(['lexical', 'openai']).default('lexical'),
          model: text().optional(),
          baseUrl: httpUrl().optional(),
          dimension: positiveInt().optional(),
        })
        .prefault({}),
      /** Tokens of recalled memories added to a persona's context before a run. */
      recallTokenBudget: positiveInt().default(800),
      /** A conversation quiet this long (minutes) is summarised into memory. */
      summarizeAfterIdleMinutes: z.coerce.number().positive().default(30),
      /** Memories unused this long (days) are archived (kept, not recalled). */
      archiveAfterDays: positiveInt().default(90),
    })
    .prefault({}),
  retention: retentionSchema.prefault({}),
  /** Work on time: persona turns, infra checks and runbooks by cron (orchestrator/schedules/). */
  schedules: schedulesSchema.default([]),
  orchestrator: z
    .strictObject({
      defaultPersona: text().default('athena'),
      /** Handoffs allowed in one thread within an hour before the team stops and says so. */
      maxHandoffsPerHour: positiveInt().default(10),
      /** Persona turns (a persona answering once) allowed for one inbound message. */
      maxTurnsPerMessage: positiveInt().default(8),
      /** A persona still working after this long posts one progress message, edited as it goes (where the platform can edit). */
      progressAfterSeconds: z.coerce.number().nonnegative().default(15),
      /** The history budget of every persona (a persona's own `context:` overrides it). */
      context: contextSchema.prefault({}),
      /** The team's daily cap on model tokens and US dollars, all personas together (each persona's `budget:` applies too). */
      budget: z.strictObject({ dailyTokens: positiveInt().optional(), dailyUsd: nonNegative().optional() }).optional(),
    })
    .prefault({}),
});

/** pantheon.yaml after validation and defaults. */
export type PantheonConfig = z.output<typeof pantheonConfigSchema>;
export type HumanConfig = PantheonConfig['humans'][number];
export type GithubConfig = PantheonConfig['github'];
export type InfraConfig = PantheonConfig['infra'];
export type InfraHostConfig = InfraConfig['hosts'][number];
export type SandboxConfig = PantheonConfig['sandbox'];
export type SandboxLimitsConfig = SandboxConfig['limits'];
export type WorkspacesConfig = PantheonConfig['workspaces'];
export type RetentionConfig = PantheonConfig['retention'];
