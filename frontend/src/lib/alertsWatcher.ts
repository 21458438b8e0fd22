/**
 * Follows the caller's alert inbox: `GET /analysis/alerts` for the list and unread count, then
 * the inbox stream (`stream_url`, SSE) for what comes next: each `alert` event refreshes the
 * list at once, and the browser's EventSource resumes with Last-Event-ID by itself when a
 * stream ends. When streaming is unavailable (no EventSource, an expired token, the stream
 * refused) it polls every `intervalMs` while the page is visible, and each poll's fresh
 * `stream_url` tries the stream again, up to `maxStreamErrors` failures in a row. A hidden page
 * closes the stream; showing it again refreshes the list and opens a new one.
 */
import { api } from './api';
import type { Alert } from './types';

export type InboxConnection = 'connecting' | 'live' | 'polling';

export interface AlertsState {
  alerts: Alert[];
  unread: number;
  error: string | null;
  connection: InboxConnection;
}

export interface AlertsWatcherOptions {
  intervalMs?: number;
  EventSourceImpl?: typeof EventSource | null;
  /** Stream failures in a row (no event, no open in between) before polling for good. */
  maxStreamErrors?: number;
}

export const POLL_MS = 15_000;

export class AlertsWatcher {
  private state: AlertsState = { alerts: [], unread: 0, error: null, connection: 'connecting' };
  private timer: ReturnType<typeof setInterval> | null = null;
  private source: EventSource | null = null;
  private streamErrors = 0;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly maxStreamErrors: number;
  private readonly ES: typeof EventSource | null;
  /** A hidden tab holds no stream: on AWS each open stream keeps one Lambda invocation busy
   * (README, "Capacity at 10,000 researchers"); showing the tab again lists and re-follows. */
  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') void this.refresh();
    else this.closeStream();
  };

  constructor(
    private readonly onChange: (state: AlertsState) => void,
    options: AlertsWatcherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? POLL_MS;
    this.maxStreamErrors = options.maxStreamErrors ?? 4;
    const ES = options.EventSourceImpl === undefined ? globalThis.EventSource : options.EventSourceImpl;
    this.ES = ES ?? null;
  }

  start(): void {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.onVisible);
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.closeStream();
    this.stopPolling();
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  async refresh(): Promise<void> {
    try {
      const page = await api.alerts();
      this.publish({ alerts: page.alerts, unread: page.unread, error: null });
      this.follow(page.stream_url);
    } catch (exc) {
      // keep what was shown; say why it is not fresh
      this.publish({ error: (exc as Error).message });
      if (!this.source) this.startPolling();
    }
  }

  async markRead(alertId: string): Promise<void> {
    await api.markAlertRead(alertId);
    await this.refresh();
  }

  /** Open the stream from a listing's URL unless one is open or the stream keeps failing. */
  private follow(streamUrl: string | undefined): void {
    if (this.stopped || this.source) return;
    if (!streamUrl || !this.ES || this.streamErrors >= this.maxStreamErrors) {
      this.startPolling();
      return;
    }
    const source = new this.ES(streamUrl);
    this.source = source;
    source.addEventListener('open', () => {
      this.streamErrors = 0;
      this.stopPolling();
      this.publish({ connection: 'live' });
    });
    source.addEventListener('alert', () => {
      this.streamErrors = 0;
      void this.refresh();
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.streamErrors += 1;
      // CLOSED: the browser will not retry (an expired token, the stream refused); otherwise
      // it reconnects with Last-Event-ID by itself, and the list is polled meanwhile
      if (source.readyState === 2 || this.streamErrors >= this.maxStreamErrors) this.closeStream();
      this.startPolling();
    });
  }

  private closeStream(): void {
    this.source?.close();
    this.source = null;
  }

  private startPolling(): void {
    if (this.stopped) return;
    this.publish({ connection: 'polling' });
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void this.refresh();
    }, this.intervalMs);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private publish(patch: Partial<AlertsState>): void {
    if (this.stopped) return;
    this.state = { ...this.state, ...patch };
    this.onChange(this.state);
  }
}
