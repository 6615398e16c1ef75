import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { which } from '../../tools/sandbox/resolve.js';

/**
 * A container image for the podman backend's tests, made here without a registry: the host's own
 * programs named below and the libraries `ldd` says they load, imported with `podman import`.
 * Returns undefined (with why) when podman or the programs are missing.
 */
export const TEST_IMAGE = 'localhost/pantheon-sandbox-test:latest';

const PROGRAMS = [
  '/bin/sh',
  '/usr/bin/prlimit',
  '/usr/bin/setpriv',
  '/usr/sbin/ip',
  '/usr/bin/cat',
  '/usr/bin/echo',
  '/usr/bin/id',
  '/usr/bin/ls',
  '/usr/bin/env',
  '/usr/bin/head',
  '/usr/bin/tail',
  '/usr/bin/tr',
  '/usr/bin/sleep',
  '/usr/bin/touch',
  '/usr/bin/yes',
  '/usr/bin/seq',
  '/usr/bin/curl',
  '/usr/bin/timeout',
];

export function buildTestImage(dir: string): string | undefined {
  if (!which('podman')) return 'podman is not installed';
  const root = join(dir, 'rootfs');
  for (const program of PROGRAMS) {
    if (!existsSync(program)) return `${program} is missing on this host`;
    const files = [program, realpathSync(program)];
    const ldd = execFileSync('ldd', [realpathSync(program)], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(\/\S+)/g)) files.push(m[1]!, realpathSync(m[1]!));
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      if (!existsSync(join(root, f))) copyFileSync(f, join(root, f));
    }
  }
  for (const d of ['tmp', 'proc', 'dev', 'sys', 'etc', 'run']) mkdirSync(join(root, d), { recursive: true });
  // curl needs certificates for https; the image takes the host's bundle.
  if (existsSync('/etc/ssl/certs/ca-certificates.crt')) {
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(root, 'etc/ssl/certs/ca-certificates.crt'));
  }
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  execFileSync('podman', ['import', tar, TEST_IMAGE], { stdio: 'ignore', env: process.env });
  return undefined;
}
