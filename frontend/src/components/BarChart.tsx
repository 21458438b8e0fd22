/** A small bar chart as inline SVG (no chart library, no external requests): one bar per item,
 * an optional highlighted part of each bar, the values also in the accessible description. */
export interface Bar {
  label: string;
  value: number;
  /** the part of `value` drawn highlighted (e.g. the no-match prompts of a day) */
  part?: number;
}

interface Props {
  title: string;
  bars: Bar[];
  /** formats a value for the labels and the description */
  format?: (value: number) => string;
  partLabel?: string;
  max?: number;
}

const HEIGHT = 140;
const BAR = 28;
const GAP = 10;

export function BarChart({ title, bars, format = String, partLabel, max }: Props) {
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value), 1e-9);
  const width = Math.max(bars.length * (BAR + GAP) + GAP, 120);
  const description = bars
    .map(
      (b) =>
        `${b.label}: ${format(b.value)}${b.part !== undefined && partLabel ? ` (${partLabel} ${format(b.part)})` : ''}`,
    )
    .join('; ');
  return (
    <figure className="bar-chart">
      <figcaption>{title}</figcaption>
      <svg
        role="img"
        aria-label={`${title}. ${description || 'no data'}`}
        viewBox={`0 0 ${width} ${HEIGHT + 34}`}
        width={width}
        height={HEIGHT + 34}
      >
        <line x1={0} x2={width} y1={HEIGHT} y2={HEIGHT} className="axis" />
        {bars.map((bar, i) => {
          const x = GAP + i * (BAR + GAP);
          const h = (bar.value / top) * (HEIGHT - 16);
          const ph = bar.part ? (bar.part / top) * (HEIGHT - 16) : 0;
          return (
            <g key={bar.label} data-testid="bar">
              <rect x={x} y={HEIGHT - h} width={BAR} height={h} className="bar" />
              {ph > 0 && <rect x={x} y={HEIGHT - ph} width={BAR} height={ph} className="bar-part" />}
              <text x={x + BAR / 2} y={HEIGHT - h - 4} textAnchor="middle" className="bar-value">
                {format(bar.value)}
              </text>
              <text x={x + BAR / 2} y={HEIGHT + 14} textAnchor="middle" className="bar-label">
                {bar.label}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
