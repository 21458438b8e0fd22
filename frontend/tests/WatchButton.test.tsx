import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE, WatchButton } from '@/components/WatchButton';
import { jsonBody, mockFetch } from './helpers';

type Answer = { status?: number; body: unknown };

/** The API's watch route: records each request body, answers with `answer(body)`. */
function watchApi(answer: (body: Record<string, unknown>) => Answer) {
  const sent: Record<string, unknown>[] = [];
  mockFetch((url, init) => {
    if (url !== '/analysis/watches' || init?.method !== 'POST') return undefined;
    const body = jsonBody(init);
    sent.push(body);
    return answer(body);
  });
  return sent;
}

const created = { status: 201, body: { watch_id: 'w-1', webhook_secret: 's' } };
const refused = (field: string, message: string): Answer => ({
  status: 400,
  body: { code: 'invalid_request', message, field },
});

describe('WatchButton', () => {
  it('watches on each new snapshot by default', async () => {
    const sent = watchApi(() => created);
    render(<WatchButton runId="r-1" />);
    await userEvent.click(screen.getByTestId('watch-button'));
    expect(screen.queryByTestId('watch-schedule')).not.toBeInTheDocument();
    await userEvent.click(screen.getByTestId('watch-save'));
    expect(await screen.findByTestId('watching')).toHaveTextContent('new data re-runs it');
    expect(sent).toEqual([{ run_id: 'r-1', trigger: { on: 'snapshot' }, channels: [{ type: 'inbox' }] }]);
  });

  it('creates a scheduled watch with its time zone', async () => {
    const sent = watchApi(() => created);
    render(<WatchButton runId="r-1" />);
    await userEvent.click(screen.getByTestId('watch-button'));
    await userEvent.click(screen.getByRole('radio', { name: /on a schedule/ }));
    const schedule = screen.getByLabelText('Schedule');
    expect(schedule).toHaveValue(DEFAULT_SCHEDULE);
    await userEvent.clear(schedule);
    await userEvent.type(schedule, 'rate(1 day)');
    const zone = screen.getByLabelText('Time zone');
    await userEvent.clear(zone);
    await userEvent.type(zone, 'Europe/Paris');
    await userEvent.click(screen.getByTestId('watch-save'));
    expect(await screen.findByTestId('watching')).toHaveTextContent('re-runs on rate(1 day) (Europe/Paris)');
    expect(sent).toEqual([
      {
        run_id: 'r-1',
        trigger: { schedule: 'rate(1 day)', timezone: 'Europe/Paris' },
        channels: [{ type: 'inbox' }],
      },
    ]);
  });

  it.each([
    ['trigger.schedule', 'Schedule', 'trigger.schedule fires every 0:05:00 at times; the minimum is 60 minutes'],
    ['trigger.timezone', 'Time zone', "trigger.timezone: Value error, unknown time zone 'Mars/Olympus'"],
  ])('shows a %s refusal against its input and keeps what was typed', async (field, label, message) => {
    const sent = watchApi(() => (sent.length === 1 ? refused(field, message) : created));
    render(<WatchButton runId="r-1" />);
    await userEvent.click(screen.getByTestId('watch-button'));
    await userEvent.click(screen.getByRole('radio', { name: /on a schedule/ }));
    await userEvent.clear(screen.getByLabelText('Time zone'));
    await userEvent.type(screen.getByLabelText('Time zone'), 'Mars/Olympus');
    await userEvent.click(screen.getByTestId('watch-save'));
    const input = screen.getByLabelText(label);
    const error = await screen.findByText(message);
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toContain(error.id);
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    expect(screen.getByLabelText('Time zone')).toHaveValue('Mars/Olympus');
    expect(screen.queryByTestId('watching')).not.toBeInTheDocument();
    // saving again (the API takes it now) clears the error and creates the watch
    await userEvent.click(screen.getByTestId('watch-save'));
    expect(await screen.findByTestId('watching')).toBeInTheDocument();
    expect(sent).toHaveLength(2);
  });

  it('shows an error about no input above the buttons', async () => {
    watchApi(() => ({ status: 409, body: { code: 'conflict', message: 'run r-1 is failed', field: 'run_id' } }));
    render(<WatchButton runId="r-1" />);
    await userEvent.click(screen.getByTestId('watch-button'));
    await userEvent.click(screen.getByTestId('watch-save'));
    expect(await screen.findByRole('alert')).toHaveTextContent('run r-1 is failed');
  });
});
