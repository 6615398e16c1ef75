import { homedir } from 'node:os';
import { join } from 'node:path';
import type { InfraConfig, InfraHostConfig } from '../../core/config/schema.js';
import { registerSecret } from '../../core/log.js';
import { readVariable } from '../../core/config/interpolate.js';
import { CommandPolicy } from './command-policy.js';

/** A registered host: where it is, how to log in, and what may run there. */
export interface Host {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Path of a private key file. */
  privateKey?: string;
  /** Name of the environment variable holding the password (the value is read at connect time). */
  passwordEnv?: string;
  /** SSH agent socket path. */
  agent?: string;
  policy: CommandPolicy;
}

/** Thrown for a host name that is not in `infra.hosts`; the message lists the ones that are. */
class UnknownHostError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown host "${name}": commands run only on the hosts in infra.hosts (${known.join(', ') || 'none configured'})`);
    this.name = 'UnknownHostError';
  }
}

/** `infra.hosts` as typed hosts, plus the known_hosts file every connection is checked against. */
export class HostRegistry {
  private readonly hosts = new Map<string, Host>();
  readonly knownHostsFile: string;

  constructor(
    config: Pick<InfraConfig, 'hosts' | 'knownHosts'>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.knownHostsFile = config.knownHosts ?? join(env.HOME ?? homedir(), '.ssh', 'known_hosts');
    for (const h of config.hosts) this.hosts.set(h.name, toHost(h, env));
  }

  get(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new UnknownHostError(name, this.names());
    return host;
  }

  has(name: string): boolean {
    return this.hosts.has(name);
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  /** The password of a host that logs in with one; registered as a secret so it never reaches a log or a chat. */
  password(host: Host): string | undefined {
    if (!host.passwordEnv) return undefined;
    // PASSWORD_FILE=/run/secrets/... works for any passwordEnv name, as for every secret.
    const value = readVariable(this.env, host.passwordEnv)?.value;
    if (!value) throw new Error(`host ${host.name} logs in with the password in $${host.passwordEnv}, which is not set`);
    registerSecret(value);
    return value;
  }
}

function toHost(h: InfraHostConfig, env: NodeJS.ProcessEnv): Host {
  const agent = h.agent === true ? env.SSH_AUTH_SOCK : typeof h.agent === 'string' ? h.agent : undefined;
  if (h.passwordEnv && env[h.passwordEnv]) registerSecret(env[h.passwordEnv]);
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKey: h.privateKey,
    passwordEnv: h.passwordEnv,
    agent,
    policy: new CommandPolicy(h.policy ?? { allow: [], deny: [], risk: 'infra' }),
  };
}
