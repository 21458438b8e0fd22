import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RunPage } from '@/components/RunPage';
import { AT, entry, FakeEventSource, makeRun } from './fakes';
import { jsonBody, mockFetch } from './helpers';

let search = new URLSearchParams('id=r-1');
const router = vi.hoisted(() => ({ push: vi.fn() }));
vi.mock('next/navigation', () => ({ useSearchParams: () => search, useRouter: () => router }));

describe('RunPage', () => {
  beforeEach(() => {
    FakeEventSource.reset();
    vi.stubGlobal('EventSource', FakeEventSource);
    search = new URLSearchParams('id=r-1');
  });

  it('follows the live stream to succeeded, then shows the result table and chart', async () => {
    let calls = 0;
    mockFetch((url) => {
      if (url !== '/analysis/runs/r-1') return undefined;
      calls += 1;
      return {
        body:
          calls === 1
            ? makeRun({ status: 'queued', timeline: [entry(1, 'status', 'queued')], result: null })
            : makeRun(),
      };
    });
    window.sessionStorage.setItem('qd.stream.r-1', '/runs/r-1/stream?token=t');
    render(<RunPage />);
    expect(screen.getByText(/appear here when the run finishes/)).toBeInTheDocument();
    const es = FakeEventSource.latest();
    expect(es.url).toBe('/runs/r-1/stream?token=t');
    es.open();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    await vi.waitFor(() => expect(screen.getByTestId('run-status')).toHaveAttribute('data-status', 'running'));
    es.send('progress', 3, {
      status: 'running',
      at: AT(3),
      progress: { step: 'compute', percent: 50, message: 'Computing' },
    });
    await vi.waitFor(() => expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '50'));
    es.send('status', 2, { status: 'running', at: AT(2) }); // a replay after a reconnect
    es.send('status', 4, { status: 'succeeded', at: AT(4) });
    await screen.findByTestId('result-table');
    expect(screen.getByTestId('run-status')).toHaveTextContent('succeeded');
    expect(screen.getAllByTestId('result-chart')).toHaveLength(1);
    const items = within(screen.getByTestId('run-timeline')).getAllByRole('listitem');
    expect(items.map((li) => li.getAttribute('data-seq'))).toEqual(['1', '2', '3', '4']);
    expect(screen.getByTestId('run-manifest')).toHaveTextContent('1.0.0');
    expect(screen.queryByTestId('cancel-button')).toBeNull();
    expect(screen.queryByTestId('cached-note')).toBeNull();
  });

  it('says where a cached run comes from and runs it fresh on request', async () => {
    const fetched = mockFetch((url) => {
      if (url === '/analysis/runs/r-1')
        return {
          body: makeRun({
            cached: true,
            cached_from: 'r-0',
            event_seq: 1,
            timeline: [entry(1, 'status', 'succeeded')],
          }),
        };
      if (url === '/analysis/run')
        return {
          status: 202,
          body: {
            run_id: 'r-2',
            status: 'queued',
            stream_url: '/runs/r-2/stream?token=t',
            status_url: '/analysis/runs/r-2',
          },
        };
      return undefined;
    });
    render(<RunPage />);
    const note = await screen.findByTestId('cached-note');
    expect(within(note).getByTestId('cached-from')).toHaveAttribute(
      'href',
      expect.stringMatching(/^\/run\/?\?id=r-0$/),
    );
    await userEvent.setup().click(within(note).getByTestId('run-fresh'));
    await vi.waitFor(() => expect(router.push).toHaveBeenCalledWith('/run/?id=r-2'));
    const posted = fetched.mock.calls.find(([url]) => String(url) === '/analysis/run');
    expect(jsonBody(posted?.[1])).toEqual({
      scenario_id: 'trend_strength',
      params: { lookback_days: 60 },
      fresh: true,
    });
    expect(window.sessionStorage.getItem('qd.stream.r-2')).toBe('/runs/r-2/stream?token=t');
  });

  it('shows the failure reason', async () => {
    mockFetch(() => ({
      body: makeRun({
        status: 'failed',
        result: null,
        error: { type: 'DataNotReady', message: 'end 1990-01-01 is before the first price date' },
        timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'failed')],
      }),
    }));
    render(<RunPage />);
    expect(await screen.findByTestId('run-error')).toHaveTextContent('DataNotReady');
    expect(screen.getByTestId('run-error')).toHaveTextContent('before the first price date');
    expect(screen.getByTestId('run-status')).toHaveAttribute('data-status', 'failed');
    expect(screen.getByText(/No result: the run failed/)).toBeInTheDocument();
  });

  it('explains a missing or unknown run', async () => {
    search = new URLSearchParams('');
    const { unmount } = render(<RunPage />);
    expect(screen.getByText(/No run selected/)).toBeInTheDocument();
    unmount();
    search = new URLSearchParams('id=nope');
    mockFetch(() => undefined);
    render(<RunPage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('no mock for /analysis/runs/nope');
  });

  it('cancels a running run', async () => {
    const calls: string[] = [];
    mockFetch((url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url === '/analysis/runs/r-1/cancel') return { body: { run_id: 'r-1', status: 'cancelled' } };
      return {
        body: makeRun({
          status: 'running',
          result: null,
          timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
        }),
      };
    });
    render(<RunPage />);
    const cancel = await screen.findByTestId('cancel-button');
    await vi.waitFor(() => expect(cancel).toBeEnabled());
    cancel.click();
    await vi.waitFor(() => expect(calls).toContain('POST /analysis/runs/r-1/cancel'));
    // no second click while the cancel is on its way
    await vi.waitFor(() => expect(cancel).toBeDisabled());
    expect(cancel).toHaveTextContent('Cancelling');
  });

  it('hides Cancel once the run is terminal', async () => {
    mockFetch(() => ({
      body: makeRun({
        status: 'running',
        result: null,
        timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
      }),
    }));
    window.sessionStorage.setItem('qd.stream.r-1', '/runs/r-1/stream?token=t');
    render(<RunPage />);
    const es = FakeEventSource.latest();
    es.open();
    es.send('status', 1, { status: 'queued', at: AT(1) });
    es.send('status', 2, { status: 'running', at: AT(2) });
    await vi.waitFor(() => expect(screen.getByTestId('cancel-button')).toBeEnabled());
    es.send('status', 3, { status: 'succeeded', at: AT(3) });
    await vi.waitFor(() => expect(screen.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded'));
    expect(screen.queryByTestId('cancel-button')).toBeNull();
    expect(screen.queryByRole('button', { name: /cancel/i })).toBeNull();
  });

  it('explains a 409 from cancel (the run already finished) without an error page', async () => {
    const calls: string[] = [];
    mockFetch((url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url === '/analysis/runs/r-1/cancel')
        return { status: 409, body: { code: 'conflict', message: 'run already succeeded', field: 'run_id' } };
      return {
        body: makeRun({
          status: 'running',
          result: null,
          timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
        }),
      };
    });
    window.sessionStorage.setItem('qd.stream.r-1', '/runs/r-1/stream?token=t');
    render(<RunPage />);
    const es = FakeEventSource.latest();
    es.open();
    es.send('status', 2, { status: 'running', at: AT(2) });
    const cancel = await screen.findByTestId('cancel-button');
    await vi.waitFor(() => expect(cancel).toBeEnabled());
    cancel.click();
    const note = await screen.findByTestId('cancel-note');
    expect(calls).toContain('POST /analysis/runs/r-1/cancel');
    expect(note).toHaveAttribute('role', 'status');
    expect(note).toHaveTextContent('Nothing to cancel: the run had already finished (run already succeeded).');
    // readable, not an error: no alert, no failure, the page keeps its run header and timeline
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByTestId('run-error')).toBeNull();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('trend_strength');
    expect(screen.getByTestId('run-timeline')).toBeInTheDocument();
    // the button is gone at once, and the run's own terminal event still arrives
    expect(screen.queryByTestId('cancel-button')).toBeNull();
    es.send('status', 3, { status: 'succeeded', at: AT(3) });
    await vi.waitFor(() => expect(screen.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded'));
    expect(screen.queryByTestId('cancel-button')).toBeNull();
  });

  it('shows any other cancel failure as an alert and lets the user retry', async () => {
    mockFetch((url) => {
      if (url === '/analysis/runs/r-1/cancel')
        return { status: 503, body: { code: 'unavailable', message: 'try again later', field: null } };
      return {
        body: makeRun({
          status: 'running',
          result: null,
          timeline: [entry(1, 'status', 'queued'), entry(2, 'status', 'running')],
        }),
      };
    });
    render(<RunPage />);
    const cancel = await screen.findByTestId('cancel-button');
    await vi.waitFor(() => expect(cancel).toBeEnabled());
    cancel.click();
    expect(await screen.findByRole('alert')).toHaveTextContent('Cancel failed: try again later');
    await vi.waitFor(() => expect(screen.getByTestId('cancel-button')).toBeEnabled());
  });
});
