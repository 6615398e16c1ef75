import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Which targets the probes (`http_probe`, `tls_expiry`, scheduled http/tls checks) may reach.
 *
 * The probes run on Pantheon's host, so a model that can name any URL could read Pantheon's own
 * API, the banners of Postgres or Redis on loopback, or the cloud metadata service. Refused unless
 * `infra.probeAllowlist` names them: loopback (`localhost`, 127.0.0.0/8, ::1), the unspecified
 * address (0.0.0.0/8, ::), link-local (169.254.0.0/16, fe80::/10) and known cloud metadata
 * addresses and names, the host's own interface addresses, and IPv4-mapped forms of all of these.
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are where staging servers live: allowed.
 *
 * A name is resolved once, here; it is refused if any of its addresses is, and the probe connects
 * to the address vetted here (never resolving again, so a rebinding DNS answer cannot swap it).
 */
export class ProbeTargetGuard {
  private readonly entries: AllowEntry[] = [];
  private readonly invalid: { index: number; entry: string }[] = [];
  private readonly resolve: Resolve;
  private readonly ownAddresses: () => string[];

  constructor(opts: ProbeTargetGuardOptions = {}) {
    (opts.allowlist ?? []).forEach((raw, index) => {
      const entry = parseAllowEntry(raw);
      if (entry) this.entries.push(entry);
      else this.invalid.push({ index, entry: raw });
    });
    this.resolve = opts.resolve ?? ((name) => lookup(name, { all: true, verbatim: true }));
    this.ownAddresses = opts.ownAddresses ?? interfaceAddresses;
  }

  /** Allowlist entries that are not a host name, address, `host:port` or CIDR range. */
  problems(): { path: string; problem: string }[] {
    return this.invalid.map(({ index, entry }) => ({
      path: `infra.probeAllowlist[${index}]`,
      problem: `"${entry}" is not a host name, an address, host:port or a CIDR range (such as 10.0.0.0/8)`,
    }));
  }

  /**
   * The address to connect to for `host` (a name or an address in any form `new URL` accepts) at
   * `port`. Throws {@link ProbeRefusedError} for a refused target; resolver errors pass through.
   */
  async vet(host: string, port: number): Promise<VettedTarget> {
    const name = normaliseHost(host);
    const shown = hostPort(name, port);
    const literal = parseIp(name);
    if (literal) {
      const address = canonicalAddress(name);
      const why = this.refusal(literal, port);
      if (why) throw new ProbeRefusedError(shown, `${shown} is ${why}`);
      return { name, port, address, family: isIP(address) as 4 | 6 };
    }
    const allowedByName = this.entries.some((e) => e.kind === 'name' && e.name === name && portMatches(e, port));
    if (!allowedByName) {
      if (name === 'localhost' || name.endsWith('.localhost')) throw new ProbeRefusedError(shown, `${shown} is ${REASONS.loopback}`);
      if (METADATA_NAMES.has(name)) throw new ProbeRefusedError(shown, `${shown} is ${REASONS.metadataName}`);
    }
    const found = await this.resolve(name);
    if (!found.length) throw Object.assign(new Error(`${name} resolves to no address`), { code: 'ENOTFOUND' });
    if (!allowedByName) {
      for (const { address } of found) {
        const ip = parseIp(address);
        const why = ip ? this.refusal(ip, port) : 'not an address';
        if (why) throw new ProbeRefusedError(shown, `${shown} resolves to ${address}, ${why}`);
      }
    }
    const first = found[0]!;
    return { name, port, address: first.address, family: isIP(first.address) as 4 | 6 };
  }

  /** Why `ip` may not be reached at `port`, or undefined when it may. */
  private refusal(ip: Ip, port: number): string | undefined {
    const why = classify(ip) ?? (this.isOwnAddress(ip) ? REASONS.own : undefined);
    if (!why) return undefined;
    const plain = unmap(ip);
    const allowed = this.entries.some((e) => portMatches(e, port) && ((e.kind === 'address' && sameIp(e.ip, plain)) || (e.kind === 'range' && inRange(plain, e.ip, e.bits))));
    return allowed ? undefined : why;
  }

  private isOwnAddress(ip: Ip): boolean {
    const plain = unmap(ip);
    return this.ownAddresses().some((a) => {
      const own = parseIp(a);
      return !!own && sameIp(unmap(own), plain);
    });
  }
}

/** A probe target the guard refused; its message says why and how an operator allows it. */
export class ProbeRefusedError extends Error {
  override readonly name = 'ProbeRefusedError';
  constructor(
    readonly target: string,
    why: string,
  ) {
    super(`Refused: ${why}; an operator can allow it with infra.probeAllowlist in pantheon.yaml`);
  }
}

/** Resolves a name to all of its addresses, like `dns.promises.lookup(name, { all: true })`. */
export type Resolve = (name: string) => Promise<{ address: string; family: number }[]>;

export interface ProbeTargetGuardOptions {
  /** `infra.probeAllowlist`: host names, addresses, `host:port` (`[v6]:port`) or CIDR ranges. */
  allowlist?: readonly string[];
  resolve?: Resolve;
  /** The host's own addresses, read at each check; os.networkInterfaces() by default. */
  ownAddresses?: () => string[];
}

/** Where a probe connects: `address` (vetted), presenting `name` (Host header, TLS server name). */
export interface VettedTarget {
  name: string;
  port: number;
  address: string;
  family: 4 | 6;
}

/**
 * A host as the WHATWG URL parser reads it: lower case, no brackets or trailing dot, numeric
 * IPv4 forms (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1`) spelled out, IPv6 compressed.
 */
function normaliseHost(host: string): string {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 6) return bare.includes('%') ? bare.toLowerCase() : new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  try {
    return new URL(`http://${bare}/`).hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  } catch {
    throw new Error(`not a host name or address: ${host}`);
  }
}

const REASONS = {
  loopback: "on Pantheon's own host (loopback)",
  unspecified: "the unspecified address, which reaches Pantheon's own host",
  linkLocal: 'link-local (where cloud metadata services answer)',
  metadata: 'a cloud metadata address',
  metadataName: 'a cloud metadata name',
  own: "one of the addresses of Pantheon's own host",
} as const;

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'instance-data.ec2.internal']);
/** Metadata services outside link-local: AWS over IPv6, Alibaba Cloud. */
const METADATA_ADDRESSES = ['fd00:ec2::254', '100.100.100.200'].map((a) => parseIp(a)!);

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
interface Ip {
  bytes: number[];
}

type AllowEntry = { port?: number } & ({ kind: 'name'; name: string } | { kind: 'address'; ip: Ip } | { kind: 'range'; ip: Ip; bits: number });

function classify(ip: Ip): string | undefined {
  const a = unmap(ip);
  const b = a.bytes;
  if (b.length === 4) {
    if (b[0] === 127) return REASONS.loopback;
    if (b[0] === 0) return REASONS.unspecified;
    if (b[0] === 169 && b[1] === 254) return REASONS.linkLocal;
  } else {
    if (b.every((x, i) => x === (i === 15 ? 1 : 0))) return REASONS.loopback;
    if (b.every((x) => x === 0)) return REASONS.unspecified;
    if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return REASONS.linkLocal;
  }
  if (METADATA_ADDRESSES.some((m) => sameIp(m, a))) return REASONS.metadata;
  return undefined;
}

/** `::ffff:a.b.c.d` (IPv4-mapped) and `::a.b.c.d` (IPv4-compatible) → `a.b.c.d`. */
function unmap(ip: Ip): Ip {
  const b = ip.bytes;
  if (b.length !== 16 || b.slice(0, 10).some((x) => x !== 0)) return ip;
  const mapped = b[10] === 0xff && b[11] === 0xff;
  const compatible = b[10] === 0 && b[11] === 0 && b.slice(12, 15).some((x) => x !== 0);
  return mapped || compatible ? { bytes: b.slice(12) } : ip;
}

function parseIp(text: string): Ip | undefined {
  const t = text.replace(/%.*$/, '');
  const kind = isIP(t);
  if (kind === 4) return { bytes: t.split('.').map(Number) };
  if (kind !== 6) return undefined;
  const [head, tail] = t.includes('::') ? (t.split('::') as [string, string]) : [t, undefined];
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [a * 256 + b, c * 256 + d];
    });
  };
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return { bytes: all.flatMap((g) => [g >> 8, g & 0xff]) };
}

function canonicalAddress(text: string): string {
  const ip = parseIp(text)!;
  return ip.bytes.length === 4 ? ip.bytes.join('.') : text.replace(/%.*$/, '');
}

function sameIp(a: Ip, b: Ip): boolean {
  return a.bytes.length === b.bytes.length && a.bytes.every((x, i) => x === b.bytes[i]);
}

function inRange(ip: Ip, net: Ip, bits: number): boolean {
  if (ip.bytes.length !== net.bytes.length) return false;
  for (let i = 0; i < ip.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (net.bytes[i]! & mask)) return false;
  }
  return true;
}

function portMatches(entry: AllowEntry, port: number): boolean {
  return entry.port === undefined || entry.port === port;
}

/** `name`, `address`, `name:port`, `address:port`, `[v6]:port`, `a.b.c.d/n`, `v6/n`. */
function parseAllowEntry(raw: string): AllowEntry | undefined {
  const t = raw.trim().toLowerCase();
  const range = /^([^/]+)\/(\d{1,3})$/.exec(t);
  if (range) {
    const ip = parseIp(range[1]!.replace(/^\[(.*)\]$/, '$1'));
    const bits = Number(range[2]);
    if (!ip || bits > ip.bytes.length * 8) return undefined;
    return { kind: 'range', ip: unmap(ip), bits: ip.bytes.length === 16 && unmap(ip) !== ip ? Math.max(0, bits - 96) : bits };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const withPort = !bracketed && isIP(t) !== 6 ? /^([^:]+):(\d+)$/.exec(t) : null;
  const hostText = bracketed?.[1] ?? withPort?.[1] ?? t;
  const portText = bracketed?.[2] ?? withPort?.[2];
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  if (!/^[a-z0-9_.:%-]+$/.test(hostText)) return undefined;
  let host: string;
  try {
    host = normaliseHost(hostText);
  } catch {
    return undefined;
  }
  const ip = parseIp(host);
  if (ip) return { kind: 'address', ip: unmap(ip), port };
  if (bracketed || !/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(host)) return undefined;
  return { kind: 'name', name: host, port };
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}
