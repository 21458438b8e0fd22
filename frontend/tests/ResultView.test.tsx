import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { enhanceLegend, toAligned, xMode } from '@/components/ResultChart';
import { ResultView } from '@/components/ResultView';
import { makeRun, RESULT } from './fakes';
import { mockFetch } from './helpers';
import { created } from './uplotMock';

const bodyRows = () => within(screen.getByTestId('result-table')).getAllByRole('row').slice(1);
const firstCells = () => bodyRows().map((row) => within(row).getAllByRole('rowheader')[0].textContent);

describe('ResultView', () => {
  it('renders summary, formatted table, data quality and a chart', async () => {
    render(<ResultView run={makeRun()} result={RESULT} />);
    expect(screen.getByText(RESULT.summary)).toBeInTheDocument();
    expect(firstCells()).toEqual(['MSFT', 'AAPL']);
    expect(within(bodyRows()[0]).getByText('12.00%')).toBeInTheDocument(); // percent kind
    expect(within(bodyRows()[1]).getByText('-3.10%')).toHaveClass('neg');
    const dq = screen.getByTestId('data-quality');
    expect(dq).toHaveTextContent('2 of 3');
    expect(dq).toHaveTextContent('XYZ: no prices in window');
    const chart = screen.getByTestId('result-chart');
    expect(chart).toHaveTextContent('ADX by symbol');
    await vi.waitFor(() => expect(chart.querySelector('canvas')).not.toBeNull());
    expect(created.at(-1)?.opts.series.map((s) => s.label)).toEqual(['x', 'adx']);
  });

  it('sorts by a column, both ways, with aria-sort', async () => {
    const user = userEvent.setup();
    render(<ResultView run={makeRun()} result={RESULT} />);
    const adx = screen.getByRole('button', { name: /ADX/ });
    await user.click(adx);
    expect(firstCells()).toEqual(['AAPL', 'MSFT']); // numbers sort high → low first
    expect(adx.closest('th')).toHaveAttribute('aria-sort', 'descending');
    await user.click(adx);
    expect(firstCells()).toEqual(['MSFT', 'AAPL']);
    expect(adx.closest('th')).toHaveAttribute('aria-sort', 'ascending');
  });

  it('links each narrative claim to its table row', async () => {
    const user = userEvent.setup();
    Element.prototype.scrollIntoView = () => {};
    render(<ResultView run={makeRun()} result={RESULT} />);
    const link = within(screen.getByTestId('narrative')).getByRole('link', { name: /AAPL trends hardest/ });
    expect(link).toHaveAttribute('href', '#row-AAPL');
    await user.click(link);
    const row = document.getElementById('row-AAPL');
    expect(row).toHaveClass('row-hit');
    expect(within(row as HTMLElement).getByText('34.25')).toHaveClass('cell-hit');
  });
});

describe('chart data', () => {
  it('maps dates to epoch seconds, categories to indices, and drops non-finite values', () => {
    expect(xMode(['2024-01-02', '2024-01-03'])).toBe('time');
    expect(xMode([1, 5, 21])).toBe('numeric');
    expect(xMode(['Q1', 'Q2'])).toBe('category');
    const aligned = toAligned({ name: 's', kind: 'line', x: ['2024-01-02', '2024-01-03'], y: { a: [1, null] } });
    expect(aligned.data[0]).toEqual([1704153600, 1704240000]);
    expect(aligned.data[1]).toEqual([1, null]);
    expect(toAligned({ name: 'q', kind: 'bar', x: ['Q1', 'Q2'], y: { r: [0.1, Number.NaN] } }).data).toEqual([
      [0, 1],
      [0.1, null],
    ]);
  });
});

describe('chart legend', () => {
  // uPlot's legend markup: a table with one row per series, the label cell toggles on click.
  function legend(labels: string[]) {
    const root = document.createElement('div');
    root.innerHTML = `<table class="u-legend"><tbody>${labels
      .map(
        (l) =>
          `<tr class="u-series"><th><div class="u-marker"></div><div class="u-label">${l}</div></th><td class="u-value">--</td></tr>`,
      )
      .join('')}</tbody></table>`;
    document.body.appendChild(root);
    const series = labels.map((label) => ({ label, show: true }));
    const u = { root, series } as unknown as Parameters<typeof enhanceLegend>[0];
    const cells = Array.from(root.querySelectorAll('th'));
    cells.forEach((th, i) => {
      th.addEventListener('click', () => {
        series[i].show = !series[i].show;
      });
    });
    return { root, u, series, cells };
  }

  it('makes each series a keyboard toggle button that tells whether it is shown', async () => {
    const { root, u, series, cells } = legend(['date', 'adx', 'momentum']);
    enhanceLegend(u);
    expect(root.querySelector('table')).toHaveAttribute('role', 'presentation');
    expect(cells[0].closest('tr')).toHaveAttribute('aria-hidden', 'true');
    const buttons = within(root).getAllByRole('button');
    expect(buttons.map((b) => b.textContent)).toEqual(['adx', 'momentum']);
    expect(buttons[0]).toHaveAttribute('aria-pressed', 'true');
    buttons[0].focus();
    await userEvent.keyboard('{Enter}');
    expect(series[1].show).toBe(false);
    enhanceLegend(u); // uPlot's setSeries hook runs it again
    expect(buttons[0]).toHaveAttribute('aria-pressed', 'false');
    await userEvent.keyboard(' ');
    expect(series[1].show).toBe(true);
    enhanceLegend(u);
    expect(buttons[0]).toHaveAttribute('aria-pressed', 'true');
    expect(buttons[0].tabIndex).toBe(0);
    root.remove();
  });
});

describe('report and exports', () => {
  it('opens the report link in a new tab and downloads an export from its link', async () => {
    const user = userEvent.setup();
    const fetched = mockFetch((url) => {
      if (url === '/analysis/runs/r-1/report') return { body: { url: 'https://s3.example/report.html?sig=1' } };
      if (url === '/analysis/runs/r-1/export?format=parquet')
        return { body: { url: 'https://s3.example/export.parquet?sig=2' } };
      return undefined;
    });
    const opened = vi.spyOn(window, 'open').mockReturnValue(null);
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.href);
    });
    render(<ResultView run={makeRun()} result={RESULT} />);
    await user.click(screen.getByTestId('open-report'));
    await vi.waitFor(() =>
      expect(opened).toHaveBeenCalledWith('https://s3.example/report.html?sig=1', '_blank', 'noopener'),
    );
    await user.click(screen.getByTestId('export-parquet'));
    await vi.waitFor(() => expect(clicked).toEqual(['https://s3.example/export.parquet?sig=2']));
    expect(fetched).toHaveBeenCalledTimes(2);
    opened.mockRestore();
    click.mockRestore();
  });

  it('says why a report cannot be opened', async () => {
    const user = userEvent.setup();
    mockFetch(() => ({ status: 409, body: { code: 'conflict', message: 'run is running', field: 'run_id' } }));
    render(<ResultView run={makeRun()} result={RESULT} />);
    await user.click(screen.getByTestId('open-report'));
    expect(await screen.findByTestId('link-error')).toHaveTextContent('Report unavailable: run is running');
  });
});
