'use client';

import { useEffect, useState } from 'react';
import { api } from './api';
import { RunWatcher, type WatchState } from './runWatcher';

/** Where the prompt page leaves a new run's signed stream URL for the run page. */
export const streamKey = (runId: string) => `qd.stream.${runId}`;

export function rememberStream(runId: string, streamUrl: string): void {
  try {
    window.sessionStorage.setItem(streamKey(runId), streamUrl);
  } catch {
    /* private mode: the run page falls back to polling */
  }
}

function recallStream(runId: string): string | null {
  try {
    return window.sessionStorage.getItem(streamKey(runId));
  } catch {
    return null;
  }
}

export function useRunWatcher(runId: string | null): WatchState | null {
  const [state, setState] = useState<WatchState | null>(null);
  useEffect(() => {
    if (!runId) {
      setState(null);
      return undefined;
    }
    const watcher = new RunWatcher({
      runId,
      streamUrl: recallStream(runId),
      fetchRun: api.getRun,
      onChange: setState,
    });
    setState(watcher.current);
    watcher.start();
    return () => watcher.stop();
  }, [runId]);
  return state;
}
