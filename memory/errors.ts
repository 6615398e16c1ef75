/**
 * Memory cannot run on this database: pgvector is missing or cannot be enabled. Pantheon still
 * starts without it (unless memory is configured as required); memory tools and commands then
 * answer with this message.
 */
export class MemoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MemoryUnavailableError';
  }
}

/** An import where some lines were refused; the valid lines were imported, each line on its own. */
export class MemoryImportError extends Error {
  /** `refused` counts every refused line; `problems` names the first of them. */
  constructor(
    readonly imported: number,
    readonly problems: { line: number; message: string }[],
    readonly refused = problems.length,
  ) {
    const shown = problems
      .slice(0, 10)
      .map((p) => `line ${p.line}: ${p.message}`)
      .join('; ');
    const more = refused > 10 ? `; and ${refused - 10} more` : '';
    super(`imported ${imported} memories; ${refused} line(s) were refused: ${shown}${more}`);
    this.name = 'MemoryImportError';
  }
}
