/** One changed file, as GitHub's "list pull request files" answers it. */
export interface ChangedFile {
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  /** Absent for binary files and for diffs GitHub finds too large to show. */
  patch?: string;
  previous_filename?: string;
}

/** Why a file is not shown. */
export type SkipReason = 'budget' | 'binary' | 'no-change';

/** A file left out of the answer, and why: always listed by name, never silently dropped. */
interface SkippedFile {
  file: ChangedFile;
  reason: SkipReason;
}

/** Headings of the skipped list, by reason. */
export const SKIP_REASONS: Record<SkipReason, string> = {
  budget: 'did not fit the token budget',
  binary: 'no textual diff (binary, or too large for GitHub to show)',
  'no-change': 'no textual change (rename or mode change only)',
};

export interface DiffSelection {
  shown: ChangedFile[];
  skipped: SkippedFile[];
  /** Characters of patch text shown. */
  shownChars: number;
}

/** Roughly four characters per token: good enough to stay inside a model's context. */
export const CHARS_PER_TOKEN = 4;

/** Lock files, generated, vendored and minified files: shown after everything else. */
const NOISE = [
  /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|Gemfile\.lock|poetry\.lock|composer\.lock|go\.sum|Pipfile\.lock)$/,
  /(^|\/)(dist|build|vendor|node_modules|third_party|__generated__|generated)\//,
  /\.(min\.js|min\.css|map|snap|lock|svg|pb\.go)$/,
  /_pb2\.py$|\.generated\.[a-z]+$/,
];
const DOCS = /\.(md|mdx|rst|txt|adoc)$/i;

/** 0: code and config, 1: docs, 2: lock/generated/vendored. Lower is shown first. */
export function fileTier(filename: string): number {
  if (NOISE.some((re) => re.test(filename))) return 2;
  if (DOCS.test(filename)) return 1;
  return 0;
}

/** The line that names a file, shown above its patch or in the skipped list. */
export function fileLine(f: ChangedFile): string {
  const renamed = f.previous_filename && f.previous_filename !== f.filename ? ` (from ${f.previous_filename})` : '';
  return `${f.filename}${renamed} [${f.status}, +${f.additions}/-${f.deletions}]`;
}

/**
 * Which patches fit a budget of `budgetChars`. Every file is either shown or listed as
 * skipped, so room for one line per file is set aside first; what is left goes to patches,
 * code before docs before lock and generated files, the larger change first within each
 * tier (where a reviewer's attention pays most). A patch that does not fit is skipped, and a
 * smaller one after it may still fit.
 */
export function selectDiffs(files: readonly ChangedFile[], budgetChars: number): DiffSelection {
  const lineCost = files.reduce((sum, f) => sum + fileLine(f).length + 8, 0) + 400;
  let room = budgetChars - lineCost;
  const order = [...files].sort((a, b) => fileTier(a.filename) - fileTier(b.filename) || b.changes - a.changes || a.filename.localeCompare(b.filename));
  const shown: ChangedFile[] = [];
  const skipped: SkippedFile[] = [];
  let shownChars = 0;
  for (const f of order) {
    if (f.patch === undefined || f.patch === '') {
      skipped.push({ file: f, reason: f.changes === 0 ? 'no-change' : 'binary' });
      continue;
    }
    if (f.patch.length > room) {
      skipped.push({ file: f, reason: 'budget' });
      continue;
    }
    room -= f.patch.length + 8;
    shownChars += f.patch.length;
    shown.push(f);
  }
  // Shown files in the pull request's own order, so related files stay together.
  const position = new Map(files.map((f, i) => [f, i]));
  shown.sort((a, b) => position.get(a)! - position.get(b)!);
  skipped.sort((a, b) => position.get(a.file)! - position.get(b.file)!);
  return { shown, skipped, shownChars };
}
