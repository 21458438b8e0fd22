'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '@/lib/api';
import { formatDateTime, statusLabel } from '@/lib/format';
import { isTerminal, type Params, type Progress, type Run, type RunStatus } from '@/lib/types';
import { rememberStream, useRunWatcher } from '@/lib/useRunWatcher';
import { ManifestPanel } from './ManifestPanel';
import { ResultView } from './ResultView';
import { RunTimeline } from './RunTimeline';
import { WatchButton } from './WatchButton';

const CONNECTION_TEXT: Record<string, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  closed: 'complete',
};

/** The line under the progress bar: the outcome, the current step, or what we are waiting for. */
function progressText(status: RunStatus | null, progress: Progress | null | undefined): string {
  if (isTerminal(status)) return `Finished: ${statusLabel(status)}`;
  if (progress) return `${progress.step}: ${progress.message || `${Math.round(progress.percent)}%`}`;
  if (status) return statusLabel(status);
  return 'Connecting…';
}

/** A run answered from the result cache: where its result comes from, and a way to compute anew. */
function CachedNote({ run }: { run: Run }) {
  const router = useRouter();
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function runFresh() {
    setStarting(true);
    setError(null);
    try {
      const accepted = await api.run({
        scenario_id: run.scenario_id,
        params: (run.manifest.params ?? {}) as Params,
        ...(run.manifest.provenance ? { provenance: run.manifest.provenance } : {}),
        fresh: true,
      });
      rememberStream(accepted.run_id, accepted.stream_url);
      router.push(`/run/?id=${encodeURIComponent(accepted.run_id)}`);
    } catch (exc) {
      setError(`Run fresh failed: ${(exc as Error).message}`);
      setStarting(false);
    }
  }

  return (
    <div className="notice notice-info cached-note" role="status" data-testid="cached-note">
      <span>
        Cached from{' '}
        <Link href={`/run/?id=${encodeURIComponent(run.cached_from ?? '')}`} className="mono" data-testid="cached-from">
          {run.cached_from}
        </Link>
        : same scenario, parameters and data snapshots, so its result is reused.
      </span>{' '}
      <button type="button" className="btn btn-small" onClick={runFresh} disabled={starting} data-testid="run-fresh">
        {starting ? 'Starting…' : 'Run fresh'}
      </button>
      {error && (
        <span className="field-error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </div>
  );
}

export function RunPage() {
  const id = useSearchParams().get('id');
  const state = useRunWatcher(id);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [cancelNote, setCancelNote] = useState<string | null>(null);
  const announcedTerminal = useRef(false);

  useEffect(() => {
    if (state && isTerminal(state.status) && !announcedTerminal.current) {
      announcedTerminal.current = true;
      document.title = `${statusLabel(state.status)} · ${state.run?.scenario_id ?? 'run'} · quantdesk`;
    }
  }, [state]);

  if (!id) {
    return (
      <div className="page">
        <h1>Run</h1>
        <p className="empty">
          No run selected. Start one from the <Link href="/">prompt</Link> or open one from your{' '}
          <Link href="/history/">history</Link>.
        </p>
      </div>
    );
  }

  if (state?.fatal) {
    return (
      <div className="page">
        <h1>Run {id}</h1>
        <p className="notice notice-error" role="alert">
          {state.fatal}
        </p>
      </div>
    );
  }

  const status = state?.status ?? null;
  const run = state?.run ?? null;
  const terminal = isTerminal(status);
  const progress = state?.progress;
  const percent = terminal ? 100 : Math.max(0, Math.min(100, progress?.percent ?? (status === 'running' ? 5 : 0)));

  async function cancel() {
    if (!id) return;
    setCancelling(true);
    setCancelError(null);
    try {
      await api.cancel(id);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 409) {
        // The run finished between the last event and the click: nothing went wrong, and the
        // stream (or the next poll) brings its final state.
        setCancelNote(`Nothing to cancel: the run had already finished (${exc.message}).`);
      } else {
        setCancelError((exc as Error).message);
        setCancelling(false);
      }
    }
  }

  return (
    <div className="page run-page">
      <header className="run-head">
        <div>
          <p className="eyebrow">Run</p>
          <h1>{run?.scenario_id ?? 'Loading run…'}</h1>
          <p className="muted mono run-id">
            {id}
            {run?.created_at ? ` · started ${formatDateTime(run.created_at)}` : ''}
          </p>
        </div>
        <div className="run-controls">
          <div
            className={`status-pill badge-${status ?? 'loading'}`}
            data-testid="run-status"
            data-status={status ?? ''}
            data-run-id={run?.run_id ?? ''}
            role="status"
            aria-live="polite"
          >
            {statusLabel(status)}
          </div>
          <span
            className={`conn conn-${state?.connection ?? 'connecting'}`}
            data-testid="run-connection"
            data-connection={state?.connection ?? 'connecting'}
          >
            {CONNECTION_TEXT[state?.connection ?? 'connecting']}
          </span>
          {!terminal && !cancelNote && (
            <button
              type="button"
              className="btn btn-danger"
              onClick={cancel}
              disabled={cancelling || !status}
              data-testid="cancel-button"
            >
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {run && status === 'succeeded' && <WatchButton runId={run.run_id} />}
          {run && terminal && (
            <Link className="btn" href="/history/">
              History
            </Link>
          )}
        </div>
      </header>

      <div className="progress" aria-hidden={terminal}>
        <div
          className={`progress-track ${status ? `progress-${status}` : ''}`}
          role="progressbar"
          aria-label="Run progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(percent)}
          aria-valuetext={progress?.message || statusLabel(status)}
        >
          <div className="progress-fill" style={{ width: `${percent}%` }} />
        </div>
        <p className="progress-text muted">{progressText(status, progress)}</p>
      </div>

      {run?.cached && <CachedNote run={run} />}
      {cancelError && (
        <p className="notice notice-error" role="alert">
          Cancel failed: {cancelError}
        </p>
      )}
      {cancelNote && (
        <p className="notice notice-info" role="status" data-testid="cancel-note">
          {cancelNote}
        </p>
      )}
      {state?.fetchError && !terminal && (
        <p className="notice notice-warn" role="status">
          Could not refresh the run ({state.fetchError}); retrying.
        </p>
      )}
      {state?.error && (
        <div className="notice notice-error" role="alert" data-testid="run-error">
          <strong>
            {status === 'timed_out' ? 'Timed out' : 'Run failed'}
            {state.error.type ? ` (${state.error.type})` : ''}:{' '}
          </strong>
          {state.error.message}
        </div>
      )}

      <div className="run-grid">
        <div className="run-side">
          <RunTimeline entries={state?.timeline ?? []} status={status} />
          {run && <ManifestPanel run={run} />}
        </div>
        <div className="run-main">
          {run?.result ? (
            <ResultView run={run} result={run.result} />
          ) : terminal && run ? (
            <section className="panel">
              <h2>Result</h2>
              <p className="empty">
                {status === 'succeeded'
                  ? 'The run finished without a result.'
                  : `No result: the run ${statusLabel(status)}.`}
              </p>
              <p>
                <Link href="/">Back to the prompt</Link>
              </p>
            </section>
          ) : (
            <section className="panel result-placeholder" aria-label="Result pending">
              <h2>Result</h2>
              <p className="muted">The table and charts appear here when the run finishes.</p>
              <div className="skeleton skeleton-chart" aria-hidden="true" />
              <div className="skeleton skeleton-table" aria-hidden="true" />
            </section>
          )}
        </div>
      </div>
    </div>
  );
}
