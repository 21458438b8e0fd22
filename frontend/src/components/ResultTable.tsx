'use client';

import { useMemo, useState } from 'react';
import { formatCell } from '@/lib/format';
import type { Column, JsonValue, Row } from '@/lib/types';

export function rowKeyColumn(columns: Column[]): string | null {
  if (columns.some((c) => c.name === 'symbol')) return 'symbol';
  return columns[0]?.name ?? null;
}

export function rowDomId(key: JsonValue | undefined): string {
  return `row-${String(key ?? '').replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

function compare(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const aMissing = a === null || a === undefined || (typeof a === 'number' && !Number.isFinite(a));
  const bMissing = b === null || b === undefined || (typeof b === 'number' && !Number.isFinite(b));
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1; // blanks last
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

interface Props {
  columns: Column[];
  rows: Row[];
  highlight?: { row: string | null; field: string | null } | null;
}

/** Sortable result table; every row has an anchor so narrative claims can point at it. */
export function ResultTable({ columns, rows, highlight }: Props) {
  const [sort, setSort] = useState<{ col: string; dir: 1 | -1 } | null>(null);
  const keyCol = rowKeyColumn(columns);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    return [...rows].sort((a, b) => {
      const blanks = compare(a[sort.col], b[sort.col]);
      const aMissing = a[sort.col] === null || a[sort.col] === undefined;
      const bMissing = b[sort.col] === null || b[sort.col] === undefined;
      return aMissing || bMissing ? blanks : blanks * sort.dir;
    });
  }, [rows, sort]);

  function toggle(col: Column) {
    setSort((prev) => {
      if (!prev || prev.col !== col.name) return { col: col.name, dir: col.kind === 'text' ? 1 : -1 };
      return { col: col.name, dir: prev.dir === 1 ? -1 : 1 };
    });
  }

  if (rows.length === 0) return <p className="empty">The analysis returned no rows.</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Result table">
      <table className="result-table" data-testid="result-table">
        <thead>
          <tr>
            {columns.map((col) => {
              const active = sort?.col === col.name;
              return (
                <th
                  key={col.name}
                  scope="col"
                  className={col.kind === 'text' || col.kind === 'date' ? 'txt' : 'num'}
                  aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
                >
                  <button
                    type="button"
                    className="sort-btn"
                    onClick={() => toggle(col)}
                    title={col.description || undefined}
                  >
                    {col.label}
                    <span aria-hidden="true" className="sort-icon">
                      {active ? (sort.dir === 1 ? '▲' : '▼') : '↕'}
                    </span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row, i) => {
            const key = keyCol ? row[keyCol] : i;
            const isHit = highlight?.row !== null && highlight?.row !== undefined && String(key) === highlight.row;
            return (
              <tr key={`${String(key)}-${i}`} id={rowDomId(key)} className={isHit ? 'row-hit' : undefined}>
                {columns.map((col, c) => {
                  const text = formatCell(row[col.name], col.kind);
                  const cls = `${col.kind === 'text' || col.kind === 'date' ? 'txt' : 'num'}${isHit && highlight?.field === col.name ? ' cell-hit' : ''}${
                    typeof row[col.name] === 'number' && (row[col.name] as number) < 0 ? ' neg' : ''
                  }`;
                  return c === 0 ? (
                    <th key={col.name} scope="row" className={cls}>
                      {text}
                    </th>
                  ) : (
                    <td key={col.name} className={cls}>
                      {text}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
