/** A column of a plain `result-table`: its header, how its cells align (`num` right, `txt` left)
 * and whether the header is for screen readers only (a column of buttons). */
export interface HeadColumn {
  label: string;
  align?: 'txt' | 'num';
  srOnly?: boolean;
}

/** The header row of a plain `result-table`, one column header per column. */
export function TableHead({ columns }: { columns: readonly HeadColumn[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c.label} scope="col" className={c.align ?? 'txt'}>
            {c.srOnly ? <span className="sr-only">{c.label}</span> : c.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}
