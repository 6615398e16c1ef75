import { ConfigError } from './errors.js';
import { interpolate, InterpolationError, type InterpolationResult } from './interpolate.js';

/** `${VAR}` substitution in one file's parsed YAML; a bad reference is a ConfigError naming the file and field. */
export function interpolateFile(raw: unknown, env: NodeJS.ProcessEnv, shown: string): InterpolationResult {
  try {
    return interpolate(raw, env);
  } catch (err) {
    if (err instanceof InterpolationError) throw new ConfigError(shown, err.path, err.message);
    throw err;
  }
}
