import { relative } from 'node:path';
import { ConfigError, type LoadedConfig } from '../core/config/index.js';
import { parseModelSpec, resolveModelChain, resolveProvider } from '../agents/index.js';

/**
 * Fails at start, not at the first message, when a persona has no usable model: none configured,
 * an unknown provider, or a provider without its API key. The error names where the model came from.
 */
export function checkModels(loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const { config, personas } = loaded;
  for (const persona of personas) {
    const [file, field] = persona.model
      ? [relative(process.cwd(), `${loaded.personasDir}/${persona.id}.yaml`) || `${persona.id}.yaml`, 'model']
      : env.PANTHEON_MODEL
        ? ['environment', 'PANTHEON_MODEL']
        : config.models.default
          ? [loaded.configFile ? relative(process.cwd(), loaded.configFile) || loaded.configFile : 'pantheon.yaml', 'models.default']
          : ['environment', 'ANTHROPIC_API_KEY'];
    try {
      for (const spec of resolveModelChain(persona, config.models, env)) {
        const provider = resolveProvider(parseModelSpec(spec, config.models).provider, config.models, env);
        if (provider.baseUrl && !URL.canParse(provider.baseUrl)) {
          throw new Error(`the base URL of provider "${provider.name}" is not a URL: ${JSON.stringify(provider.baseUrl)} (check OPENAI_BASE_URL / ANTHROPIC_BASE_URL or models.providers)`);
        }
      }
    } catch (err) {
      const message = (err as Error).message;
      throw new ConfigError(file, field, message.includes(`"${persona.id}"`) ? message : `persona "${persona.id}": ${message}`);
    }
  }
}
