import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PromptPage } from '@/components/PromptPage';
import { ApiError } from '@/lib/api';
import type { RunAccepted, RunRequest } from '@/lib/types';
import { SCENARIO, SUGGEST } from './fixtures/suggest';
import { jsonBody, mockFetch } from './helpers';

vi.mock('next/navigation', () => ({ useRouter: () => ({ push: vi.fn() }) }));

const ACCEPTED: RunAccepted = {
  run_id: 'r-9',
  status: 'queued',
  stream_url: '/runs/r-9/stream?token=abc',
  status_url: '/analysis/runs/r-9',
  cached: false,
  cached_from: null,
};

async function askForCards() {
  const user = userEvent.setup();
  const navigate = vi.fn();
  const runScenario = vi.fn<(r: RunRequest) => Promise<RunAccepted>>().mockResolvedValue(ACCEPTED);
  render(<PromptPage navigate={navigate} runScenario={runScenario} />);
  await user.type(screen.getByTestId('prompt-input'), 'strongest trends in AAPL and MSFT');
  await user.click(screen.getByTestId('suggest-submit'));
  const card = await screen.findByTestId('scenario-card');
  await within(card).findByLabelText('Lookback days');
  return { user, card, navigate, runScenario };
}

describe('PromptPage', () => {
  let fetchMock: ReturnType<typeof mockFetch>;
  beforeEach(() => {
    fetchMock = mockFetch((url, init) => {
      if (url === '/analysis/scenarios') return { body: { scenarios: [SCENARIO] } };
      if (url === '/analysis/suggest') return { body: { ...SUGGEST, prompt: jsonBody(init).prompt } };
      return undefined;
    });
  });

  it('starts with an empty state and examples', () => {
    render(<PromptPage navigate={vi.fn()} />);
    expect(screen.getByText(/Ask a question above/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /strongest trends right now/ })).toBeInTheDocument();
  });

  it('asks for a question when the prompt is empty, and ties the message to the prompt box', async () => {
    const user = userEvent.setup();
    render(<PromptPage navigate={vi.fn()} />);
    await user.click(screen.getByTestId('suggest-submit'));
    const input = screen.getByRole('textbox', { name: 'Research question' });
    expect(screen.getByRole('alert')).toHaveTextContent('Type a question first');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription(/Type a question first/);
  });

  it('shows ranked cards with score, terms, provenance and a pre-filled form', async () => {
    const { card } = await askForCards();
    expect(within(card).getByRole('heading', { name: 'Trend strength' })).toBeInTheDocument();
    expect(within(card).getByRole('meter', { name: 'Match score' })).toHaveAttribute('aria-valuenow', '87');
    expect(within(card).getByText('trend')).toBeInTheDocument();
    expect(within(card).getByLabelText('Lookback days')).toHaveValue('90');
    expect(within(card).getByLabelText('Tickers')).toHaveValue('AAPL, MSFT');
    expect(screen.getByTestId('engine-provenance')).toHaveTextContent('local / bm25f v1');
    expect(screen.getByTestId('engine-provenance')).toHaveTextContent('tickers AAPL, MSFT');
    expect(fetchMock).toHaveBeenCalledWith('/analysis/suggest', expect.objectContaining({ method: 'POST' }));
    // the prompt is remembered as a recent prompt
    expect(screen.getByTestId('recent-prompts')).toHaveTextContent('strongest trends in AAPL and MSFT');
  });

  it('blocks a run with an out-of-bounds input and says why, on the field', async () => {
    const { user, card, runScenario } = await askForCards();
    const lookback = within(card).getByLabelText('Lookback days');
    await user.clear(lookback);
    await user.type(lookback, '5000');
    await user.click(within(card).getByTestId('run-button'));
    expect(await within(card).findByText('Value must be ≤ 756')).toBeInTheDocument();
    expect(lookback).toHaveAttribute('aria-invalid', 'true');
    expect(runScenario).not.toHaveBeenCalled();
  });

  it('runs with the edited params and provenance, then opens the run page', async () => {
    const { user, card, runScenario, navigate } = await askForCards();
    const lookback = within(card).getByLabelText('Lookback days');
    await user.clear(lookback);
    await user.type(lookback, '60');
    await user.click(within(card).getByTestId('run-button'));
    await vi.waitFor(() => expect(navigate).toHaveBeenCalledWith('/run/?id=r-9'));
    const request = runScenario.mock.calls[0][0];
    expect(request.scenario_id).toBe('trend_strength');
    expect(request.params).toMatchObject({ lookback_days: 60, tickers: ['AAPL', 'MSFT'] });
    expect(request.provenance).toMatchObject({
      prompt: 'strongest trends in AAPL and MSFT',
      rank: 1,
      suggest_id: '01hx0000000000000000000000',
    });
    expect(request.idempotency_key).toBeTruthy();
    expect(window.sessionStorage.getItem('qd.stream.r-9')).toBe('/runs/r-9/stream?token=abc');
  });

  it('picks the universe from the lake universes, with member counts, and runs on it', async () => {
    fetchMock = mockFetch((url, init) => {
      if (url === '/analysis/scenarios') return { body: { scenarios: [SCENARIO] } };
      if (url === '/analysis/suggest') return { body: { ...SUGGEST, prompt: jsonBody(init).prompt } };
      if (url === '/analysis/universes')
        return {
          body: {
            snapshot_id: 's-1',
            universes: [
              { name: 'my_batch', members: 12, symbols: 12, first_date: '2024-01-02' },
              { name: 'us_large_cap', members: 50, symbols: 52, first_date: '2020-01-01' },
            ],
          },
        };
      return undefined;
    });
    const { user, card, runScenario } = await askForCards();
    const picker = within(card).getByLabelText('Universe');
    expect(picker.tagName).toBe('SELECT');
    expect(
      within(picker)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['my_batch (12 members)', 'us_large_cap (50 members)']);
    await user.selectOptions(picker, 'my_batch');
    await user.click(within(card).getByTestId('run-button'));
    await vi.waitFor(() => expect(runScenario).toHaveBeenCalled());
    expect(runScenario.mock.calls[0][0].params).toMatchObject({ universe: 'my_batch' });
    expect(fetchMock).toHaveBeenCalledWith('/analysis/universes', expect.anything());
  });

  it('keeps a free-text universe when the universe list cannot be read', async () => {
    const { card } = await askForCards();
    expect(within(card).getByLabelText('Universe').tagName).toBe('INPUT');
  });

  it('shows a server validation error on the field it names', async () => {
    const { user, card, runScenario } = await askForCards();
    runScenario.mockRejectedValueOnce(
      new ApiError(400, 'invalid_params', 'as_of is before the first data', 'params.as_of'),
    );
    await user.type(within(card).getByLabelText('As of'), '1990-01-01');
    await user.click(within(card).getByTestId('run-button'));
    const asOf = within(card).getByLabelText('As of');
    expect(await within(card).findByText('as_of is before the first data')).toBeInTheDocument();
    expect(asOf).toHaveAttribute('aria-invalid', 'true');
  });

  it('says so when nothing matches confidently, and shows API errors', async () => {
    mockFetch((url) => {
      if (url === '/analysis/scenarios') return { body: { scenarios: [SCENARIO] } };
      if (url === '/analysis/suggest')
        return {
          body: { ...SUGGEST, no_confident_match: true, understood: { ...SUGGEST.understood, unmatched: ['weather'] } },
        };
      return undefined;
    });
    const { card } = await askForCards();
    expect(card).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(/No scenario matches/);
    expect(screen.getByTestId('unmatched')).toHaveTextContent('Not matched: “weather”');

    mockFetch(() => ({
      status: 400,
      body: { code: 'invalid_request', message: 'prompt is too long', field: 'prompt' },
    }));
    await userEvent.setup().click(screen.getByTestId('suggest-submit'));
    expect(await screen.findByRole('alert')).toHaveTextContent('prompt is too long');
  });
});
