import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where Debian puts the OpenSSH server (`apt-get install openssh-server`). */
export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  /** Always 127.0.0.1. */
  address: string;
  port: number;
  /** The user sshd lets in (the user running the tests). */
  user: string;
  /** The client's private key file (OpenSSH format, no passphrase). */
  clientKey: string;
  /** A known_hosts file holding this server's host key under `[127.0.0.1]:<port>`. */
  knownHosts: string;
  /** The host key's public line (`ssh-ed25519 AAAA...`). */
  hostPublicKey: string;
  /** A scratch directory that lives as long as the server. */
  dir: string;
  /** Everything sshd wrote to stderr (`-e`): why a login was refused. */
  log(): string;
  /** Stops sshd (and removes `dir`). */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Directories put first on PATH in sessions (fake `systemctl`, ...). */
  pathPrefix?: string[];
  /** Reuse this port (to come back with another host key on the same address). */
  port?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function keygen(file: string, comment: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`sshd exited with ${child.exitCode}:\n${log()}`));
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * A real OpenSSH server on 127.0.0.1:<free port>, run as the current user with its own config
 * (`-f`), a fresh ed25519 host key, and an authorized_keys holding a freshly generated client
 * key. `-D -e`: it stays in the foreground and logs to stderr.
 */
export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`no OpenSSH server at ${SSHD}: the infra tests run a real one. Install it (apt-get install openssh-server; .ci/run does).`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pantheon-sshd-'));
  const user = userInfo().username;
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'id_ed25519');
  keygen(hostKey, 'pantheon-test-host');
  keygen(clientKey, 'pantheon-test-client');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = opts.port ?? (await freePort());
  const path = [...(opts.pathPrefix ?? []), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin yes',
    `AllowUsers ${user}`,
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    'MaxSessions 20',
    `SetEnv PATH=${path}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  // As root, sshd wants its privilege separation directory to exist.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });

  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
    log += `\n${err.message}`;
  });
  const stop = async () => {
    if (!spawnError && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  return { address: '127.0.0.1', port, user, clientKey, knownHosts, hostPublicKey, dir, log: () => log, stop };
}

/**
 * Processes of a process group that still run (zombies do not count: they have ended and only
 * wait for their parent, here the container's init, to collect them).
 */
export function runningInGroup(pgid: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') out.push(`${entry} ${state} ${stat.slice(stat.indexOf('('), stat.lastIndexOf(')') + 1)}`);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** A container the fake `docker` knows (see `writeFakeDocker`). */
export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  command: string;
  /** `Up 3 hours`, `Exited (1) 2 minutes ago`, `Up 3 hours (healthy)`: as `docker ps` prints it. */
  status: string;
  ports?: string;
}

/**
 * Writes a stand-in for the docker CLI into `binDir` (put it on the test sshd's PATH). It answers
 * `docker ps [-a] [-q] [--format T]` as the real CLI does (default table, or the Go-template
 * fields `{{.ID}} {{.Names}} {{.Image}} {{.Status}} {{.State}} {{.Command}} {{.Ports}}` with
 * `\t`/`\n` turned into tabs and newlines), and `docker restart <name...>`, which appends
 * `restart <name>` to `<stateDir>/docker.log` and makes the container "Up N seconds".
 * Returns the path of that log.
 */
export function writeFakeDocker(binDir: string, stateDir: string, containers: FakeContainer[]): string {
  const state = join(stateDir, 'docker-state.json');
  const log = join(stateDir, 'docker.log');
  writeFileSync(state, JSON.stringify(containers));
  const script = `#!${process.execPath}
const fs = require('node:fs');
const state = ${JSON.stringify(state)};
const log = ${JSON.stringify(log)};
const containers = JSON.parse(fs.readFileSync(state, 'utf8'));
const [cmd, ...args] = process.argv.slice(2);
const fail = (msg, code = 1) => { process.stderr.write(msg + '\\n'); process.exit(code); };
const upFor = (s) => s < 1 ? 'Less than a second' : s === 1 ? '1 second' : s + ' seconds';
const statusOf = (c) => c.restartedAt ? 'Up ' + upFor(Math.round((Date.now() - c.restartedAt) / 1000)) : c.status;
if (cmd === 'ps') {
  let all = false, quiet = false, format;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-a' || a === '--all') all = true;
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '--format') format = args[++i];
    else if (a.startsWith('--format=')) format = a.slice(9);
    else fail('unknown flag: ' + a + "\\nSee 'docker ps --help'.", 125);
  }
  const shown = containers.filter((c) => all || statusOf(c).startsWith('Up'));
  if (quiet) format = '{{.ID}}';
  if (format === undefined) {
    const cols = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
    const rows = shown.map((c) => [c.id.slice(0, 12), c.image, JSON.stringify(c.command), '3 hours ago', statusOf(c), c.ports || '', c.name]);
    const widths = cols.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [cols, ...rows]) console.log(r.map((v, i) => i === r.length - 1 ? v : v.padEnd(widths[i] + 3)).join(''));
    process.exit(0);
  }
  const fields = { ID: (c) => c.id.slice(0, 12), Names: (c) => c.name, Image: (c) => c.image, Status: statusOf, State: (c) => statusOf(c).startsWith('Up') ? 'running' : 'exited', Command: (c) => JSON.stringify(c.command), Ports: (c) => c.ports || '' };
  const template = format.replace(/\\\\t/g, '\\t').replace(/\\\\n/g, '\\n');
  for (const c of shown) {
    const out = template.replace(/{{\\s*\\.(\\w+)\\s*}}/g, (_, f) => {
      if (!fields[f]) fail('template: :1: executing "" at <.' + f + '>: can\\'t evaluate field ' + f + ' in type *formatter.ContainerContext');
      return fields[f](c);
    });
    console.log(out);
  }
  process.exit(0);
}
if (cmd === 'restart') {
  if (!args.length) fail('"docker restart" requires at least 1 argument.');
  let failed = false;
  for (const name of args) {
    const c = containers.find((x) => x.name === name || x.id.startsWith(name));
    if (!c) { process.stderr.write('Error response from daemon: No such container: ' + name + '\\n'); failed = true; continue; }
    fs.appendFileSync(log, 'restart ' + name + '\\n');
    c.restartedAt = Date.now();
    console.log(name);
  }
  fs.writeFileSync(state, JSON.stringify(containers));
  process.exit(failed ? 1 : 0);
}
fail("docker: '" + cmd + "' is not a docker command.\\nSee 'docker --help'");
`;
  writeFileSync(join(binDir, 'docker'), script, { mode: 0o755 });
  return log;
}
