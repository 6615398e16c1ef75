/** Configuration: pantheon.yaml and the persona files, parsed once at the edge, against the registered platforms. */
export { loadConfig, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { ConfigError, configErrorFromZod, formatPath, type ConfigProblem } from './errors.js';
export { interpolate, interpolateString, type InterpolationResult } from './interpolate.js';
export { readYamlFile, parseYamlText, displayPath } from './read-yaml.js';
export {
  pantheonConfigSchema,
  modelNameSchema,
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
export {
  registerPlatforms,
  registeredPlatforms,
  type PlatformDescriptor,
  type PlatformName,
  type Platforms,
  type PersonaHandles,
  type HumanPlatformIds,
  type RateLimit,
} from './platforms.js';
export { personaSchema, PERSONA_ID, ROLES, TOOL_GROUPS, type Persona, type PersonaInput, type PersonaRole, type ToolGroup } from './persona-schema.js';
export { builtInTeamDir, loadPersonas, loadPersonaDir, loadPersonaFile, type PersonaLoadOptions, type PersonaLoadResult } from './load-personas.js';
