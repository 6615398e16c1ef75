/**
 * A second reporter for `npm test` (test/run.mjs): at the end, the test files that took longest,
 * each as the sum of its top-level tests' and suites' durations (its import time not counted),
 * so a run that got slower says where.
 */
export default async function* fileTimes(source) {
  const byFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      byFile.set(event.data.file, (byFile.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  const rows = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15);
  if (!rows.length) return;
  const total = [...byFile.values()].reduce((a, b) => a + b, 0);
  yield `\n▸ Slowest test files (of ${byFile.size}, ${(total / 1000).toFixed(0)} s in all):\n`;
  for (const [file, ms] of rows) yield `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file.replace(`${process.cwd()}/`, '')}\n`;
}
