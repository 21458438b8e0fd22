import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AlertBell } from '@/components/AlertBell';
import type { Alert } from '@/lib/types';
import { AT } from './fakes';
import { mockFetch } from './helpers';

function alert(id: string, read: boolean): Alert {
  return {
    alert_id: id,
    watch_id: 'w-1',
    run_id: id,
    previous_run_id: 'r-0',
    scenario_id: 'trend_strength',
    created_at: AT(1),
    summary: `trend_strength: 1 new (${id.toUpperCase()})`,
    diff: { key_column: 'symbol', entries: [id.toUpperCase()], exits: [], rank_moves: [], crossings: [] },
    read,
    deliveries: [{ type: 'email', target: 'a@example.com', status: 'sent', message: 'the e-mail text' }],
  };
}

describe('AlertBell', () => {
  it('shows the unread count, follows new alerts, and marks one read', async () => {
    let inbox = [alert('nvda', false)];
    const calls: string[] = [];
    mockFetch((url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url.startsWith('/analysis/alerts?'))
        return { body: { alerts: inbox, unread: inbox.filter((a) => !a.read).length } };
      if (url === '/analysis/alerts/nvda/read') {
        inbox = inbox.map((a) => (a.alert_id === 'nvda' ? { ...a, read: true } : a));
        return { body: inbox[0] };
      }
      return { status: 404, body: { code: 'not_found', message: 'no', field: null } };
    });
    render(<AlertBell intervalMs={20} />);
    expect(await screen.findByTestId('alert-count')).toHaveTextContent('1');
    // a new alert arrives: the next poll shows it
    inbox = [alert('tsla', false), ...inbox];
    await act(() => new Promise((r) => setTimeout(r, 60)));
    expect(screen.getByTestId('alert-count')).toHaveTextContent('2');
    // opening lists them, newest first, with the e-mail's text
    await userEvent.click(screen.getByTestId('alert-bell'));
    const items = within(screen.getByTestId('alert-panel')).getAllByTestId('alert');
    expect(items.map((i) => i.querySelector('a')?.textContent)).toEqual([
      'trend_strength: 1 new (TSLA)',
      'trend_strength: 1 new (NVDA)',
    ]);
    expect(items[1].querySelector('a')).toHaveAttribute('href', '/run?id=nvda');
    expect(within(items[1]).getByText('the e-mail text')).toBeInTheDocument();
    await userEvent.click(within(items[1]).getByRole('button', { name: 'Mark read' }));
    expect(calls).toContain('POST /analysis/alerts/nvda/read');
    await screen.findByText((_, el) => el?.getAttribute('data-testid') === 'alert-count' && el.textContent === '1');
  });

  it('says so when there are no alerts', async () => {
    mockFetch(() => ({ body: { alerts: [], unread: 0 } }));
    render(<AlertBell />);
    await userEvent.click(screen.getByTestId('alert-bell'));
    expect(await screen.findByText(/No alerts yet/)).toBeInTheDocument();
    expect(screen.queryByTestId('alert-count')).toBeNull();
  });
});
