/** The team's shared memory: the store, the embedders and the contract types. */
export * from './types.js';
export { MemoryStore } from './store.js';
export { MemoryUnavailableError, MemoryImportError } from './errors.js';
export { createEmbedder, LexicalEmbedder, OpenAIEmbedder, tokenize } from './embedders/index.js';
