import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, configErrorFromZod } from './errors.js';
import { interpolateFile } from './interpolate-file.js';
import { displayPath, readYamlFile } from './read-yaml.js';
import { packageRoot } from '../package-root.js';
import { personaSchema, type Persona } from './persona-schema.js';

export interface PersonaLoadOptions {
  /** Directory of persona files. Omitted: the built-in sample team. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Base for the file names shown in error messages. */
  cwd?: string;
}

export interface PersonaLoadResult {
  personas: Persona[];
  /** The directory the personas were read from. */
  dir: string;
  /** The built-in sample team was used. */
  builtIn: boolean;
  /** Set when a directory was asked for but the built-in team was used instead, and why. */
  fallbackReason?: string;
  /** Persona id → the file it came from. */
  files: Map<string, string>;
}

/** Where the sample team (athena, apollo, hermes, artemis, perseus, hephaestus) lives. */
export function builtInTeamDir(): string {
  return join(packageRoot(), 'personas', 'team');
}

/**
 * Loads the personas for a run. A missing directory, or one with no `*.yaml` / `*.yml`
 * files in it, falls back to the built-in sample team and says so in `fallbackReason`,
 * so a fresh `pantheon.yaml` without personas still gives a working team.
 */
export async function loadPersonas(opts: PersonaLoadOptions = {}): Promise<PersonaLoadResult> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.dir) {
    const shown = displayPath(opts.dir, cwd);
    if (!existsSync(opts.dir) || !statSync(opts.dir).isDirectory()) {
      return { ...(await loadPersonaDir(builtInTeamDir(), env, cwd)), builtIn: true, fallbackReason: `no persona directory at ${shown}; using the built-in sample team` };
    }
    if ((await personaFiles(opts.dir)).length === 0) {
      return { ...(await loadPersonaDir(builtInTeamDir(), env, cwd)), builtIn: true, fallbackReason: `no persona files (*.yaml) in ${shown}; using the built-in sample team` };
    }
    return { ...(await loadPersonaDir(opts.dir, env, cwd)), builtIn: false };
  }
  return { ...(await loadPersonaDir(builtInTeamDir(), env, cwd)), builtIn: true };
}

async function personaFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Reads every persona file in `dir`; ids must be valid and unique across files. */
async function loadPersonaDir(dir: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ personas: Persona[]; dir: string; files: Map<string, string> }> {
  const personas: Persona[] = [];
  const files = new Map<string, string>();
  for (const file of await personaFiles(dir)) {
    const shown = displayPath(file, cwd);
    const persona = await loadPersonaFile(file, shown, env);
    const earlier = files.get(persona.id);
    if (earlier) {
      throw new ConfigError(shown, 'id', `duplicate persona id "${persona.id}" (also used in ${displayPath(earlier, cwd)}); persona ids must be unique`);
    }
    files.set(persona.id, file);
    personas.push(persona);
  }
  return { personas, dir, files };
}

/** One persona file: YAML → `${VAR}` substitution → schema. */
async function loadPersonaFile(file: string, shown: string, env: NodeJS.ProcessEnv): Promise<Persona> {
  const raw = await readYamlFile(file, shown);
  if (raw === null || raw === undefined) throw new ConfigError(shown, '', 'the file is empty; a persona needs at least id, name, role, description and prompt');
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(shown, '', 'expected a mapping (id: ..., name: ..., role: ...) at the top of the file');
  const { value, emptied, sources } = interpolateFile(raw, env, shown);
  const parsed = personaSchema.safeParse(value);
  if (!parsed.success) throw configErrorFromZod(shown, parsed.error.issues, value, personaSchema, { emptied, sources });
  return parsed.data;
}
