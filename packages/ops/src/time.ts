import { OpsUsageError } from './errors.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds of a duration such as `90s`, `15m`, `2h`, `7d`. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!m) throw new OpsUsageError(`${what} must look like 30m, 2h or 7d, got "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}

/** A point in time from `2h` (that long before now) or an ISO timestamp. */
export function parseSince(text: string, now: Date, what = '--since'): Date {
  if (/^\d+(\.\d+)?\s*[smhdw]$/i.test(text.trim())) return new Date(now.getTime() - parseDuration(text, what));
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new OpsUsageError(`${what} must be a duration like 2h or an ISO time, got "${text}"`);
  return new Date(t);
}

/** `1h 02m`, `3m 05s`, `4.2s`, `850ms`: short and sortable by eye. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** Milliseconds between two ISO times, when both are known. */
export function msBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? d : undefined;
}

/** An ISO time without milliseconds, for tables. */
export function shortTime(iso: string | undefined): string {
  return iso ? iso.replace(/\.\d{3}Z$/, 'Z') : '';
}
