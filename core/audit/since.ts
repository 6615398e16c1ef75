const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * A point in time from what a person types after `--since`: a duration back from `now`
 * (`30s`, `30m`, `2h`, `7d`, `1w`) or an ISO date/time (`2025-03-01`, `2025-03-01T12:00:00Z`).
 * Throws an error that shows the accepted forms.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(trimmed);
  if (relative) {
    const amount = Number(relative[1]);
    return new Date(now.getTime() - amount * UNIT_MS[relative[2].toLowerCase()]!);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const date = new Date(trimmed);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(`cannot read the time "${text}": use a duration back from now (30m, 2h, 7d, 1w) or an ISO date or time (2025-03-01, 2025-03-01T12:00:00Z)`);
}
