import { render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RouteFocus } from '@/components/RouteFocus';

let pathname = '/';
vi.mock('next/navigation', () => ({ usePathname: () => pathname }));

function Shell({ title }: { title: string }) {
  return (
    <>
      <nav>
        <a href="/history/">History</a>
      </nav>
      <RouteFocus />
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        <button type="button">Inside</button>
      </main>
    </>
  );
}

describe('RouteFocus', () => {
  beforeEach(() => {
    pathname = '/';
  });

  it('leaves focus alone on the first page load', async () => {
    render(<Shell title="Prompt" />);
    await new Promise((ok) => requestAnimationFrame(() => ok(null)));
    expect(document.activeElement).toBe(document.body);
  });

  it("moves focus to the new page's heading after a client-side navigation", async () => {
    const { rerender } = render(<Shell title="Prompt" />);
    screen.getByRole('link', { name: 'History' }).focus();
    pathname = '/history/';
    rerender(<Shell title="History" />);
    const heading = screen.getByRole('heading', { level: 1 });
    await vi.waitFor(() => expect(document.activeElement).toBe(heading));
    expect(heading).toHaveAttribute('tabindex', '-1');
  });

  it('does not steal focus from a control already inside the new page', async () => {
    const { rerender } = render(<Shell title="Prompt" />);
    pathname = '/run/';
    rerender(<Shell title="Run" />);
    const inside = screen.getByRole('button', { name: 'Inside' });
    inside.focus();
    await new Promise((ok) => requestAnimationFrame(() => ok(null)));
    expect(document.activeElement).toBe(inside);
  });
});
