import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { HistoryPage } from '@/components/HistoryPage';
import { AT, makeRun } from './fakes';
import { jsonBody, mockFetch } from './helpers';

vi.mock('next/navigation', () => ({ useRouter: () => ({ push: vi.fn() }) }));

const RUNS = [
  {
    run_id: 'r-2',
    scenario_id: 'trend_strength',
    status: 'failed',
    watch_id: null,
    created_at: AT(2),
    updated_at: AT(3),
    duration_ms: 1500,
    cached: false,
    cached_from: null,
  },
  {
    run_id: 'r-1',
    scenario_id: 'mean_reversion',
    status: 'succeeded',
    watch_id: 'w-1',
    created_at: AT(1),
    updated_at: AT(2),
    duration_ms: 820,
    cached: true,
    cached_from: 'r-0',
  },
];

describe('HistoryPage', () => {
  it('shows an empty state when there are no runs', async () => {
    mockFetch(() => ({ body: { runs: [], next_cursor: null } }));
    render(<HistoryPage />);
    expect(await screen.findByText(/No runs yet/)).toBeInTheDocument();
  });

  it('lists runs newest first with status and duration, and reruns with the same params', async () => {
    const posted: unknown[] = [];
    mockFetch((url, init) => {
      if (url.startsWith('/analysis/runs?')) return { body: { runs: RUNS, next_cursor: null } };
      if (url === '/analysis/runs/r-2')
        return {
          body: makeRun({ run_id: 'r-2', manifest: { ...makeRun().manifest, params: { as_of: '2024-01-02' } } }),
        };
      if (url === '/analysis/run') {
        posted.push(jsonBody(init));
        return {
          status: 202,
          body: {
            run_id: 'r-3',
            status: 'queued',
            stream_url: '/runs/r-3/stream?token=x',
            status_url: '/analysis/runs/r-3',
          },
        };
      }
      return undefined;
    });
    const navigate = vi.fn();
    render(<HistoryPage navigate={navigate} />);
    const table = await screen.findByTestId('history-table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-run-id'))).toEqual(['r-2', 'r-1']);
    expect(rows[0]).toHaveTextContent('failed');
    expect(rows[0]).toHaveTextContent('1.5 s');
    // a watch's firing says so
    expect(within(rows[1]).getByTitle('fired by watch w-1')).toHaveTextContent('watch');
    expect(within(rows[0]).queryByText('watch')).toBeNull();
    expect(rows[0]).not.toHaveTextContent('cached');
    expect(within(rows[1]).getByTitle('cached from r-0')).toHaveTextContent('cached');
    expect(within(rows[1]).getByRole('link', { name: /Open/ })).toHaveAttribute(
      'href',
      expect.stringMatching(/^\/run\/?\?id=r-1$/),
    );
    await userEvent.setup().click(within(rows[0]).getByRole('button', { name: /Rerun/ }));
    await vi.waitFor(() => expect(navigate).toHaveBeenCalledWith('/run/?id=r-3'));
    // a rerun computes again (fresh), never answered from the result cache
    expect(posted).toEqual([{ scenario_id: 'trend_strength', params: { as_of: '2024-01-02' }, fresh: true }]);
  });
});
