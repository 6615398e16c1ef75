/**
 * The layering of docs/architecture.md, checked (`npm run check:deps`; test/architecture/layering.test.ts runs it in `npm test`, and proves it fails on a wrong import):
 *
 *   cli (composition root)
 *    └ orchestrator ─ channels ─ tools ─ memory ─ agents
 *        └ github (client, identities, ledger sync) └ ledger (work items)
 *            └ personas (data) └ core (config, db, http, queue, chat contracts)
 *
 * Lower layers never import higher ones; channels and tools meet only in core/chat's contracts,
 * the work ledger and the GitHub client they share.
 */
const above = (...folders) => `^(${folders.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'core/ knows nothing above it: config, database, HTTP, queue and the chat contracts only.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: above('personas', 'ledger', 'github', 'agents', 'memory', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'personas-are-data',
      comment: 'personas/ is schema and loading: it may use core/ only.',
      severity: 'error',
      from: { path: '^personas/' },
      to: { path: above('ledger', 'github', 'agents', 'memory', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'agents-below-tools',
      comment: 'agents/ (model providers, accounting) is used by the orchestrator; it does not reach up.',
      severity: 'error',
      from: { path: '^agents/' },
      to: { path: above('ledger', 'github', 'memory', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'memory-below-tools',
      comment: 'memory/ is a store; its tool group lives in tools/.',
      severity: 'error',
      from: { path: '^memory/' },
      to: { path: above('ledger', 'github', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'ledger-above-core-only',
      comment: 'ledger/ (work items) is shared by the orchestrator, tools and channels: it may use core/ only.',
      severity: 'error',
      from: { path: '^ledger/' },
      to: { path: above('personas', 'github', 'agents', 'memory', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'github-below-channels-and-tools',
      comment: 'github/ (client, identities, ledger sync) serves the GitHub channel and the GitHub tools: core/, personas/ and ledger/ only.',
      severity: 'error',
      from: { path: '^github/' },
      to: { path: above('agents', 'memory', 'tools', 'channels', 'orchestrator', 'cli') },
    },
    {
      name: 'adapters-never-run-agents',
      comment: 'channels/ speak to the rest through core/chat (envelopes in, outbound messages out).',
      severity: 'error',
      from: { path: '^channels/' },
      to: { path: above('orchestrator', 'agents', 'tools', 'cli') },
    },
    {
      name: 'tools-never-import-channels',
      comment: 'tools/ post through the outbox port of core/chat, not through an adapter.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: above('channels', 'orchestrator', 'cli') },
    },
    {
      name: 'orchestrator-below-cli',
      comment: 'cli/ is the composition root: nothing imports it.',
      severity: 'error',
      from: { path: '^(core|personas|ledger|github|agents|memory|tools|channels|orchestrator)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Two folders that import each other are one folder, or need a contract below both.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
