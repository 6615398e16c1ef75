/** The module contract lives in the contract layer (core/modules/types.ts); re-exported for the composition root. */
export type { ModuleContext, ModuleFactory, PantheonModule, PersonaDirectory, PlatformModule } from '../core/modules/types.js';
