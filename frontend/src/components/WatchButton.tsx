'use client';

import { useState } from 'react';
import { ApiError, api } from '@/lib/api';

/** "Watch": re-run this succeeded run's scenario on each new data snapshot and alert (in the
 * bell) when its result changes; webhook and e-mail channels are set through the API. */
export function WatchButton({ runId }: { runId: string }) {
  const [phase, setPhase] = useState<'idle' | 'saving' | 'watching'>('idle');
  const [error, setError] = useState<string | null>(null);

  async function watch() {
    setPhase('saving');
    setError(null);
    try {
      await api.watch({ run_id: runId, trigger: { on: 'snapshot' }, channels: [{ type: 'inbox' }] });
      setPhase('watching');
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : String(exc));
      setPhase('idle');
    }
  }

  if (phase === 'watching')
    return (
      <span className="muted" role="status" data-testid="watching">
        Watching: new data re-runs it; changes show in the bell.
      </span>
    );
  return (
    <>
      <button
        type="button"
        className="btn"
        onClick={() => void watch()}
        disabled={phase === 'saving'}
        data-testid="watch-button"
      >
        {phase === 'saving' ? 'Saving…' : 'Watch'}
      </button>
      {error && (
        <span className="notice notice-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
