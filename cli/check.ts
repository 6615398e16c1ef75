import { loadConfig } from '../core/config/index.js';
import { checkModels } from './check-models.js';

/**
 * `pantheon check`: validates pantheon.yaml and every persona file as `pantheon start` would,
 * and that each persona has a usable model, without opening the database or the network.
 * Prints what it read and returns; a problem is thrown as a ConfigError (exit 2, every line
 * `<file>: <field>: <problem>`).
 */
export async function checkCommand(opts: { config?: string; dataDir?: string }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const loaded = await loadConfig({ configPath: opts.config, dataDir: opts.dataDir });
  checkModels(loaded, process.env);
  const { config, personas } = loaded;
  const platforms = Object.keys(config.channels).filter((name) => config.channels[name as keyof typeof config.channels]);
  out.write(
    [
      `config: ${loaded.configFile ?? 'none (built-in defaults)'}`,
      `personas: ${personas.map((p) => p.id).join(', ')}${loaded.builtInTeam ? ' (the built-in sample team)' : ''} from ${loaded.personasDir}`,
      `platforms: ${platforms.length ? platforms.join(', ') : 'local chat only'}`,
      `database: ${config.database.url ? 'PostgreSQL (DATABASE_URL / database.url)' : `embedded, in ${config.dataDir}`}`,
      `queue: ${config.redis.url ? 'Redis (BullMQ)' : 'in-process'}`,
      'ok: the configuration is valid',
      '',
    ].join('\n'),
  );
}
