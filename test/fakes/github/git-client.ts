/** A real git client for tests: clones and pushes over HTTP with a token from a credential helper. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface GitClient {
  /** Working copy. */
  dir: string;
  run(...args: string[]): Promise<string>;
  write(file: string, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Clones `cloneUrl` as `login`, with `credential.helper=store` holding the token as password
 * (user name `x-access-token`, as GitHub Apps do), so the token never appears in a URL or argv.
 */
export async function cloneAs(cloneUrl: string, login: string, token: string): Promise<GitClient> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'fake-github-client-'));
  const dir = path.join(home, 'work');
  const credentials = path.join(home, 'credentials');
  const origin = new URL(cloneUrl);
  await writeFile(credentials, `${origin.protocol}//x-access-token:${encodeURIComponent(token)}@${origin.host}\n`, { mode: 0o600 });
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: path.join(home, 'gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: login,
    GIT_AUTHOR_EMAIL: `${login}@example.test`,
    GIT_COMMITTER_NAME: login,
    GIT_COMMITTER_EMAIL: `${login}@example.test`,
  };
  await writeFile(env.GIT_CONFIG_GLOBAL, `[credential]\n\thelper = store --file=${credentials}\n[init]\n\tdefaultBranch = main\n`);
  const git = async (cwd: string, args: string[]): Promise<string> => (await exec('git', args, { cwd, env })).stdout;
  await git(home, ['clone', '--quiet', cloneUrl, dir]);
  return {
    dir,
    run: (...args) => git(dir, args),
    async write(file, content) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
