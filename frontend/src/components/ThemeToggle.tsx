'use client';

import { useEffect, useState } from 'react';

type Theme = 'system' | 'light' | 'dark';
const NEXT: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<Theme, string> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };

/** Cycles system → light → dark; the choice lives in localStorage and `<html data-theme>`. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>('system');

  useEffect(() => {
    const saved = window.localStorage.getItem('qd.theme');
    if (saved === 'light' || saved === 'dark') setTheme(saved);
  }, []);

  function cycle() {
    const next = NEXT[theme];
    setTheme(next);
    if (next === 'system') {
      window.localStorage.removeItem('qd.theme');
      delete document.documentElement.dataset.theme;
    } else {
      window.localStorage.setItem('qd.theme', next);
      document.documentElement.dataset.theme = next;
    }
  }

  return (
    <button
      type="button"
      className="btn btn-ghost theme-toggle"
      onClick={cycle}
      aria-label={`${LABEL[theme]} (change)`}
    >
      <span aria-hidden="true">{theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}</span>
      <span className="theme-label">{theme}</span>
    </button>
  );
}
