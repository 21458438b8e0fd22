import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { TableHead } from '@/components/TableHead';

describe('TableHead', () => {
  it('heads each column in order, aligned by kind, a screen-reader-only one hidden from view', () => {
    render(
      <table>
        <TableHead
          columns={[{ label: 'Started' }, { label: 'Duration', align: 'num' }, { label: 'Actions', srOnly: true }]}
        />
      </table>,
    );

    const heads = screen.getAllByRole('columnheader');
    expect(heads.map((h) => h.textContent)).toEqual(['Started', 'Duration', 'Actions']);
    expect(heads.map((h) => h.className)).toEqual(['txt', 'num', 'txt']);
    expect(heads.every((h) => h.getAttribute('scope') === 'col')).toBe(true);
    expect(heads[2].querySelector('.sr-only')?.textContent).toBe('Actions');
    expect(heads[0].querySelector('.sr-only')).toBeNull();
  });
});
