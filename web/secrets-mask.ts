/** Keys whose values are credentials, in config and persona files. */
const SECRET_KEY = /(token|secret|password|passwd|apikey|api_key|privatekey|private_key|key$|credential|authorization|cookie)/i;
/** `scheme://user:password@host`: the password goes. */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]+):[^@\s]*@/i;

const MASK = '***';

/**
 * A copy of a configuration value safe to show: every string under a key naming a credential
 * becomes `***`, as does any string that is a known secret, and passwords in URLs are cut.
 * Numbers and booleans are settings, not secrets (`streamsPerCredential: 4`, `dailyTokens: 500000`).
 */
export function maskConfig(value: unknown, isSecret: (text: string) => boolean, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) || isSecret(value)) return MASK;
    return value.replace(URL_CREDENTIALS, `$1:${MASK}@`);
  }
  if (Array.isArray(value)) return value.map((v) => maskConfig(v, isSecret, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskConfig(v, isSecret, k)]));
  }
  return value;
}
