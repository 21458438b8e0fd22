/**
 * Follows the caller's alert inbox by polling `GET /analysis/alerts`: every `intervalMs` while
 * the page is visible, at once when it becomes visible again, and after a mark-read. Polling,
 * not the run stream: the stream follows one run with a run-scoped token, while alerts arrive
 * for any watch at any time; one cheap query per tab per interval is enough for an inbox.
 */
import { api } from './api';
import type { Alert } from './types';

export interface AlertsState {
  alerts: Alert[];
  unread: number;
  error: string | null;
}

export const POLL_MS = 15_000;

export class AlertsWatcher {
  private state: AlertsState = { alerts: [], unread: 0, error: null };
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') void this.refresh();
  };

  constructor(
    private readonly onChange: (state: AlertsState) => void,
    private readonly intervalMs = POLL_MS,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void this.refresh();
    }, this.intervalMs);
    document.addEventListener('visibilitychange', this.onVisible);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  async refresh(): Promise<void> {
    try {
      const page = await api.alerts();
      this.publish({ alerts: page.alerts, unread: page.unread, error: null });
    } catch (exc) {
      // keep what was shown; say why it is not fresh
      this.publish({ ...this.state, error: (exc as Error).message });
    }
  }

  async markRead(alertId: string): Promise<void> {
    await api.markAlertRead(alertId);
    await this.refresh();
  }

  private publish(state: AlertsState): void {
    this.state = state;
    this.onChange(state);
  }
}
