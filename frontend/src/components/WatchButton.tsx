'use client';

import { useId, useState } from 'react';
import { ApiError, api } from '@/lib/api';
import type { WatchRequest } from '@/lib/types';

type Kind = 'snapshot' | 'schedule';

interface FormError {
  message: string;
  /** the input the API named: 'schedule', 'timezone' or none (shown above the buttons) */
  input: 'schedule' | 'timezone' | null;
}

export const DEFAULT_SCHEDULE = 'cron(0 18 ? * MON-FRI *)';

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function knownZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

/** Which input an API error belongs to ('trigger' alone: the schedule, the one to fix). */
function inputOf(field: string | null): FormError['input'] {
  if (field === 'trigger.timezone') return 'timezone';
  if (field === 'trigger.schedule' || field === 'trigger') return 'schedule';
  return null;
}

/** "Watch": re-run this succeeded run's scenario on each new data snapshot, or on a schedule
 * (`cron(…)`/`rate(…)` in a time zone), and alert (in the bell) when its result changes;
 * webhook and e-mail channels are set through the API. The API's 4xx shows against its input. */
export function WatchButton({ runId }: { runId: string }) {
  const id = useId();
  const [phase, setPhase] = useState<'idle' | 'editing' | 'saving' | 'watching'>('idle');
  const [kind, setKind] = useState<Kind>('snapshot');
  const [schedule, setSchedule] = useState(DEFAULT_SCHEDULE);
  const [timezone, setTimezone] = useState(browserZone);
  const [error, setError] = useState<FormError | null>(null);
  const [watching, setWatching] = useState('');

  async function save(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPhase('saving');
    setError(null);
    const trigger: WatchRequest['trigger'] =
      kind === 'snapshot' ? { on: 'snapshot' } : { schedule: schedule.trim(), timezone: timezone.trim() };
    try {
      await api.watch({ run_id: runId, trigger, channels: [{ type: 'inbox' }] });
      setWatching(kind === 'snapshot' ? 'new data re-runs it' : `re-runs on ${schedule.trim()} (${timezone.trim()})`);
      setPhase('watching');
    } catch (exc) {
      const field = exc instanceof ApiError ? exc.field : null;
      setError({ message: exc instanceof Error ? exc.message : String(exc), input: inputOf(field) });
      setPhase('editing');
    }
  }

  if (phase === 'watching')
    return (
      <span className="muted" role="status" data-testid="watching">
        Watching: {watching}; changes show in the bell.
      </span>
    );
  if (phase === 'idle')
    return (
      <button type="button" className="btn" onClick={() => setPhase('editing')} data-testid="watch-button">
        Watch
      </button>
    );

  const errorOf = (input: FormError['input']) => (error && error.input === input ? error.message : null);
  const zones = knownZones();
  const field = (name: 'schedule' | 'timezone', label: string, value: string, set: (v: string) => void) => {
    const message = errorOf(name);
    const help = name === 'schedule' ? 'e.g. rate(1 day) or cron(0 18 ? * MON-FRI *)' : 'IANA name, e.g. Europe/Paris';
    return (
      <div className="field">
        <label htmlFor={`${id}-${name}`}>{label}</label>
        <input
          id={`${id}-${name}`}
          name={name}
          value={value}
          required
          onChange={(e) => set(e.target.value)}
          list={name === 'timezone' && zones.length ? `${id}-zones` : undefined}
          aria-invalid={message ? true : undefined}
          aria-describedby={message ? `${id}-${name}-error ${id}-${name}-help` : `${id}-${name}-help`}
          data-testid={`watch-${name}`}
        />
        <small id={`${id}-${name}-help`} className="field-help">
          {help}
        </small>
        {message && (
          <small id={`${id}-${name}-error`} className="field-error" role="alert" data-testid={`watch-${name}-error`}>
            {message}
          </small>
        )}
      </div>
    );
  };

  return (
    <form className="watch-form" aria-label="Watch this run" onSubmit={(e) => void save(e)} data-testid="watch-form">
      <fieldset>
        <legend>Re-run this scenario</legend>
        <label>
          <input type="radio" name="kind" checked={kind === 'snapshot'} onChange={() => setKind('snapshot')} /> when new
          data lands
        </label>
        <label>
          <input type="radio" name="kind" checked={kind === 'schedule'} onChange={() => setKind('schedule')} /> on a
          schedule
        </label>
      </fieldset>
      {kind === 'schedule' && (
        <>
          {field('schedule', 'Schedule', schedule, setSchedule)}
          {field('timezone', 'Time zone', timezone, setTimezone)}
          {zones.length > 0 && (
            <datalist id={`${id}-zones`}>
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          )}
        </>
      )}
      {error && error.input === null && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
      <div className="watch-actions">
        <button type="submit" className="btn" disabled={phase === 'saving'} data-testid="watch-save">
          {phase === 'saving' ? 'Saving…' : 'Start watching'}
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setError(null);
            setPhase('idle');
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
