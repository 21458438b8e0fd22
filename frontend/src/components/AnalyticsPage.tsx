'use client';

import { useCallback, useEffect, useState } from 'react';
import { ApiError, api } from '@/lib/api';
import { formatDateTime } from '@/lib/format';
import type { AnalyticsReport } from '@/lib/types';
import { BarChart } from './BarChart';
import { TableHead } from './TableHead';

const percent = (value: number) => `${Math.round(value * 100)}%`;

/** The researcher's prompt analytics over a window of days: how prompts were answered, which
 * card was run, what was edited; the prompts whose chosen card was not ranked first. */
export function AnalyticsPage() {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [report, setReport] = useState<AnalyticsReport | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);

  const load = useCallback(async (start?: string, end?: string) => {
    setLoading(true);
    setError(null);
    try {
      const body = await api.analytics(start || undefined, end || undefined);
      setReport(body);
      setFrom(body.from_date);
      setTo(body.to_date);
    } catch (exc) {
      const err = exc as ApiError;
      setError({ message: err.message, field: err instanceof ApiError ? err.field : null });
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void load(from, to);
  }

  const fieldError = (name: string) => (error?.field === name ? error.message : null);

  return (
    <div className="page analytics-page">
      <div className="panel-head">
        <h1>Prompt analytics</h1>
        <form className="window-form" onSubmit={submit} aria-label="Window">
          <label>
            From{' '}
            <input
              type="date"
              name="from"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              aria-invalid={fieldError('from') ? 'true' : undefined}
              aria-describedby={fieldError('from') ? 'from-error' : undefined}
            />
          </label>
          <label>
            To{' '}
            <input
              type="date"
              name="to"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              aria-invalid={fieldError('to') ? 'true' : undefined}
              aria-describedby={fieldError('to') ? 'to-error' : undefined}
            />
          </label>
          <button type="submit" className="btn" disabled={loading}>
            {loading ? 'Loading…' : 'Show'}
          </button>
        </form>
      </div>
      {error && (
        <p className="notice notice-error" role="alert" id={error.field ? `${error.field}-error` : undefined}>
          {error.message}
        </p>
      )}
      {report === null ? (
        loading && <div className="skeleton skeleton-table" role="status" aria-label="Loading analytics" />
      ) : report.prompts === 0 ? (
        <p className="empty">
          No prompts between {report.from_date} and {report.to_date}.
        </p>
      ) : (
        <Report report={report} />
      )}
    </div>
  );
}

function Report({ report }: { report: AnalyticsReport }) {
  const outcomes = Object.entries(report.outcomes);
  return (
    <>
      <dl className="stat-tiles" data-testid="analytics-summary">
        <div>
          <dt>Prompts</dt>
          <dd>{report.prompts}</dd>
        </div>
        <div>
          <dt>No confident match</dt>
          <dd>{percent(report.no_match_rate)}</dd>
        </div>
        <div>
          <dt>Followed by a run</dt>
          <dd>{report.followed}</dd>
        </div>
        {outcomes.length > 0 && (
          <div>
            <dt>Run outcomes</dt>
            <dd className="outcomes">{outcomes.map(([status, n]) => `${status} ${n}`).join(' · ')}</dd>
          </div>
        )}
      </dl>
      {report.truncated && (
        <p className="notice notice-warn" role="status">
          This window holds more prompts than one report reads: narrow it for exact figures.
        </p>
      )}
      <div className="chart-row">
        <BarChart
          title="Prompts per day"
          bars={report.per_day.map((d) => ({ label: d.date.slice(5), value: d.prompts, part: d.no_match }))}
          partLabel="no match"
        />
        <BarChart
          title="Choice rate by rank"
          bars={report.choice_rate_by_rank.map((r) => ({ label: `#${r.rank}`, value: r.rate }))}
          format={percent}
          max={1}
        />
      </div>
      <section aria-labelledby="edited-heading">
        <h2 id="edited-heading">Most edited params</h2>
        {report.most_edited_params.length === 0 ? (
          <p className="empty">No pre-filled input was changed before a run.</p>
        ) : (
          <table className="result-table" data-testid="edited-params">
            <TableHead columns={[{ label: 'Scenario' }, { label: 'Param' }, { label: 'Edits', align: 'num' }]} />
            <tbody>
              {report.most_edited_params.map((e) => (
                <tr key={`${e.scenario_id}.${e.param}`}>
                  <td className="txt">{e.scenario_id}</td>
                  <th scope="row" className="txt">
                    {e.param}
                  </th>
                  <td className="num">{e.edits}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="not-first-heading">
        <h2 id="not-first-heading">Chosen card not ranked first</h2>
        {report.not_first.length === 0 ? (
          <p className="empty">Every run started from the top card.</p>
        ) : (
          <table className="result-table" data-testid="not-first">
            <TableHead
              columns={[{ label: 'When' }, { label: 'Prompt' }, { label: 'Ranked first' }, { label: 'Chosen' }]}
            />
            <tbody>
              {report.not_first.map((n) => (
                <tr key={n.suggest_id}>
                  <td className="txt">{formatDateTime(n.at)}</td>
                  <th scope="row" className="txt">
                    {n.prompt}
                  </th>
                  <td className="txt">{n.first_scenario_id}</td>
                  <td className="txt">
                    {n.chosen_scenario_id} (#{n.chosen_rank})
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
