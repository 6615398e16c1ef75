import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const outDir = join(root, '..', 'dist', 'console');
/** The budget for the console's JavaScript, gzipped. */
const JS_BUDGET_BYTES = 200 * 1024;

/** Prints the JavaScript the browser downloads, gzipped, after each build; fails the build over budget. */
function jsBudget(): Plugin {
  return {
    name: 'pantheon-js-budget',
    apply: 'build',
    closeBundle() {
      const assets = join(outDir, 'assets');
      const files = readdirSync(assets).filter((f) => f.endsWith('.js'));
      const gzipped = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
      const line = `console: ${files.length} JavaScript file(s), ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${JS_BUDGET_BYTES / 1024} KB)`;
      if (gzipped > JS_BUDGET_BYTES) throw new Error(`${line}: over budget`);
      process.stdout.write(`${line}\n`);
    },
  };
}

export default defineConfig({
  root,
  // Served under `/` by the pantheon process itself; nothing is fetched from elsewhere.
  base: '/',
  plugins: [preact(), jsBudget()],
  build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  logLevel: 'warn',
});
