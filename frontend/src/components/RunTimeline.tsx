'use client';

import { useEffect, useRef } from 'react';
import { elapsedMs, formatDuration, formatTime, statusLabel } from '@/lib/format';
import type { TimelineEntry } from '@/lib/types';

const STEPS = ['queued', 'running', 'finished'] as const;

function describe(entry: TimelineEntry): string {
  const data = (entry.data ?? {}) as Record<string, unknown>;
  const progress = data.progress as { step?: string; percent?: number; message?: string } | undefined;
  const error = data.error as { type?: string; message?: string } | undefined;
  if (entry.event === 'progress' && progress) {
    return [progress.step, progress.percent !== undefined ? `${Math.round(progress.percent)}%` : null, progress.message]
      .filter(Boolean)
      .join(' · ');
  }
  if (error?.message) return `${error.type ? `${error.type}: ` : ''}${error.message}`;
  if (entry.event === 'result') {
    const summary = data.result_summary;
    if (typeof summary === 'string') return summary;
    if (summary && typeof summary === 'object' && 'summary' in summary)
      return String((summary as { summary: unknown }).summary);
    return 'result ready';
  }
  return STATUS_TEXT[entry.status] ?? statusLabel(entry.status);
}

const STATUS_TEXT: Record<string, string> = {
  queued: 'Run accepted, waiting for a worker',
  running: 'Worker started',
  succeeded: 'Finished successfully',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
};

/** The run's lifecycle steps, and every event with its time since the first. */
export function RunTimeline({ entries, status }: { entries: TimelineEntry[]; status: string | null }) {
  const t0 = entries[0]?.at;
  const reached = (step: (typeof STEPS)[number]) => {
    if (step === 'finished') return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(status ?? '');
    if (step === 'running') return status !== null && status !== 'queued';
    return status !== null;
  };
  const last = STEPS.filter(reached).pop();
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);

  // Follow new events unless the reader has scrolled up to look at older ones.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new event is what triggers the scroll
  useEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [entries.length]);
  return (
    <section className="panel timeline-panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <ol className="steps" aria-label="Lifecycle">
        {STEPS.map((step) => (
          <li
            key={step}
            className={`step ${reached(step) ? 'step-done' : ''} ${step === 'finished' && reached(step) ? `step-${status}` : ''}`}
            aria-current={last === step ? 'step' : undefined}
          >
            {step === 'finished' && reached(step) ? statusLabel(status) : step}
          </li>
        ))}
      </ol>
      <div
        className="timeline-scroll"
        tabIndex={0}
        role="region"
        aria-label="Run events"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        <ol className="timeline" data-testid="run-timeline" aria-live="polite" aria-relevant="additions">
          {entries.length === 0 && <li className="timeline-empty muted">Waiting for the first event…</li>}
          {entries.map((entry) => (
            <li
              key={entry.seq}
              data-seq={entry.seq}
              data-event={entry.event}
              className={`tl tl-${entry.event} tl-status-${entry.status}`}
            >
              <span className="tl-seq">
                <span className="sr-only">event </span>
                {entry.seq}
              </span>
              <span className={`badge badge-${entry.status}`}>
                {entry.event === 'status' ? statusLabel(entry.status) : entry.event}
              </span>
              <span className="tl-text">{describe(entry)}</span>
              <time className="tl-time" dateTime={entry.at} title={entry.at}>
                {formatTime(entry.at)}
                <span className="tl-delta"> +{formatDuration(elapsedMs(t0, entry.at))}</span>
              </time>
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
