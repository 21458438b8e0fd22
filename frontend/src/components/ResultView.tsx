'use client';

import { useState } from 'react';
import { api } from '@/lib/api';
import type { ExportFormat, Run, ScenarioResult } from '@/lib/types';
import { ResultChart } from './ResultChart';
import { ResultTable, rowDomId } from './ResultTable';

type Highlight = { row: string | null; field: string | null };

const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'parquet'];
const FORMAT_LABELS: Record<ExportFormat, string> = { csv: 'CSV', json: 'JSON', parquet: 'Parquet' };

/** Follows a short-lived link from the API: the report in a new tab, an export as a download
 * (the server sends it as an attachment). */
export function followLink(url: string, kind: 'report' | ExportFormat): void {
  if (kind === 'report') {
    window.open(url, '_blank', 'noopener');
    return;
  }
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Everything a finished run produced: summary, narrative, charts, table, data quality, and
 * the server-built report and exports (full precision, with the manifest). */
export function ResultView({ run, result }: { run: Run; result: ScenarioResult }) {
  const [highlight, setHighlight] = useState<Highlight | null>(null);
  const [linkError, setLinkError] = useState<string | null>(null);

  async function open(kind: 'report' | ExportFormat) {
    setLinkError(null);
    try {
      const link = kind === 'report' ? await api.report(run.run_id) : await api.exportLink(run.run_id, kind);
      followLink(link.url, kind);
    } catch (exc) {
      setLinkError(`${kind === 'report' ? 'Report' : 'Export'} unavailable: ${(exc as Error).message}`);
    }
  }

  function jumpTo(claim: Highlight) {
    setHighlight(claim);
    const el = document.getElementById(rowDomId(claim.row ?? ''));
    el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el?.querySelector<HTMLElement>('th')?.focus?.();
  }

  return (
    <div className="result">
      <section className="panel" aria-labelledby="summary-title">
        <div className="panel-head">
          <h2 id="summary-title">Result</h2>
          <div className="export" role="group" aria-label="Report and exports">
            <button type="button" className="btn" data-testid="open-report" onClick={() => void open('report')}>
              Open report
            </button>
            {EXPORT_FORMATS.map((format) => (
              <button
                key={format}
                type="button"
                className="btn"
                data-testid={`export-${format}`}
                onClick={() => void open(format)}
              >
                Export {FORMAT_LABELS[format]}
              </button>
            ))}
          </div>
        </div>
        {linkError && (
          <p className="notice notice-error" role="alert" data-testid="link-error">
            {linkError}
          </p>
        )}
        <p className="summary">{result.summary}</p>
        <p className="muted">As of {result.as_of}</p>
        {result.narrative.length > 0 && (
          <ul className="narrative" data-testid="narrative">
            {result.narrative.map((claim, i) => (
              <li key={i}>
                {claim.row ? (
                  <a
                    href={`#${rowDomId(claim.row)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      jumpTo({ row: claim.row ?? null, field: claim.field ?? null });
                    }}
                  >
                    {claim.text}
                  </a>
                ) : (
                  claim.text
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      {result.series.length > 0 && (
        <section className="panel" aria-labelledby="charts-title">
          <h2 id="charts-title">Charts</h2>
          <div className="charts">
            {result.series.map((series) => (
              <ResultChart key={series.name} series={series} />
            ))}
          </div>
        </section>
      )}

      <section className="panel" aria-labelledby="table-title">
        <h2 id="table-title">
          Table <span className="muted count">{result.rows.length} rows</span>
        </h2>
        <ResultTable columns={result.columns} rows={result.rows} highlight={highlight} />
      </section>

      <DataQualityPanel result={result} />
    </div>
  );
}

function DataQualityPanel({ result }: { result: ScenarioResult }) {
  const dq = result.data_quality;
  const dropped = Object.entries(dq.dropped ?? {});
  return (
    <section className="panel" aria-labelledby="dq-title" data-testid="data-quality">
      <h2 id="dq-title">Data quality</h2>
      <dl className="facts">
        <div>
          <dt>Assets used</dt>
          <dd>
            {dq.assets_used} of {dq.assets_requested}
          </dd>
        </div>
        <div>
          <dt>Rows used</dt>
          <dd>
            {Math.max(0, dq.rows_in - dq.rows_dropped).toLocaleString('en-US')} of {dq.rows_in.toLocaleString('en-US')}
          </dd>
        </div>
        <div>
          <dt>Rows dropped</dt>
          <dd>{dq.rows_dropped.toLocaleString('en-US')}</dd>
        </div>
      </dl>
      {dropped.length > 0 ? (
        <details className="dropped">
          <summary>
            {dropped.length} asset{dropped.length === 1 ? '' : 's'} dropped
          </summary>
          <ul>
            {dropped.map(([symbol, reason]) => (
              <li key={symbol}>
                <strong>{symbol}</strong>: {reason}
              </li>
            ))}
          </ul>
        </details>
      ) : (
        <p className="muted">No assets dropped.</p>
      )}
      {dq.notes?.length > 0 && (
        <ul className="notes">
          {dq.notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
