/** Configuration: pantheon.yaml and the persona files, parsed once at the edge. */
export { loadConfig, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { ConfigError, configErrorFromZod, formatPath, type ConfigProblem } from './errors.js';
export { interpolate, interpolateString, type InterpolationResult } from './interpolate.js';
export { readYamlFile, parseYamlText, displayPath } from './read-yaml.js';
export {
  pantheonConfigSchema,
  modelNameSchema,
  PLATFORMS,
  type PantheonConfig,
  type PantheonConfigInput,
  type ServerConfig,
  type ModelsConfig,
  type ModelProviderConfig,
  type HumanConfig,
  type BindingConfig,
  type GithubConfig,
  type ChannelsConfig,
  type InfraConfig,
  type InfraHostConfig,
} from './schema.js';
export {
  policySchema,
  partialPolicySchema,
  decisionSchema,
  RISK_CLASSES,
  type Policy,
  type PartialPolicy,
  type PolicyDecision,
  type RiskClass,
} from './policy.js';
