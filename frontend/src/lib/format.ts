/** Display formatting shared by tables, charts, timelines and exports. */
import type { Column, JsonValue } from './types';

export function formatCell(value: JsonValue | undefined, kind: Column['kind']): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value !== 'number') return typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (!Number.isFinite(value)) return '—';
  switch (kind) {
    case 'percent':
      // ScenarioResult percents are fractions (0.05 = 5 %).
      return `${(value * 100).toFixed(2)}%`;
    case 'integer':
      return Math.round(value).toLocaleString('en-US');
    case 'number': {
      const abs = Math.abs(value);
      const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
      return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    default:
      return String(value);
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Local wall-clock time with milliseconds, e.g. `14:03:07.412`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function elapsedMs(fromIso: string | undefined, toIso: string | undefined): number | null {
  if (!fromIso || !toIso) return null;
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  return Number.isFinite(ms) ? ms : null;
}

export function statusLabel(status: string | null | undefined): string {
  return (status ?? 'loading').replace(/_/g, ' ');
}
