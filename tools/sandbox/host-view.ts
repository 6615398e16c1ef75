import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What of the host a sandboxed command sees, read-only: the system's programs and libraries, and
 * the few files under /etc that programs need (certificates, the dynamic linker's cache, time
 * zone). Never the rest of /etc (host keys, other configuration), /root, /home, /run, /var or
 * Pantheon's own files. `passwd`, `group`, `hosts` and `resolv.conf` are Pantheon's own, so the
 * host's users and names are not shown either.
 */

/** System directories mounted read-only where they are directories (symlinks are recreated). */
export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/** Files and folders under /etc that programs commonly need; mounted when present. */
export const ETC_ENTRIES = [
  '/etc/alternatives', // Debian's program links (/usr/bin/node may be one)
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/pki',
  '/etc/crypto-policies',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/mime.types',
  '/etc/protocols',
  '/etc/services',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/gai.conf',
  '/etc/ssh/ssh_config',
  '/etc/perl',
  '/etc/python3',
  '/etc/python3.11',
  '/etc/python3.12',
  '/etc/java-17-openjdk',
  '/etc/gitattributes',
] as const;

/** A read-only mount or a symlink that recreates the host's layout. */
export type HostEntry = { kind: 'bind'; path: string } | { kind: 'symlink'; path: string; target: string };

/** The host entries that exist here, in mount order. */
export function hostEntries(extra: readonly string[] = []): HostEntry[] {
  const out: HostEntry[] = [];
  for (const path of [...SYSTEM_DIRS, ...ETC_ENTRIES, ...extra]) {
    if (!existsSync(path)) continue;
    const st = lstatSync(path);
    if (st.isSymbolicLink() && (SYSTEM_DIRS as readonly string[]).includes(path)) out.push({ kind: 'symlink', path, target: readlinkSync(path) });
    else out.push({ kind: 'bind', path });
  }
  return out;
}

/** Pantheon's own /etc files for the sandbox, by path inside it. */
export function generatedEtc(): Record<string, string> {
  return {
    '/etc/passwd': 'root:x:0:0:Pantheon sandbox:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    '/etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    '/etc/hostname': 'sandbox\n',
    // slirp4netns answers DNS on 10.0.2.3; without a network this fails fast.
    '/etc/resolv.conf': 'nameserver 10.0.2.3\n',
    '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
  };
}

/** Writes the generated files under `dir` (private to Pantheon's user); returns host path by sandbox path. */
export async function writeGeneratedEtc(dir: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const out: Record<string, string> = {};
  for (const [inside, content] of Object.entries(generatedEtc())) {
    const file = join(dir, inside.slice('/etc/'.length));
    await writeFile(file, content, { mode: 0o600 });
    out[inside] = file;
  }
  return out;
}
