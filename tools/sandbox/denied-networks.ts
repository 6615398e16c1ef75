import { isIPv4 } from 'node:net';
import os from 'node:os';

/**
 * IPv4 networks a sandboxed command may never reach, even with `network: egress`: link-local
 * (169.254.169.254 is the cloud metadata service on AWS, GCP, Azure, OpenStack...), other
 * providers' metadata and wire-server addresses, slirp4netns' alias for the host (10.0.2.2), and
 * every address of the host itself (a service listening on all interfaces is the host's too).
 * The host's loopback is never reachable: the command has a network namespace of its own, and
 * slirp4netns runs with --disable-host-loopback.
 */
export const ALWAYS_DENIED = [
  '0.0.0.0/8',
  '169.254.0.0/16',
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure wire server
  '10.0.2.2/32',
] as const;

/** `10.1.2.3` or `10.0.0.0/8`, normalised to CIDR; throws naming the entry otherwise. */
export function parseCidr(entry: string): string {
  const [addr, bits, ...rest] = entry.trim().split('/');
  const prefix = bits === undefined ? 32 : Number(bits);
  if (rest.length || !addr || !isIPv4(addr) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`sandbox.denyNetworks: "${entry}" is not an IPv4 address or CIDR range (e.g. 10.0.0.0/8)`);
  }
  return `${addr}/${prefix}`;
}

/** The host's own IPv4 addresses (not loopback: that is out of reach anyway). */
export function hostAddresses(interfaces = os.networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.add(`${a.address}/32`);
  }
  return [...out];
}

/** Everything denied: the fixed list, the host's addresses and the operator's `denyNetworks`. */
export function deniedNetworks(configured: readonly string[] = []): string[] {
  return [...new Set([...ALWAYS_DENIED, ...hostAddresses(), ...configured.map(parseCidr)])];
}
