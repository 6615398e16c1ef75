/** Configuration: pantheon.yaml and the persona files, parsed once at the edge, against the registered platforms. */
export { loadConfig, type LoadedConfig } from './load.js';
export { ConfigError } from './errors.js';
export { interpolate, interpolateString } from './interpolate.js';
export { pantheonConfigSchema } from './schema.js';
export { applySecretFiles } from './secret-files.js';
