/** Loading persona files is part of loading the configuration (core/config/load-personas.ts); re-exported here. */
export {
  builtInTeamDir,
  loadPersonas,
  loadPersonaDir,
  loadPersonaFile,
  type PersonaLoadOptions,
  type PersonaLoadResult,
} from '../core/config/load-personas.js';
