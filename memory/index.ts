/** The team's shared memory: the store, the embedders and the contract types. */
export * from './types.js';
export { MemoryStore, type MemoryStoreOptions, type MemoryStatus, type ListOptions } from './store.js';
export { MemoryUnavailableError, MemoryImportError } from './errors.js';
export { isMemoryScope } from './jsonl.js';
export { createEmbedder, LexicalEmbedder, OpenAIEmbedder, tokenize, type EmbedderConfig, type OpenAIEmbedderOptions } from './embedders/index.js';
