import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '@/lib/api';
import { RunWatcher, type WatchState } from '@/lib/runWatcher';
import type { Run } from '@/lib/types';
import { AT, entry, FakeEventSource, makeRun } from './fakes';

function watch(fetchRun: (id: string) => Promise<Run>, streamUrl: string | null = '/runs/r-1/stream?token=t') {
  const states: WatchState[] = [];
  const watcher = new RunWatcher({
    runId: 'r-1',
    streamUrl,
    fetchRun,
    EventSourceImpl: FakeEventSource as unknown as typeof EventSource,
    pollMs: 10,
    maxPollMs: 40,
    onChange: (s) => states.push(s),
  });
  watcher.start();
  return { watcher, states, last: () => watcher.current };
}

const pending = () => new Promise<Run>(() => {});

describe('RunWatcher', () => {
  beforeEach(() => FakeEventSource.reset());
  afterEach(() => vi.useRealTimers());

  it('streams the timeline, then fetches the full result once after the terminal event', async () => {
    // Given a run whose document is fetched at start (still queued) and after the end
    const fetchRun = vi
      .fn<(id: string) => Promise<Run>>()
      .mockResolvedValueOnce(makeRun({ status: 'queued', timeline: [entry(1, 'status', 'queued')], result: null }))
      .mockResolvedValue(
        makeRun({
          timeline: [
            entry(1, 'status', 'queued'),
            entry(2, 'status', 'running'),
            entry(3, 'progress', 'running'),
            entry(4, 'result', 'running'),
            entry(5, 'status', 'succeeded'),
          ],
        }),
      );
    const { last } = watch(fetchRun);
    const es = FakeEventSource.latest();
    expect(es.url).toBe('/runs/r-1/stream?token=t');

    // When the stream delivers every event
    es.open();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    es.send('progress', 3, {
      status: 'running',
      at: AT(3),
      progress: { step: 'load', percent: 40, message: 'Loading prices' },
    });
    expect(last().progress).toMatchObject({ percent: 40 });
    es.send('result', 4, { status: 'running', at: AT(4), result_summary: 'done' });
    es.send('status', 5, { status: 'succeeded', at: AT(5) });

    // Then the stream is closed and the full run is fetched
    expect(es.closed).toBe(true);
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().status).toBe('succeeded');
    expect(last().run?.result?.rows).toHaveLength(2);
    expect(last().timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(fetchRun).toHaveBeenCalledTimes(2);
  });

  it('never duplicates entries when a reconnect replays events', () => {
    const { last } = watch(pending);
    const es = FakeEventSource.latest();
    es.open();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    // the connection drops; the browser reconnects with Last-Event-ID and the server replays seq 2
    es.fail();
    expect(last().connection).toBe('reconnecting');
    es.open();
    es.send('status', 2, { status: 'running', at: AT(2) });
    es.send('progress', 3, { status: 'running', at: AT(3), progress: { step: 's', percent: 50, message: '' } });
    expect(last().connection).toBe('live');
    expect(last().timeline.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('does not move the status backwards when an older run document arrives late', async () => {
    let resolve: (run: Run) => void = () => {};
    const { last } = watch(() => new Promise<Run>((r) => (resolve = r)));
    const es = FakeEventSource.latest();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    resolve(makeRun({ status: 'queued', timeline: [entry(1, 'status', 'queued')], result: null }));
    await vi.waitFor(() => expect(last().run).not.toBeNull());
    expect(last().status).toBe('running');
  });

  it('falls back to polling when the stream is refused', async () => {
    const fetchRun = vi
      .fn<(id: string) => Promise<Run>>()
      .mockResolvedValueOnce(
        makeRun({
          status: 'running',
          timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
          result: null,
        }),
      )
      .mockResolvedValueOnce(
        makeRun({
          status: 'running',
          timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
          result: null,
        }),
      )
      .mockResolvedValue(makeRun());
    const { last } = watch(fetchRun);
    FakeEventSource.latest().fail(true); // e.g. 401: expired token
    expect(last().connection).toBe('polling');
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().status).toBe('succeeded');
    expect(last().timeline.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('gives up on a stream that keeps failing', () => {
    const { last } = watch(pending);
    const es = FakeEventSource.latest();
    for (let i = 0; i < 5; i += 1) es.fail();
    expect(es.closed).toBe(true);
    expect(last().connection).toBe('polling');
  });

  it('polls when there is no stream URL (opened from history)', async () => {
    const { last } = watch(async () => makeRun(), null);
    expect(FakeEventSource.instances).toHaveLength(0);
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().run?.result).not.toBeNull();
  });

  it('reports a failed run with its reason from the server error event', async () => {
    const failed = makeRun({
      status: 'failed',
      error: { type: 'ScenarioInputError', message: 'as_of 1990-01-01 is before the data' },
      result: null,
    });
    const { last } = watch(
      vi.fn<(id: string) => Promise<Run>>().mockReturnValueOnce(pending()).mockResolvedValue(failed),
    );
    const es = FakeEventSource.latest();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('error', 2, {
      status: 'failed',
      at: AT(2),
      error: { type: 'ScenarioInputError', message: 'as_of 1990-01-01 is before the data' },
    });
    expect(last().error?.message).toMatch(/1990/);
    es.send('status', 3, {
      status: 'failed',
      at: AT(3),
      error: { type: 'ScenarioInputError', message: 'as_of 1990-01-01 is before the data' },
    });
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().status).toBe('failed');
  });

  it('stops with a fatal message when the run does not exist', async () => {
    const { last } = watch(() => Promise.reject(new ApiError(404, 'not_found', 'run r-1 not found')), null);
    await vi.waitFor(() => expect(last().fatal).toBe('run r-1 not found'));
  });

  it('keeps streaming when the run document is terminal before its last event is projected', async () => {
    // Given a fast failure: the first GET already says failed, but the log lacks the final event
    const early = makeRun({
      status: 'failed',
      error: { type: 'DataNotReady', message: 'no prices' },
      result: null,
      timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
    });
    const full = makeRun({ ...early, timeline: [...early.timeline, entry(3, 'status', 'failed')] });
    const fetchRun = vi.fn<(id: string) => Promise<Run>>().mockResolvedValueOnce(early).mockResolvedValue(full);
    const { last } = watch(fetchRun);
    const es = FakeEventSource.latest();
    await vi.waitFor(() => expect(last().status).toBe('failed'));
    // Then the stream stays open and delivers the terminal event
    expect(es.closed).toBe(false);
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    es.send('status', 3, { status: 'failed', at: AT(3), error: { type: 'DataNotReady', message: 'no prices' } });
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().timeline.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(last().error?.message).toBe('no prices');
  });

  it('settles on a terminal run whose terminal event never shows up', async () => {
    const stuck = makeRun({ status: 'failed', result: null, timeline: [entry(1, 'status', 'queued')] });
    const fetchRun = vi.fn<(id: string) => Promise<Run>>().mockResolvedValue(stuck);
    const { last } = watch(fetchRun, null);
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(fetchRun).toHaveBeenCalledTimes(3);
  });

  it("keeps a timeline event's own fields as its payload", async () => {
    const progress = {
      ...entry(2, 'progress', 'running'),
      progress: { step: 'load', percent: 30, message: 'Loading' },
    };
    const run = makeRun({ timeline: [entry(1, 'status', 'queued'), progress, entry(3, 'status', 'succeeded')] });
    const { last } = watch(async () => run, null);
    await vi.waitFor(() => expect(last().connection).toBe('closed'));
    expect(last().timeline[1].data).toMatchObject({ progress: { percent: 30 } });
  });
});
