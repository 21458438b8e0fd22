import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ResultView } from '@/components/ResultView';
import { toAligned, xMode } from '@/components/ResultChart';
import { toCsv } from '@/lib/exportData';
import { RESULT, makeRun } from './fakes';
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
    expect(toAligned({ name: 'q', kind: 'bar', x: ['Q1', 'Q2'], y: { r: [0.1, Number.NaN] } }).data).toEqual([[0, 1], [0.1, null]]);
  });
});

describe('toCsv', () => {
  it('writes raw values with RFC 4180 quoting', () => {
    const csv = toCsv(
      [{ name: 'symbol', label: 'Symbol', kind: 'text' }, { name: 'note', label: 'Note', kind: 'text' }, { name: 'x', label: 'X', kind: 'number' }],
      [{ symbol: 'AAPL', note: 'says "hi", twice', x: 0.5 }, { symbol: 'MSFT', note: null, x: null }],
    );
    expect(csv).toBe('symbol,note,x\r\nAAPL,"says ""hi"", twice",0.5\r\nMSFT,,\r\n');
  });
});
