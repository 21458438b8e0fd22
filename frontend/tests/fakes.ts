/** Test doubles for the browser's EventSource and for API payloads. */
import type { Run, RunStatus, ScenarioResult, StreamEvent } from '@/lib/types';

type Listener = (event: Event) => void;

export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly url: string;
  readyState = 0;
  closed = false;
  private listeners = new Map<string, Listener[]>();

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  static latest(): FakeEventSource {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1];
  }

  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }

  removeEventListener(): void {}

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  dispatch(event: Event): void {
    for (const fn of this.listeners.get(event.type) ?? []) fn(event);
  }

  open(): void {
    this.readyState = 1;
    this.dispatch(new Event('open'));
  }

  /** One SSE event, as the browser would deliver it. */
  send(type: string, seq: number, data: Record<string, unknown>): void {
    this.dispatch(new MessageEvent(type, { data: JSON.stringify({ seq, ...data }), lastEventId: String(seq) }));
  }

  /** A dropped connection: the browser will retry (CONNECTING) unless `fatal`. */
  fail(fatal = false): void {
    this.readyState = fatal ? 2 : 0;
    this.dispatch(new Event('error'));
  }
}

export const AT = (n: number) => `2025-01-02T10:00:0${n}.000Z`;

/** One timeline event of run r-1, as `GET /analysis/runs/{id}` returns it. */
export function entry(seq: number, event: StreamEvent['event'], status: RunStatus): StreamEvent {
  return { run_id: 'r-1', seq, event, status, at: AT(seq) };
}

export const RESULT: ScenarioResult = {
  scenario_id: 'trend_strength',
  as_of: '2025-01-02',
  summary: 'AAPL has the strongest trend of 2 assets.',
  columns: [
    { name: 'symbol', label: 'Symbol', kind: 'text', description: '' },
    { name: 'adx', label: 'ADX', kind: 'number', description: 'Average directional index' },
    { name: 'momentum', label: '12-1 momentum', kind: 'percent', description: '' },
  ],
  rows: [
    { symbol: 'MSFT', adx: 21.5, momentum: 0.12 },
    { symbol: 'AAPL', adx: 34.25, momentum: -0.031 },
  ],
  series: [{ name: 'ADX by symbol', kind: 'bar', x: ['AAPL', 'MSFT'], y: { adx: [34.25, 21.5] } }],
  narrative: [{ text: 'AAPL trends hardest (ADX 34.3).', row: 'AAPL', field: 'adx' }],
  data_quality: {
    assets_requested: 3,
    assets_used: 2,
    rows_in: 750,
    rows_dropped: 250,
    dropped: { XYZ: 'no prices in window' },
    notes: ['1 asset dropped'],
  },
};

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    run_id: 'r-1',
    scenario_id: 'trend_strength',
    status: 'succeeded',
    watch_id: null,
    created_at: AT(1),
    updated_at: AT(5),
    started_at: AT(2),
    finished_at: AT(5),
    event_seq: 3,
    manifest: {
      scenario_id: 'trend_strength',
      scenario_version: '1.0.0',
      params: { lookback_days: 60 },
      data_snapshots: {},
      code_version: 'test',
      provenance: null,
      timings: {},
    },
    progress: null,
    error: null,
    result_summary: null,
    timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running'), entry(3, 'status', 'succeeded')],
    result: RESULT,
    stream_url: '/runs/r-1/stream?token=t',
    cached: false,
    cached_from: null,
    ...overrides,
  };
}
