/**
 * Range and If-Match as S3 answers them, for the simulator's servers of big objects (export ZIPs,
 * partner run files): one range per request, and a failed If-Match refuses the request.
 */

/** The bytes [start, end) a request asks for, `'unsatisfiable'` (416), or `undefined` (send the whole object). */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * What the `Range` header `header` asks of an object of `size` bytes: `bytes=a-b`, `bytes=a-` or
 * the suffix `bytes=-n`. A header that does not parse, or whose last byte precedes its first, is
 * ignored (RFC 9110 14.2); a range starting at or past the end is unsatisfiable.
 */
export function byteRange(header: string | undefined, size: number): ByteRange {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (!m[1] && !m[2])) return undefined;
  if (m[1] && m[2] && Number(m[2]) < Number(m[1])) return undefined;
  const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
  const end = m[1] && m[2] ? Math.min(size, Number(m[2]) + 1) : size;
  return start >= end ? 'unsatisfiable' : { start, end };
}

/** Whether an `If-Match` header rules the request out for an object whose ETag is `etag` (412). */
export function ifMatchFails(header: string | undefined, etag: string): boolean {
  return !!header && header !== '*' && !header.split(',').some((m) => m.trim() === etag);
}
