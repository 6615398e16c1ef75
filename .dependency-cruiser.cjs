/**
 * The layering of docs/architecture.md, checked (`npm run check:deps`; test/architecture/layering.test.ts runs it in `npm test`, and proves it fails on a wrong import):
 *
 *   cli (composition root)
 *    └ web (the console's server side: sign-in, the views' API, the built app)
 *    └ orchestrator ─ platforms ─ tools ─ memory ─ agents
 *        └ github (client, identities, ledger sync) └ ledger (work items)
 *            └ personas (data) └ core (config, db, http, queue, chat contracts)
 *
 * Lower layers never import higher ones; platforms and tools meet only in core/chat's contracts,
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
      to: { path: above('personas', 'ledger', 'github', 'agents', 'memory', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'personas-are-data',
      comment: 'personas/ is schema and loading: it may use core/ only.',
      severity: 'error',
      from: { path: '^personas/' },
      to: { path: above('ledger', 'github', 'agents', 'memory', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'agents-below-tools',
      comment: 'agents/ (model providers, accounting) is used by the orchestrator; it does not reach up.',
      severity: 'error',
      from: { path: '^agents/' },
      to: { path: above('ledger', 'github', 'memory', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'memory-below-tools',
      comment: 'memory/ is a store; its tool group lives in tools/.',
      severity: 'error',
      from: { path: '^memory/' },
      to: { path: above('ledger', 'github', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'ledger-above-core-only',
      comment: 'ledger/ (work items) is shared by the orchestrator, tools and platforms: it may use core/ only.',
      severity: 'error',
      from: { path: '^ledger/' },
      to: { path: above('personas', 'github', 'agents', 'memory', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'github-below-platforms-and-tools',
      comment: 'github/ (client, identities, ledger sync) serves the GitHub platform and the GitHub tools: core/, personas/ and ledger/ only.',
      severity: 'error',
      from: { path: '^github/' },
      to: { path: above('agents', 'memory', 'tools', 'platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'adapters-never-run-agents',
      comment: 'platforms/ speak to the rest through core/chat (envelopes in, outbound messages out).',
      severity: 'error',
      from: { path: '^platforms/' },
      to: { path: above('orchestrator', 'agents', 'tools', 'cli') },
    },
    {
      name: 'tools-never-import-platforms',
      comment: 'tools/ post through the outbox port of core/chat, not through an adapter.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: above('platforms', 'orchestrator', 'cli') },
    },
    {
      name: 'orchestrator-below-cli',
      comment: 'cli/ is the composition root: nothing imports it.',
      severity: 'error',
      from: { path: '^(core|personas|ledger|github|agents|memory|tools|platforms|orchestrator|web)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'web-below-cli-only',
      comment: 'web/ (the console\'s server side) reads every part; only the composition root uses it.',
      severity: 'error',
      from: { path: '^(core|personas|ledger|github|agents|memory|tools|platforms|orchestrator)/' },
      to: { path: '^web/' },
    },
    {
      name: 'console-is-a-browser-app',
      comment:
        'console/ (the web console) runs in the browser and talks to the server over /api only: it imports no server code. It may import types (`import type`): the build erases them, and the console reads the JSON in the types the server writes it in.',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: above('core', 'personas', 'ledger', 'github', 'agents', 'memory', 'tools', 'platforms', 'orchestrator', 'web', 'cli'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'server-never-imports-the-console',
      comment: 'The server serves the built console from dist/console/; it never imports its sources.',
      severity: 'error',
      from: { path: '^(core|personas|ledger|github|agents|memory|tools|platforms|orchestrator|web|cli)/' },
      to: { path: '^console/' },
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
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
