'use client';

import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { type AlertsState, AlertsWatcher } from '@/lib/alertsWatcher';
import { formatDateTime } from '@/lib/format';

/** The inbox: a bell with the unread count, opening the newest alerts of the caller's watches
 * (followed live by {@link AlertsWatcher}). E-mail deliveries show their text here too. */
export function AlertBell({ intervalMs }: { intervalMs?: number }) {
  const [state, setState] = useState<AlertsState>({
    alerts: [],
    unread: 0,
    error: null,
    connection: 'connecting',
  });
  const [open, setOpen] = useState(false);
  const watcher = useRef<AlertsWatcher | null>(null);

  useEffect(() => {
    const w = new AlertsWatcher(setState, { intervalMs });
    watcher.current = w;
    w.start();
    return () => w.stop();
  }, [intervalMs]);

  const label = state.unread ? `Alerts: ${state.unread} unread` : 'Alerts';
  return (
    <div className="alerts">
      <button
        type="button"
        className="btn btn-ghost alert-bell"
        aria-label={label}
        aria-expanded={open}
        data-testid="alert-bell"
        data-connection={state.connection}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">🔔</span>
        {state.unread > 0 && (
          <span className="alert-count" data-testid="alert-count">
            {state.unread}
          </span>
        )}
      </button>
      {open && (
        <section className="alert-panel" aria-label="Alerts" data-testid="alert-panel">
          {state.error && <p className="alert-error">Not up to date: {state.error}</p>}
          {state.alerts.length === 0 ? (
            <p className="muted">No alerts yet. Watch a succeeded run to be told when its result changes.</p>
          ) : (
            <ul>
              {state.alerts.map((alert) => (
                <li key={alert.alert_id} className={alert.read ? 'alert read' : 'alert unread'} data-testid="alert">
                  <Link href={`/run/?id=${encodeURIComponent(alert.run_id)}`}>{alert.summary}</Link>
                  <span className="muted"> · {formatDateTime(alert.created_at)}</span>
                  {alert.deliveries.map((d) => (
                    <details key={`${d.type}-${d.target}`} className="delivery">
                      <summary>
                        {d.type} to {d.target}: {d.status}
                      </summary>
                      {d.message && <pre>{d.message}</pre>}
                    </details>
                  ))}
                  {!alert.read && (
                    <button
                      type="button"
                      className="btn btn-ghost"
                      onClick={() => void watcher.current?.markRead(alert.alert_id)}
                    >
                      Mark read
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
