import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AnalyticsPage } from '@/components/AnalyticsPage';
import type { AnalyticsReport } from '@/lib/types';
import { mockFetch } from './helpers';

const REPORT: AnalyticsReport = {
  from_date: '2024-05-01',
  to_date: '2024-05-30',
  prompts: 5,
  no_match: 1,
  no_match_rate: 0.2,
  followed: 3,
  per_day: [
    { date: '2024-05-01', prompts: 2, no_match: 1 },
    { date: '2024-05-03', prompts: 3, no_match: 0 },
  ],
  choice_rate_by_rank: [
    { rank: 1, shown: 4, chosen: 1, rate: 0.25 },
    { rank: 2, shown: 3, chosen: 2, rate: 0.6667 },
  ],
  most_edited_params: [{ scenario_id: 'mean_reversion', param: 'rsi_period', edits: 2 }],
  not_first: [
    {
      suggest_id: 's4',
      at: '2024-05-03T09:00:00.000Z',
      prompt: 'momentum',
      chosen_scenario_id: 'factor_ladder',
      chosen_rank: 2,
      first_scenario_id: 'trend_strength',
    },
  ],
  outcomes: { succeeded: 2, failed: 1 },
  pairs: [],
  truncated: false,
};

describe('AnalyticsPage', () => {
  it('shows the summary, both charts and the two tables for the default window', async () => {
    const fetchMock = mockFetch((url) => (url === '/analysis/analytics' ? { body: REPORT } : undefined));
    render(<AnalyticsPage />);
    const summary = await screen.findByTestId('analytics-summary');
    expect(summary).toHaveTextContent('Prompts5');
    expect(summary).toHaveTextContent('No confident match20%');
    expect(summary).toHaveTextContent('succeeded 2 · failed 1');
    const perDay = screen.getByRole('img', { name: /Prompts per day/ });
    expect(perDay).toHaveAccessibleName('Prompts per day. 05-01: 2 (no match 1); 05-03: 3 (no match 0)');
    expect(within(perDay).getAllByTestId('bar')).toHaveLength(2);
    expect(screen.getByRole('img', { name: /Choice rate by rank/ })).toHaveAccessibleName(
      'Choice rate by rank. #1: 25%; #2: 67%',
    );
    expect(within(screen.getByTestId('edited-params')).getByText('rsi_period')).toBeInTheDocument();
    const notFirst = screen.getByTestId('not-first');
    expect(within(notFirst).getByRole('rowheader', { name: 'momentum' })).toBeInTheDocument();
    expect(notFirst).toHaveTextContent('factor_ladder (#2)');
    // the window the server chose fills the form
    expect(screen.getByLabelText('From')).toHaveValue('2024-05-01');
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('asks for the chosen window and marks the field the server refused', async () => {
    const asked: string[] = [];
    mockFetch((url) => {
      asked.push(url);
      if (url === '/analysis/analytics') return { body: REPORT };
      return {
        status: 400,
        body: { code: 'invalid_request', message: 'from must not be after to', field: 'from' },
      };
    });
    render(<AnalyticsPage />);
    await screen.findByTestId('analytics-summary');
    const user = userEvent.setup();
    const from = screen.getByLabelText('From');
    await user.clear(from);
    await user.type(from, '2024-06-10');
    await user.click(screen.getByRole('button', { name: 'Show' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('from must not be after to');
    expect(from).toHaveAttribute('aria-invalid', 'true');
    expect(asked[1]).toBe('/analysis/analytics?from=2024-06-10&to=2024-05-30');
  });

  it('says when the window has no prompts', async () => {
    mockFetch(() => ({ body: { ...REPORT, prompts: 0, per_day: [], choice_rate_by_rank: [] } }));
    render(<AnalyticsPage />);
    expect(await screen.findByText('No prompts between 2024-05-01 and 2024-05-30.')).toBeInTheDocument();
  });
});
