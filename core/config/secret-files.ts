import { ConfigError } from './errors.js';
import { readVariable } from './interpolate.js';

/**
 * Variables that carry secrets, by the last word of their name: API keys, tokens, signing and
 * webhook secrets, passwords, and URLs (`DATABASE_URL`, `REDIS_URL` hold passwords).
 */
const SECRET_NAME = /(^|_)(TOKEN|SECRET|KEY|PASSWORD|PASSWD|PASS|PW|CREDENTIALS?|URL)$/;

/**
 * `FOO_FILE=/run/secrets/foo` sets `FOO` (the file's text, less one trailing newline) when `FOO`
 * itself is unset, for every secret-bearing variable, as Docker and Kubernetes mount secrets.
 * Applied once at the edge, before anything reads the environment, so every reader (the model
 * providers, `PANTHEON_CONSOLE_TOKEN`) sees `FOO`. `${FOO}` in the configuration and an SSH
 * host's `passwordEnv` honour `FOO_FILE` on their own too, whatever the name. Other `*_FILE` variables
 * (`SSL_CERT_FILE`, `COMPOSE_FILE`) are paths, not secrets, and are left alone.
 * Returns the names set; an unreadable file is a configuration error naming the variable.
 */
export function applySecretFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const set: string[] = [];
  for (const key of Object.keys(env)) {
    if (!key.endsWith('_FILE') || !env[key]) continue;
    const name = key.slice(0, -'_FILE'.length);
    if (env[name] !== undefined || !SECRET_NAME.test(name)) continue;
    try {
      env[name] = readVariable(env, name)!.value;
    } catch (err) {
      throw new ConfigError('environment', key, (err as Error).message.replace(/^\$\S+ /, ''));
    }
    set.push(name);
  }
  return set;
}
