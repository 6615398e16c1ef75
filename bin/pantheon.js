#!/usr/bin/env node
// The `pantheon` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the `prepare` script); this shim only finds them and explains what to do if they are missing.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`pantheon: ${entry} is missing. Run \`npm install\` (or \`npm run build\`) in ${root} first.\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));
