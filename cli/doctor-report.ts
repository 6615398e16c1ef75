/** One fact `pantheon doctor` reports: fine, worth a look, or in the way of running. */
export interface Fact {
  mark: 'ok' | 'warn' | 'fail';
  text: string;
}

export interface Section {
  title: string;
  facts: Fact[];
}

const MARKS: Record<Fact['mark'], string> = { ok: '✔', warn: '⚠', fail: '✖' };

export const ok = (text: string): Fact => ({ mark: 'ok', text });
export const warn = (text: string): Fact => ({ mark: 'warn', text });
export const fail = (text: string): Fact => ({ mark: 'fail', text });

/** 0 when nothing is ✖, else 1. */
export function exitCodeOf(sections: readonly Section[]): number {
  return sections.some((s) => s.facts.some((f) => f.mark === 'fail')) ? 1 : 0;
}

/** Sections as text: a title line, then one fact per line with its mark, then a summary line. */
export function renderSections(sections: readonly Section[]): string {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push(s.title);
    for (const f of s.facts) lines.push(`  ${MARKS[f.mark]} ${f.text}`);
    lines.push('');
  }
  const facts = sections.flatMap((s) => s.facts);
  const count = (mark: Fact['mark'], word: string) => {
    const n = facts.filter((f) => f.mark === mark).length;
    return n ? `${n} ${word}${n === 1 ? '' : 's'}` : '';
  };
  const problems = count('fail', 'problem');
  const warnings = count('warn', 'warning');
  if (problems) lines.push(`${MARKS.fail} ${[problems, warnings].filter(Boolean).join(', ')}`);
  else lines.push(`${MARKS.ok} no problems${warnings ? ` (${warnings})` : ''}`);
  return `${lines.join('\n')}\n`;
}
