/**
 * The persona file's schema is configuration, checked at the edge with pantheon.yaml
 * (core/config/persona-schema.ts); re-exported here for the layers that speak of personas.
 */
export {
  personaSchema,
  PERSONA_ID,
  ROLES,
  TOOL_GROUPS,
  type Persona,
  type PersonaInput,
  type PersonaRole,
  type PersonaHandles,
  type ToolGroup,
} from '../core/config/persona-schema.js';
