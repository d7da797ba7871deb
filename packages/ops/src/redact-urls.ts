/**
 * Copies a value with the query of every http(s) URL in it removed. Presigned URLs (Benchling's
 * export download link) carry their signature in the query: whoever reads an execution must not
 * get a working link to the export from it.
 */
export function withoutUrlQueries<T>(value: T): T {
  if (typeof value === 'string') return stripQuery(value) as T;
  if (Array.isArray(value)) return value.map((v) => withoutUrlQueries(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutUrlQueries(v)])) as T;
  }
  return value;
}

function stripQuery(s: string): string {
  if (!/^https?:\/\/[^\s]*\?/i.test(s)) return s;
  try {
    const u = new URL(s);
    return `${u.origin}${u.pathname}`;
  } catch {
    return s.slice(0, s.indexOf('?'));
  }
}
