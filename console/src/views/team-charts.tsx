import { useMemo } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad, usePoll } from '../load.js';
import type { Stats } from '../types.js';
import { Failure, formatDollars, formatTokens } from '../ui/bits.js';
import { type ChartSeries, TimeChart } from '../ui/chart.js';

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Tokens and cost per persona per day, runs per hour, queue depth: `GET /api/stats`. */
export function TeamCharts({ personas }: { personas: string[] }) {
  const stats = useLoad('stats', () => api.get<Stats>('/api/stats?days=7'));
  usePoll(stats.reload, 30_000);
  const charts = useMemo(() => (stats.data ? chartData(stats.data, personas) : null), [stats.data, personas.join(',')]);
  if (stats.error && !stats.data) return <Failure error={stats.error} retry={stats.reload} />;
  if (!charts) return null;
  return (
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Use and load</h2>
      <div class="charts">
        <TimeChart title="Tokens per persona per day" x={charts.days} series={charts.tokens} format={formatTokens} summary={describe(charts.tokens, formatTokens, 'tokens over the last 7 days')} />
        <TimeChart title="Cost per persona per day" x={charts.days} series={charts.cost} format={formatDollars} summary={describe(charts.cost, formatDollars, 'spent over the last 7 days')} />
        <TimeChart title="Runs per hour" x={charts.hours} series={charts.runs} bars summary={describe(charts.runs, String, 'runs over the last 48 hours')} />
        <TimeChart title="Queue depth" x={charts.queueAt} series={charts.queue} summary={describe(charts.queue, String, 'jobs at the latest sample', true)} />
      </div>
    </section>
  );
}

function chartData(stats: Stats, personaOrder: string[]) {
  // Days: every UTC day from `since` to today, so a day without use shows as zero, not as a gap.
  const days: number[] = [];
  for (let t = Date.parse(stats.since); t <= Date.now(); t += 86_400_000) days.push(Math.floor(t / 1000));
  const dayIndex = new Map(days.map((d, i) => [new Date(d * 1000).toISOString().slice(0, 10), i]));
  const used = [...new Set(stats.usagePerDay.map((u) => u.persona))].sort((a, b) => order(personaOrder, a) - order(personaOrder, b));
  const perPersona = (pick: (u: Stats['usagePerDay'][number]) => number): ChartSeries[] =>
    used.map((persona) => {
      const values = days.map(() => 0);
      for (const u of stats.usagePerDay) if (u.persona === persona && dayIndex.has(u.day)) values[dayIndex.get(u.day)!] += pick(u);
      return { label: persona, values };
    });
  // Hours: the last 48, hours without runs as zero.
  const now = Math.floor(Date.now() / 3_600_000) * 3600;
  const hours = Array.from({ length: 48 }, (_, i) => now - (47 - i) * 3600);
  const runs = hours.map(() => 0);
  const failed = hours.map(() => 0);
  for (const r of stats.runsPerHour) {
    const i = hours.indexOf(seconds(r.hour));
    if (i >= 0) {
      runs[i] = r.runs;
      failed[i] = r.failed;
    }
  }
  // `now` is null while the queue cannot be read: then no queue series, rather than a failed view.
  const queueNames = Object.keys(stats.queue.now ?? {});
  const samples = stats.queue.samples;
  return {
    days: used.length ? days : [],
    tokens: perPersona((u) => u.inputTokens + u.outputTokens),
    cost: perPersona((u) => u.costUsd),
    hours,
    runs: [
      { label: 'runs', values: runs },
      { label: 'failed', values: failed },
    ],
    queueAt: samples.map((s) => seconds(String(s.at))),
    queue: queueNames.map((name) => ({ label: name, values: samples.map((s) => (typeof s[name] === 'number' ? (s[name] as number) : null)) })),
  };
}

function order(list: string[], id: string): number {
  const i = list.indexOf(id);
  return i < 0 ? list.length : i;
}

/** A sentence for screen readers: each series' total (or latest value). */
function describe(series: ChartSeries[], format: (n: number) => string, what: string, latest = false): string {
  if (series.length === 0) return `No data: ${what}.`;
  const parts = series.map((s) => {
    const values = s.values.filter((v): v is number => v !== null);
    const n = latest ? (values.at(-1) ?? 0) : values.reduce((a, b) => a + b, 0);
    return `${s.label} ${format(n)}`;
  });
  return `${parts.join(', ')} ${what}.`;
}
