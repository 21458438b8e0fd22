'use client';

import { useEffect, useRef, useState } from 'react';
import type uPlot from 'uplot';
import type { Series } from '@/lib/types';

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#c026d3', '#0891b2', '#ca8a04', '#dc2626'];
const HEIGHT = 260;
const DATE = /^\d{4}-\d{2}-\d{2}/;

type XMode = 'time' | 'numeric' | 'category';

export function xMode(x: Series['x']): XMode {
  if (x.length > 0 && x.every((v) => typeof v === 'string' && DATE.test(v))) return 'time';
  if (x.every((v) => typeof v === 'number')) return 'numeric';
  return 'category';
}

/** uPlot's column data: x as numbers (epoch seconds for dates, indices for categories). */
export function toAligned(series: Series): { mode: XMode; data: uPlot.AlignedData; labels: string[]; keys: string[] } {
  const mode = xMode(series.x);
  const keys = Object.keys(series.y);
  const xs =
    mode === 'time'
      ? series.x.map((v) => Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`) / 1000)
      : mode === 'numeric'
        ? (series.x as number[])
        : series.x.map((_, i) => i);
  const data = [
    xs,
    ...keys.map((k) => series.y[k].map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null))),
  ];
  return { mode, data: data as uPlot.AlignedData, labels: series.x.map(String), keys };
}

function cssVar(name: string, fallback: string): string {
  if (typeof window === 'undefined') return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    const media = window.matchMedia?.('(prefers-color-scheme: dark)');
    media?.addEventListener?.('change', bump);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      media?.removeEventListener?.('change', bump);
      observer.disconnect();
    };
  }, []);
  return version;
}

/**
 * uPlot's legend shows or hides a series on click only. Make each entry a toggle button that the
 * keyboard reaches (Enter/Space) and that says whether its series is shown; the legend table
 * becomes a plain container and the live values (which follow the mouse) stay out of the way.
 */
export function enhanceLegend(u: Pick<uPlot, 'root' | 'series'>): void {
  const table = u.root.querySelector<HTMLElement>('.u-legend');
  if (!table) return;
  table.setAttribute('role', 'presentation');
  const rows = Array.from(table.querySelectorAll<HTMLElement>('tr.u-series'));
  const offset = u.series.length - rows.length;
  rows.forEach((row, r) => {
    const i = r + offset;
    row.setAttribute('role', 'presentation');
    for (const cell of row.querySelectorAll('td')) cell.setAttribute('aria-hidden', 'true');
    const label = row.querySelector<HTMLElement>('th');
    if (!label) return;
    if (i === 0) {
      row.setAttribute('aria-hidden', 'true'); // the x series: nothing to toggle
      return;
    }
    label.setAttribute('role', 'button');
    label.setAttribute('aria-pressed', String(u.series[i]?.show !== false));
    label.title = 'Show or hide this series';
    if (label.tabIndex !== 0) {
      label.tabIndex = 0;
      label.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          label.click();
        }
      });
    }
  });
}

function buildOptions(
  UPlot: typeof uPlot,
  series: Series,
  aligned: ReturnType<typeof toAligned>,
  width: number,
): uPlot.Options {
  const { mode, labels, keys } = aligned;
  const axisColor = cssVar('--muted', '#64748b');
  const gridColor = cssVar('--grid', 'rgba(100,116,139,0.2)');
  const bars = series.kind === 'bar';
  const n = keys.length;
  const groupWidth = 0.8;
  const category = mode === 'category';
  const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
  return {
    width,
    height: HEIGHT,
    tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { show: true, live: true },
    hooks: { setSeries: [(u: uPlot) => enhanceLegend(u)] },
    cursor: { drag: { x: !bars, y: false } },
    scales: {
      // bars grow from zero, so the baseline must be in view
      ...(bars
        ? {
            y: {
              range: (_u: uPlot, min: number, max: number) => {
                const lo = Math.min(0, min);
                const hi = Math.max(0, max);
                const pad = (hi - lo) * 0.08 || 1;
                return [lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0];
              },
            },
          }
        : {}),
      x: category
        ? { time: false, range: () => [-0.5, labels.length - 0.5] }
        : { time: mode === 'time', ...(bars && mode === 'numeric' ? { distr: 2 as const } : {}) },
    },
    axes: [
      {
        ...axis,
        ...(category || (bars && mode === 'numeric')
          ? {
              splits: () => labels.map((_, i) => (category ? i : (aligned.data[0][i] as number))),
              values: (_u: uPlot, splits: number[]) =>
                splits.map((s, i) => (category ? (labels[s] ?? '') : (labels[i] ?? String(s)))),
              grid: { show: false },
            }
          : {}),
      },
      { ...axis, size: 60 },
    ],
    series: [
      {
        label: mode === 'time' ? 'date' : 'x',
        value: category ? (_u, v) => (v === null ? '—' : (labels[v] ?? '')) : undefined,
      },
      ...keys.map((key, i) => {
        const color = PALETTE[i % PALETTE.length];
        const base: uPlot.Series = {
          label: key,
          stroke: color,
          width: bars ? 1 : 1.75,
          points: { show: false },
          spanGaps: false,
        };
        if (!bars) return base;
        const barWidth = groupWidth / n;
        return {
          ...base,
          fill: `${color}cc`,
          paths: UPlot.paths.bars?.(
            category && n > 1
              ? {
                  disp: {
                    x0: {
                      unit: 1,
                      values: (u: uPlot) => (u.data[0] as number[]).map((x) => x - groupWidth / 2 + i * barWidth),
                    },
                    size: { unit: 1, values: (u: uPlot) => (u.data[0] as number[]).map(() => barWidth) },
                  },
                }
              : { size: [0.6, 80] },
          ),
        };
      }),
    ],
  };
}

/** One chart from a ScenarioResult series: uPlot on canvas, fixed height so nothing jumps. */
export function ResultChart({ series }: { series: Series }) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const themeVersion = useThemeVersion();
  const [failed, setFailed] = useState(false);
  const aligned = toAligned(series);
  const points = aligned.labels.length;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a theme change redraws (colours are read from CSS)
  useEffect(() => {
    const el = holder.current;
    if (!el || points === 0) return undefined;
    let disposed = false;
    let observer: ResizeObserver | null = null;
    import('uplot')
      .then(({ default: UPlot }) => {
        if (disposed) return;
        const width = Math.max(240, el.clientWidth);
        plot.current = new UPlot(buildOptions(UPlot, series, toAligned(series), width), toAligned(series).data, el);
        if (plot.current.root) {
          enhanceLegend(plot.current);
          // the canvas says nothing to assistive tech: the summary above describes it
          plot.current.root.querySelector('.u-wrap')?.setAttribute('aria-hidden', 'true');
        }
        observer = new ResizeObserver(() => {
          const w = Math.max(240, el.clientWidth);
          if (plot.current && Math.abs(plot.current.width - w) > 1) plot.current.setSize({ width: w, height: HEIGHT });
        });
        observer.observe(el);
      })
      .catch(() => setFailed(true));
    return () => {
      disposed = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, themeVersion, points]);

  const summary = `${series.kind === 'bar' ? 'Bar' : 'Line'} chart of ${aligned.keys.join(', ')} over ${points} ${
    aligned.mode === 'time' ? `dates from ${aligned.labels[0]} to ${aligned.labels[points - 1]}` : 'points'
  }`;
  return (
    <figure className="chart" data-testid="result-chart" data-series={series.name}>
      <figcaption>{series.name}</figcaption>
      {points === 0 ? (
        <p className="empty chart-empty">No data to plot.</p>
      ) : failed ? (
        <p className="empty chart-empty">The chart could not be drawn.</p>
      ) : (
        <>
          <p className="sr-only">{summary}</p>
          <div className="chart-canvas" ref={holder} />
        </>
      )}
    </figure>
  );
}
