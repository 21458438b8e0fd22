/** The user's recent prompts, kept in localStorage (newest first, deduplicated). */
const KEY = 'qd.recentPrompts';
const MAX = 8;

export function loadRecent(): string[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string').slice(0, MAX) : [];
  } catch {
    return [];
  }
}

export function saveRecent(prompt: string): string[] {
  const text = prompt.trim();
  const next = [text, ...loadRecent().filter((p) => p !== text)].slice(0, MAX);
  try {
    window.localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    /* storage full or disabled: recent prompts are a convenience */
  }
  return next;
}
