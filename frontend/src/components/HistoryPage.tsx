'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { api } from '@/lib/api';
import { formatDateTime, formatDuration, statusLabel } from '@/lib/format';
import type { Params, RunSummary } from '@/lib/types';
import { rememberStream } from '@/lib/useRunWatcher';
import { TableHead } from './TableHead';

interface Props {
  navigate?: (href: string) => void;
}

/** The user's runs, newest first: open one, or run it again with the same inputs. */
export function HistoryPage({ navigate }: Props) {
  const router = useRouter();
  const go = navigate ?? ((href: string) => router.push(href));
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [rerunning, setRerunning] = useState<string | null>(null);

  const load = useCallback(async (from: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api.listRuns(25, from);
      setRuns((prev) => {
        const seen = new Set(prev.map((r) => r.run_id));
        return from ? [...prev, ...page.runs.filter((r) => !seen.has(r.run_id))] : page.runs;
      });
      setCursor(page.next_cursor);
    } catch (exc) {
      setError((exc as Error).message);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(null);
  }, [load]);

  async function rerun(summary: RunSummary) {
    setRerunning(summary.run_id);
    setError(null);
    try {
      const original = await api.getRun(summary.run_id);
      const params = ((original.manifest?.params as Params | undefined) ?? {}) as Params;
      // a rerun computes again: an identical request would otherwise be answered from the cache
      const accepted = await api.run({ scenario_id: summary.scenario_id, params, fresh: true });
      rememberStream(accepted.run_id, accepted.stream_url);
      go(`/run/?id=${encodeURIComponent(accepted.run_id)}`);
    } catch (exc) {
      setError(`Rerun failed: ${(exc as Error).message}`);
      setRerunning(null);
    }
  }

  return (
    <div className="page history-page">
      <div className="panel-head">
        <h1>History</h1>
        <button type="button" className="btn" onClick={() => void load(null)} disabled={loading}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {runs.length === 0 && loading ? (
        <div className="skeleton skeleton-table" role="status" aria-label="Loading runs" />
      ) : runs.length === 0 && !error ? (
        <p className="empty">
          No runs yet. <Link href="/">Ask a question</Link> and run one of the suggested analyses.
        </p>
      ) : (
        <div className="table-scroll" role="region" aria-label="Your runs" tabIndex={0}>
          <table className="result-table history-table" data-testid="history-table">
            <TableHead
              columns={[
                { label: 'Started' },
                { label: 'Scenario' },
                { label: 'Status' },
                { label: 'Duration', align: 'num' },
                { label: 'Actions', srOnly: true },
              ]}
            />
            <tbody>
              {runs.map((run) => (
                <tr key={run.run_id} data-run-id={run.run_id}>
                  <td className="txt">{formatDateTime(run.created_at)}</td>
                  <th scope="row" className="txt">
                    {run.scenario_id}
                    {run.watch_id && (
                      <span className="badge" title={`fired by watch ${run.watch_id}`}>
                        watch
                      </span>
                    )}
                  </th>
                  <td className="txt">
                    <span className={`badge badge-${run.status}`}>{statusLabel(run.status)}</span>
                    {run.cached && (
                      <span className="badge badge-cached" title={`cached from ${run.cached_from ?? ''}`}>
                        cached
                      </span>
                    )}
                  </td>
                  <td className="num">{formatDuration(run.duration_ms)}</td>
                  <td className="txt actions">
                    <div className="row-actions">
                      <Link href={`/run/?id=${encodeURIComponent(run.run_id)}`} className="btn btn-small">
                        Open<span className="sr-only"> run {run.run_id}</span>
                      </Link>
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => void rerun(run)}
                        disabled={rerunning !== null}
                      >
                        {rerunning === run.run_id ? 'Starting…' : 'Rerun'}
                        <span className="sr-only"> {run.scenario_id}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <p>
          <button type="button" className="btn" onClick={() => void load(cursor)} disabled={loading}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </div>
  );
}
