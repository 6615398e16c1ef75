import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Host key checking against an OpenSSH known_hosts file, the way `ssh` does it with
 * `StrictHostKeyChecking yes`: a key that is not on file, or differs from the one on file,
 * is refused with a message that says what to check. Nothing is ever added automatically.
 */

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** The host field: comma-separated patterns, or a hashed `|1|salt|hash` name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  revoked: boolean;
  line: number;
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; message: string };

/** Parses a known_hosts file's text. `@cert-authority` lines are skipped (certificates are not supported). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]!.startsWith('@')) {
      if (fields[0] === '@cert-authority') return;
      revoked = fields[0] === '@revoked';
      fields = fields.slice(1);
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    entries.push({ hosts, keyType, key: Buffer.from(b64, 'base64'), revoked, line: i + 1 });
  });
  return entries;
}

/** How OpenSSH names an endpoint in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** `SHA256:...` as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether an entry's host field names this endpoint (patterns, negations, hashed names). */
export function entryMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (globToRegExp(p).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The key types on file for an endpoint: the connection offers only these, as `ssh` does. */
export function knownKeyTypes(entries: KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.revoked && entryMatches(e.hosts, name)).map((e) => e.keyType))];
}

/**
 * Checks the key a server presented. `host` is the registry's name for it (for messages),
 * `file` the known_hosts path (for messages).
 */
export function verifyHostKey(entries: KnownHostEntry[], opts: { host: string; address: string; port: number; key: Buffer; file: string }): HostKeyVerdict {
  const name = knownHostName(opts.address, opts.port);
  const type = keyTypeOf(opts.key);
  const presented = `${type} ${fingerprint(opts.key)}`;
  const checkOnHost = `Compare it with the key on the host itself (\`ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-/, '').replace(/-.*$/, '')}_key.pub\` there, or ask its admin)`;
  if (entries.some((e) => e.revoked && e.key.equals(opts.key))) {
    return {
      ok: false,
      reason: 'revoked',
      message: `Refused to connect to ${opts.host} (${name}): its host key ${presented} is marked @revoked in ${opts.file}. Do not use this host until its keys are replaced.`,
    };
  }
  const mine = entries.filter((e) => !e.revoked && entryMatches(e.hosts, name));
  if (mine.some((e) => e.key.equals(opts.key))) return { ok: true };
  if (mine.length === 0) {
    return {
      ok: false,
      reason: 'unknown',
      message:
        `Refused to connect to ${opts.host} (${name}): its host key is not in ${opts.file}. The server presented ${presented}. ` +
        `${checkOnHost}; if it matches, add it: \`ssh-keyscan -p ${opts.port} ${opts.address} >> ${opts.file}\`. Unknown keys are never accepted automatically.`,
    };
  }
  const expected = mine.map((e) => `${e.keyType} ${fingerprint(e.key)} (line ${e.line})`).join(', ');
  return {
    ok: false,
    reason: 'changed',
    message:
      `Refused to connect to ${opts.host} (${name}): its host key has CHANGED. The server presented ${presented}, but ${opts.file} expects ${expected}. ` +
      `Either the host was reinstalled or re-keyed, or someone is intercepting the connection. ${checkOnHost}; ` +
      `only if the change is expected, remove the old entry (\`ssh-keygen -R '${name}' -f ${opts.file}\`) and add the new key.`,
  };
}

/** Reads the file each time (an admin fixing it needs no restart); a missing file has no entries. */
export function readKnownHosts(file: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** ssh2 host key algorithm names for a known_hosts key type. */
export function hostKeyAlgorithms(keyTypes: string[]): string[] {
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}
