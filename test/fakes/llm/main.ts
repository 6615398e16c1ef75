/**
 * Runs the scripted model server on its own, for end-to-end tests that drive it
 * through the /_fake/* control API from another process:
 *
 *   node --import tsx test/fakes/llm/main.ts --port 0
 *
 * Prints one JSON line `{"url":…,"openaiBaseUrl":…,"anthropicBaseUrl":…,"port":…}` on stdout
 * once listening; stops on SIGTERM/SIGINT.
 */
import { startFakeLLM } from './server.js';

function portArg(argv: string[]): number {
  const i = argv.indexOf('--port');
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--port='))?.slice('--port='.length);
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer 0-65535, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return port;
}

const fake = await startFakeLLM({ port: portArg(process.argv.slice(2)) });
process.stdout.write(`${JSON.stringify({ url: fake.url, port: fake.port, openaiBaseUrl: fake.openaiBaseUrl, anthropicBaseUrl: fake.anthropicBaseUrl })}\n`);

const stop = () => {
  fake.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
