/**
 * Markdown built from text that comes from outside (file names, Benchling fields, error details).
 * Every ASCII punctuation character of such text is backslash-escaped, so it can never open a
 * link, image, emphasis, heading, table cell or HTML tag; line breaks become spaces, so it can
 * never start a block. A URL inside it stays text (escaped dots and colons also stop "linkify").
 */
const PUNCTUATION = /[!-/:-@[-`{-~]/g;
/** Control characters and line separators, which could end the line the text is quoted in. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const LINE_BREAKERS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

export function escapeMarkdown(text: string): string {
  return text
    .replace(LINE_BREAKERS, ' ')
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, '') // bidirectional overrides would reorder what a reader sees
    .replace(PUNCTUATION, (c) => `\\${c}`);
}

/** Cuts outside text to `max` characters (marking the cut), then escapes it. */
export function text(value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
  return escapeMarkdown(cut(s, max));
}

export function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/** A link whose label is outside text; the URL is ours (built from configuration) but is percent-encoded where Markdown would end it. */
export function link(label: string, url: string, max = 120): string {
  return `[${text(label, max)}](${url.replace(/[()<>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`;
}

/** Code span for text we built (ids, URIs): backticks inside cannot occur in what we pass. */
export function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

/** Bytes in human units (decimal, like file managers show them): `0 B`, `12.3 kB`, `1.5 GB`. */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** `2026-03-01 14:05 UTC` from an ISO time; outside text that is not a time is escaped as is. */
export function when(iso: string | undefined): string {
  if (!iso) return 'unknown';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return text(iso, 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** One table row; every cell is already Markdown (escaped by the caller). */
export function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}
