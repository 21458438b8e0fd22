import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertBell } from '@/components/AlertBell';
import type { Alert } from '@/lib/types';
import { AT, FakeEventSource } from './fakes';
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

/** The API's inbox over a mutable list; each listing hands out a fresh stream URL. */
function inboxApi(inbox: () => Alert[]) {
  let listings = 0;
  mockFetch((url) => {
    if (!url.startsWith('/analysis/alerts?')) return undefined;
    listings += 1;
    const alerts = inbox();
    return {
      body: {
        alerts,
        unread: alerts.filter((a) => !a.read).length,
        stream_url: `/inbox/stream?token=t${listings}&last_event_id=${alerts.length}`,
      },
    };
  });
}

describe('AlertBell', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    FakeEventSource.reset();
  });

  it('follows a new alert live over the inbox stream, without waiting for a poll', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    let inbox = [alert('nvda', false)];
    inboxApi(() => inbox);
    // polling an hour apart: only the stream can bring the new alert in time
    render(<AlertBell intervalMs={3_600_000} />);
    expect(await screen.findByTestId('alert-count')).toHaveTextContent('1');
    const es = FakeEventSource.latest();
    expect(es.url).toBe('/inbox/stream?token=t1&last_event_id=1');
    act(() => es.open());
    expect(screen.getByTestId('alert-bell')).toHaveAttribute('data-connection', 'live');
    inbox = [alert('tsla', false), ...inbox];
    act(() => es.send('alert', 2, { alert_id: 'tsla', summary: 'trend_strength: 1 new (TSLA)' }));
    await screen.findByText((_, el) => el?.getAttribute('data-testid') === 'alert-count' && el.textContent === '2');
    await userEvent.click(screen.getByTestId('alert-bell'));
    expect(within(screen.getByTestId('alert-panel')).getAllByTestId('alert')).toHaveLength(2);
    // one stream: the refresh an event triggers does not open another
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('falls back to polling when the stream is refused, then streams again from a fresh listing', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    let inbox = [alert('nvda', false)];
    inboxApi(() => inbox);
    render(<AlertBell intervalMs={20} />);
    expect(await screen.findByTestId('alert-count')).toHaveTextContent('1');
    const first = FakeEventSource.latest();
    act(() => first.fail(true)); // e.g. an expired token: the browser will not retry
    expect(first.closed).toBe(true);
    expect(screen.getByTestId('alert-bell')).toHaveAttribute('data-connection', 'polling');
    inbox = [alert('tsla', false), ...inbox];
    await screen.findByText((_, el) => el?.getAttribute('data-testid') === 'alert-count' && el.textContent === '2');
    // the poll's listing carried a fresh stream URL: the stream is tried again with it
    const second = FakeEventSource.latest();
    expect(second).not.toBe(first);
    expect(second.url).toMatch(/token=t[2-9]/);
    act(() => second.open());
    expect(screen.getByTestId('alert-bell')).toHaveAttribute('data-connection', 'live');
  });

  it('closes the stream while the tab is hidden and follows again from a fresh listing when shown', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    let inbox = [alert('nvda', false)];
    inboxApi(() => inbox);
    const visibility = vi.spyOn(document, 'visibilityState', 'get');
    try {
      render(<AlertBell intervalMs={3_600_000} />);
      expect(await screen.findByTestId('alert-count')).toHaveTextContent('1');
      const first = FakeEventSource.latest();
      act(() => first.open());
      visibility.mockReturnValue('hidden');
      act(() => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
      expect(first.closed).toBe(true);
      inbox = [alert('tsla', false), ...inbox]; // arrives while hidden
      visibility.mockReturnValue('visible');
      act(() => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await screen.findByText((_, el) => el?.getAttribute('data-testid') === 'alert-count' && el.textContent === '2');
      const second = FakeEventSource.latest();
      expect(second).not.toBe(first);
      expect(second.url).toBe('/inbox/stream?token=t2&last_event_id=2');
    } finally {
      visibility.mockRestore();
    }
  });

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
