/**
 * Follows one run: the SSE stream first (the browser's EventSource resumes with Last-Event-ID by
 * itself), polling `GET /analysis/runs/{id}` when streaming is unavailable, and one fetch of the
 * full run after the terminal event. Events are keyed by `seq`, so a reconnect that replays an
 * event never duplicates a timeline entry.
 */
import { ApiError } from './api';
import type { Progress, Run, RunError, RunStatus, StreamEvent, TimelineEntry } from './types';
import { isTerminal } from './types';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'closed';

export interface WatchState {
  runId: string;
  status: RunStatus | null;
  progress: Progress | null;
  error: RunError | null;
  timeline: TimelineEntry[];
  run: Run | null;
  connection: Connection;
  lastSeq: number;
  /** Why the last fetch failed, while we keep trying. */
  fetchError: string | null;
  /** The run cannot be loaded at all (404, forbidden). */
  fatal: string | null;
}

export interface WatcherOptions {
  runId: string;
  streamUrl?: string | null;
  fetchRun: (id: string) => Promise<Run>;
  EventSourceImpl?: typeof EventSource | null;
  pollMs?: number;
  maxPollMs?: number;
  /** Connection errors in a row (no event, no open in between) before giving up on the stream. */
  maxStreamErrors?: number;
  /** Polls of a terminal run whose terminal event has not shown up, before settling anyway. */
  maxTerminalPolls?: number;
  onChange: (state: WatchState) => void;
}

const STREAM_EVENTS = ['status', 'progress', 'result'] as const;
const RANK: Record<string, number> = { queued: 0, running: 1 };

function statusRank(status: string | null): number {
  if (status === null) return -1;
  return isTerminal(status) ? 2 : (RANK[status] ?? 0);
}

export class RunWatcher {
  private state: WatchState;
  private readonly seen = new Set<number>();
  private source: EventSource | null = null;
  private streamErrors = 0;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private pollDelay: number;
  private polling = false;
  private terminalPolls = 0;
  private stopped = false;
  private readonly opts: Required<Omit<WatcherOptions, 'streamUrl' | 'EventSourceImpl'>> &
    Pick<WatcherOptions, 'streamUrl' | 'EventSourceImpl'>;

  constructor(options: WatcherOptions) {
    this.opts = { pollMs: 1000, maxPollMs: 5000, maxStreamErrors: 4, maxTerminalPolls: 3, ...options };
    this.pollDelay = this.opts.pollMs;
    this.state = {
      runId: options.runId,
      status: null,
      progress: null,
      error: null,
      timeline: [],
      run: null,
      connection: 'connecting',
      lastSeq: 0,
      fetchError: null,
      fatal: null,
    };
  }

  get current(): WatchState {
    return this.state;
  }

  start(): void {
    const ES = this.opts.EventSourceImpl === undefined ? globalThis.EventSource : this.opts.EventSourceImpl;
    if (this.opts.streamUrl && ES) {
      this.openStream(ES, this.opts.streamUrl);
      // The header (scenario, manifest) comes from the run document; events merge by seq.
      void this.fetchOnce();
    } else {
      this.startPolling();
    }
  }

  stop(): void {
    this.stopped = true;
    this.closeStream();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private emit(patch: Partial<WatchState>): void {
    if (this.stopped) return;
    this.state = { ...this.state, ...patch };
    this.opts.onChange(this.state);
  }

  private openStream(ES: typeof EventSource, url: string): void {
    const source = new ES(url);
    this.source = source;
    source.addEventListener('open', () => {
      this.streamErrors = 0;
      this.emit({ connection: 'live' });
    });
    for (const name of STREAM_EVENTS) {
      source.addEventListener(name, (e) => this.onMessage(name, e as MessageEvent));
    }
    // `error` is both the server's named event (a MessageEvent with data) and the connection's.
    source.addEventListener('error', (e) => {
      const data = (e as MessageEvent).data;
      if (typeof data === 'string' && data !== '') this.onMessage('error', e as MessageEvent);
      else this.onStreamError();
    });
  }

  private closeStream(): void {
    this.source?.close();
    this.source = null;
  }

  private onStreamError(): void {
    const source = this.source;
    if (!source || this.stopped) return;
    if (isTerminal(this.state.status)) {
      this.closeStream();
      this.startPolling();
      return;
    }
    this.streamErrors += 1;
    // CLOSED means the browser will not retry (HTTP error, expired token, wrong content type).
    if (source.readyState === 2 || this.streamErrors > this.opts.maxStreamErrors) {
      this.closeStream();
      this.startPolling();
    } else {
      this.emit({ connection: 'reconnecting' });
    }
  }

  private onMessage(event: string, message: MessageEvent): void {
    let data: StreamEvent;
    try {
      data = JSON.parse(message.data as string) as StreamEvent;
    } catch {
      return;
    }
    this.streamErrors = 0;
    const seq = Number(message.lastEventId || data.seq);
    const added = this.addEntries([{ seq, event, status: data.status, at: data.at, data }]);
    if (!added) return;
    const patch: Partial<WatchState> = { connection: 'live' };
    if (statusRank(data.status) >= statusRank(this.state.status)) patch.status = data.status as RunStatus;
    if (data.progress && seq >= this.state.lastSeq) patch.progress = data.progress;
    if (data.error) patch.error = data.error;
    this.emit(patch);
    if (event === 'status' && isTerminal(data.status)) {
      this.closeStream();
      this.startPolling(); // fetch the full result once (polls again only if the run lags)
    }
  }

  /** Adds unseen entries, keeps the timeline sorted by seq; returns how many were new. */
  private addEntries(entries: TimelineEntry[]): number {
    const fresh = entries.filter((entry) => Number.isFinite(entry.seq) && !this.seen.has(entry.seq));
    if (fresh.length === 0) return 0;
    for (const entry of fresh) this.seen.add(entry.seq);
    const timeline = [...this.state.timeline, ...fresh].sort((a, b) => a.seq - b.seq);
    this.state = { ...this.state, timeline, lastSeq: timeline[timeline.length - 1].seq };
    return fresh.length;
  }

  private mergeRun(run: Run): void {
    // A timeline event's payload is the event itself, as for a streamed event.
    this.addEntries(
      (run.timeline ?? []).map((entry) => ({
        seq: Number(entry.seq),
        event: entry.event,
        status: entry.status,
        at: entry.at,
        data: entry,
      })),
    );
    const patch: Partial<WatchState> = { run, fetchError: null };
    if (statusRank(run.status) >= statusRank(this.state.status)) {
      patch.status = run.status;
      patch.progress = run.progress ?? this.state.progress;
    }
    if (run.error) patch.error = run.error;
    // The run document can lead its event log (events are projected asynchronously), so a
    // terminal document does not close the stream: the stream's own terminal event does.
    this.emit(patch);
  }

  /** Done when the run is terminal and its terminal event is in the timeline (or we waited). */
  private settled(): boolean {
    const run = this.state.run;
    if (!run || !isTerminal(run.status) || this.state.fetchError !== null) return false;
    const hasTerminalEvent = this.state.timeline.some((e) => e.event === 'status' && isTerminal(e.status));
    return hasTerminalEvent || this.terminalPolls >= this.opts.maxTerminalPolls;
  }

  private async fetchOnce(): Promise<boolean> {
    try {
      const run = await this.opts.fetchRun(this.opts.runId);
      if (this.stopped) return true;
      this.mergeRun(run);
      return true;
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 404 || exc.status === 403 || exc.status === 401)) {
        this.emit({ fatal: exc.message, connection: 'closed' });
        this.stop();
        return false;
      }
      this.emit({ fetchError: (exc as Error).message });
      return true;
    }
  }

  private startPolling(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    if (!isTerminal(this.state.status)) this.emit({ connection: 'polling' });
    void this.poll();
  }

  private async poll(): Promise<void> {
    const ok = await this.fetchOnce();
    if (this.stopped || !ok) return;
    if (this.state.run && isTerminal(this.state.run.status)) this.terminalPolls += 1;
    if (this.settled()) {
      this.closeStream();
      this.emit({ connection: 'closed' });
      return;
    }
    this.pollDelay = this.state.fetchError ? Math.min(this.pollDelay * 2, this.opts.maxPollMs) : this.opts.pollMs;
    this.pollTimer = setTimeout(() => void this.poll(), this.pollDelay);
  }
}
