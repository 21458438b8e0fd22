/** Relevance score 0..1 as a bar, with the number for screen readers and sighted users alike. */
export function ScoreBar({ score, raw }: { score: number; raw?: number }) {
  const pct = Math.max(0, Math.min(1, score)) * 100;
  return (
    <div className="score" title={raw !== undefined ? `raw score ${raw.toFixed(3)}` : undefined}>
      <div
        className="score-track"
        role="meter"
        aria-label="Match score"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
      >
        <div className="score-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="score-num">{Math.round(pct)}%</span>
    </div>
  );
}
