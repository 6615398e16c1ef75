import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadPersonas } from './load-personas.js';
import type { Persona } from './persona-schema.js';
import { registeredPlatforms } from './platforms.js';
import { registerSecret } from '../log.js';
import { ConfigError, configErrorFromZod, describeSubstituted, describeValue } from './errors.js';
import { readVariable } from './interpolate.js';
import { interpolateFile } from './interpolate-file.js';
import { displayPath, readYamlFile } from './read-yaml.js';
import { pantheonConfigSchema, type PantheonConfig } from './schema.js';
import { checkTeamReferences } from './validate-team.js';

export interface LoadConfigOptions {
  /** `--config PATH`; must exist. */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `--data-dir`; wins over `dataDir:` in the file. Relative to cwd. */
  dataDir?: string;
  /** `--port`; wins over PORT and `server.port`. */
  port?: number;
}

export interface LoadedConfig {
  config: PantheonConfig;
  personas: Persona[];
  /** Absolute path of the config file read, if any. */
  configFile?: string;
  /** Where the personas came from (the built-in team's directory when it was used). */
  personasDir: string;
  /** `file`: a pantheon.yaml was read; `defaults`: none exists, everything is default. */
  source: 'file' | 'defaults';
  /** The built-in sample team is in use. */
  builtInTeam: boolean;
  /** Things worth telling the user at start-up (e.g. why the built-in team is used). */
  notices: string[];
}

const DEFAULT_FILES = ['pantheon.yaml', 'pantheon.yml'];

/**
 * Reads pantheon.yaml and the persona files once, at the edge, and returns typed values.
 *
 * The file is `opts.configPath` (`--config`), else `$PANTHEON_CONFIG`, else `pantheon.yaml`
 * in `cwd`; without any, everything is default and the built-in sample team is used.
 * Precedence for overridable values: command line > environment > file > default.
 * Relative paths in the file (dataDir, personasDir, infra key files) are relative to the
 * file's directory; after loading they are absolute.
 *
 * Throws ConfigError (message `<file>: <path>: <problem>`) for anything the user must fix.
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  if (registeredPlatforms().length === 0) {
    // Programming error: the platforms' sections would all be refused as unknown keys.
    throw new Error('no platform is registered: import the platform list (cli/platforms.ts) before loading the configuration');
  }
  const cwd = resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const notices: string[] = [];

  const configFile = findConfigFile(opts.configPath, env, cwd);
  const shown = configFile ? displayPath(configFile, cwd) : 'environment';
  const baseDir = configFile ? dirname(configFile) : cwd;

  let raw: unknown = {};
  if (configFile) {
    raw = (await readYamlFile(configFile, shown)) ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(shown, '', `expected a mapping of settings (server:, models:, ...) at the top of the file, got ${describeValue(raw)}`);
    }
  }
  const { value, emptied, sources } = interpolateFile(raw, env, shown);
  const input = applyEnvironment(value as Record<string, unknown>, env, opts, sources);

  const parsed = pantheonConfigSchema.safeParse(input);
  if (!parsed.success) throw configErrorFromZod(shown, parsed.error.issues, input, pantheonConfigSchema, { emptied, sources });
  const config = parsed.data;

  config.dataDir = opts.dataDir ? resolve(cwd, opts.dataDir) : resolve(baseDir, config.dataDir);
  resolveInfraPaths(config, baseDir);
  const moved = adoptInfraSchedule(config, shown);
  if (moved) notices.push(moved);

  let personasDir: string | undefined;
  if (config.personasDir) {
    personasDir = resolve(baseDir, config.personasDir);
    if (!existsSync(personasDir) || !statSync(personasDir).isDirectory()) {
      throw new ConfigError(shown, 'personasDir', `directory ${displayPath(personasDir, cwd)} does not exist; create it with persona files or remove personasDir to use the built-in team`);
    }
    config.personasDir = personasDir;
  } else if (configFile) {
    personasDir = join(baseDir, 'personas');
  }
  const team = await loadPersonas({ dir: personasDir, env, cwd });
  if (team.fallbackReason) notices.push(team.fallbackReason);

  checkTeamReferences(config, team.personas, shown, { defaultPersonaExplicit: hasDefaultPersona(value), personaFiles: team.files });
  registerConfigSecrets(config, team.personas);

  return {
    config,
    personas: team.personas,
    configFile,
    personasDir: team.dir,
    source: configFile ? 'file' : 'defaults',
    builtInTeam: team.builtIn,
    notices,
  };
}

function findConfigFile(configPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  for (const [given, from] of [
    [configPath, '--config'],
    [env.PANTHEON_CONFIG, 'PANTHEON_CONFIG'],
  ] as const) {
    if (!given) continue;
    const file = resolve(cwd, given);
    if (!existsSync(file)) throw new ConfigError(displayPath(file, cwd), '', `config file not found (given by ${from})`);
    return file;
  }
  return DEFAULT_FILES.map((name) => join(cwd, name)).find((file) => existsSync(file));
}

/**
 * Environment and command-line overrides, applied before validation so they are checked too.
 * Each field set from a variable is recorded in `sources`, so an error names the variable.
 */
function applyEnvironment(value: Record<string, unknown>, env: NodeJS.ProcessEnv, opts: LoadConfigOptions, sources: Map<string, string[]>): Record<string, unknown> {
  const out = { ...value };
  const section = (key: string): Record<string, unknown> => {
    const current = out[key];
    const copy = current && typeof current === 'object' && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    out[key] = copy;
    return copy;
  };
  const fromEnv = (name: string, key: string, field: string): void => {
    const found = envVariable(env, name);
    if (!found?.value) return;
    section(key)[field] = found.value;
    sources.set(`${key}.${field}`, [found.from]);
  };
  fromEnv('DATABASE_URL', 'database', 'url');
  fromEnv('REDIS_URL', 'redis', 'url');
  fromEnv('PANTHEON_QUEUE_PREFIX', 'redis', 'prefix');
  fromEnv('PANTHEON_CONSOLE_TOKEN', 'console', 'token');
  fromEnv('PANTHEON_LEASE_TTL_SECONDS', 'leases', 'ttlSeconds');
  if (opts.port !== undefined) {
    section('server').port = checkPort(opts.port, 'command line', '--port');
    sources.delete('server.port');
  } else if (env.PORT) {
    section('server').port = checkPort(env.PORT, 'environment', 'PORT');
    sources.delete('server.port');
  }
  if (opts.dataDir) {
    out.dataDir = opts.dataDir;
    sources.delete('dataDir');
  }
  return out;
}

function envVariable(env: NodeJS.ProcessEnv, name: string): { value: string; from: string } | undefined {
  try {
    return readVariable(env, name);
  } catch (err) {
    throw new ConfigError('environment', `${name}_FILE`, (err as Error).message.replace(/^\$\S+ /, ''));
  }
}

function checkPort(value: string | number, where: string, name: string): number {
  const port = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    const shown = typeof value === 'number' ? describeValue(value) : describeSubstituted([name]);
    throw new ConfigError(where, name, `expected a port number between 0 and 65535, got ${shown}`);
  }
  return port;
}

function hasDefaultPersona(value: unknown): boolean {
  const orchestrator = (value as { orchestrator?: { defaultPersona?: unknown } } | null)?.orchestrator;
  return typeof orchestrator?.defaultPersona === 'string';
}

function expandPath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return resolve(baseDir, path);
}

/**
 * `infra.schedule` (checks on an interval) was the only scheduler before `schedules:`; its checks
 * still run, each as a schedule of the same name, and the start-up log says how to move them.
 */
function adoptInfraSchedule(config: PantheonConfig, file: string): string | undefined {
  const old = config.infra.schedule;
  if (!old.length) return undefined;
  old.forEach((c, i) => {
    const clash = config.schedules.findIndex((s) => s.name === c.name);
    if (clash >= 0) throw new ConfigError(file, `infra.schedule[${i}].name`, `"${c.name}" is also schedules[${clash}]; move the check into schedules: and remove it from infra.schedule`);
    config.schedules.push({ name: c.name, every: c.every, timezone: 'UTC', thread: c.channel, check: c.check, resolved: c.resolved, missed: 'once', enabled: true });
  });
  const first = old[0]!;
  return (
    `${file}: infra.schedule is deprecated (its checks still run): move each check to schedules:, e.g. ` +
    `- { name: ${first.name}, every: ${JSON.stringify(first.every)}, thread: "${first.channel}", check: { kind: ${first.check.kind}, ... } }` +
    ' (or cron: "*/5 * * * *" instead of every:)'
  );
}

function resolveInfraPaths(config: PantheonConfig, baseDir: string): void {
  if (config.infra.knownHosts) config.infra.knownHosts = expandPath(config.infra.knownHosts, baseDir);
  for (const host of config.infra.hosts) if (host.privateKey) host.privateKey = expandPath(host.privateKey, baseDir);
}

/** An environment variable whose value is a secret, by its name (as `registerEnvSecrets` decides). */
const SECRET_NAME = /(TOKEN|SECRET|API_KEY|PASSWORD|PRIVATE_KEY)/i;
const SECRET_KEYS = new Set(['token', 'botToken', 'appToken', 'apiKey', 'webhookSecret', 'signingSecret']);

/** Tells the logger every secret value it must never print. */
function registerConfigSecrets(config: PantheonConfig, personas: Persona[]): void {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (SECRET_KEYS.has(key) && typeof child === 'string') registerSecret(child);
        else walk(child);
      }
    }
  };
  walk(config);
  walk(personas);
  // What an MCP server is given to authenticate is as secret as a token: its headers, and the variables named like secrets.
  for (const server of Object.values(config.mcp.servers)) {
    if (server.kind === 'http') for (const value of Object.values(server.headers)) registerSecret(value);
    else for (const [name, value] of Object.entries(server.env)) if (SECRET_NAME.test(name)) registerSecret(value);
  }
  for (const url of [config.database.url, config.redis.url]) {
    try {
      if (url) registerSecret(decodeURIComponent(new URL(url).password));
    } catch {
      // Not a URL; the driver will complain with a clearer message than we could.
    }
  }
}
