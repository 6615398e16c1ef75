import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** uPlot is loaded when the first chart is drawn, so the team table does not wait for it. */
let loading: Promise<typeof uPlot> | undefined;
function loadUplot(): Promise<typeof uPlot> {
  loading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return loading;
}

/** Colours distinguishable from each other and readable on both schemes. */
const PALETTE = ['#2f7fd8', '#d9822b', '#2e9e5b', '#c2417a', '#8a63d2', '#9a8a14', '#1f9aa6', '#d14a3a'];

/**
 * A time chart: `x` in seconds since 1970, one line (or bar) per series. The canvas is described
 * for screen readers by `summary`, and the same numbers are one click away as a table.
 */
export function TimeChart({
  title,
  x,
  series,
  bars = false,
  format = String,
  summary,
}: {
  title: string;
  x: number[];
  series: ChartSeries[];
  bars?: boolean;
  format?: (n: number) => string;
  summary: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let plot: uPlot | undefined;
    let observer: ResizeObserver | undefined;
    let cancelled = false;
    loadUplot().then(
      (UPlot) => {
        if (cancelled || !box.current) return;
        const width = () => Math.max(240, box.current?.clientWidth ?? 400);
        const opts: uPlot.Options = {
          width: width(),
          height: 220,
          scales: { x: { time: true } },
          // Axis ticks keep uPlot's own number format (nice steps); legends and tables use `format`.
          axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 60 }],
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: PALETTE[i % PALETTE.length],
              fill: bars ? PALETTE[i % PALETTE.length] : undefined,
              width: 2,
              paths: bars ? UPlot.paths.bars?.({ size: [0.6, 40] }) : undefined,
              value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
            })),
          ],
        };
        plot = new UPlot(opts, [x, ...series.map((s) => s.values)], box.current);
        observer = new ResizeObserver(() => plot?.setSize({ width: width(), height: 220 }));
        observer.observe(box.current);
      },
      (err: unknown) => setFailed(String(err)),
    );
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [x, series, bars, format]);
  return (
    <figure class="chart card">
      <figcaption>{title}</figcaption>
      {x.length === 0 ? <p class="muted">Nothing to show yet.</p> : <div ref={box} role="img" aria-label={summary} />}
      {failed && <p class="failure">{failed}</p>}
      {x.length > 0 && (
        <details>
          <summary>Show as a table</summary>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  {series.map((s) => (
                    <th key={s.label} scope="col" class="num">
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {x.map((t, i) => (
                  <tr key={t}>
                    <td>{new Date(t * 1000).toLocaleString()}</td>
                    {series.map((s) => (
                      <td key={s.label} class="num">
                        {s.values[i] === null ? '—' : format(s.values[i]!)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </figure>
  );
}
