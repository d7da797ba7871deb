import Table from 'cli-table3';

/**
 * A plain table (no colours, so output is the same in a terminal, a pipe and the runbook).
 * `wrapLast`: the last column wraps at this many characters instead of being cut (error messages).
 */
export function table(head: string[], rows: Array<Array<string | number | undefined>>, o: { wrapLast?: number } = {}): string {
  const widths = o.wrapLast ? [...head.slice(1).map(() => null), o.wrapLast + 2] : [];
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true },
    ...(o.wrapLast ? { colWidths: widths, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  for (const r of rows) t.push(r.map((c) => (c === undefined ? '' : String(c))));
  return t.toString();
}

/** Two columns, label and value, for one record; values wrap at 100 characters. */
export function fields(rows: Array<[string, string | number | undefined]>): string {
  const t = new Table({ style: { head: [], border: [], compact: true }, colWidths: [null, 102], wordWrap: true, wrapOnWordBoundary: true });
  for (const [k, v] of rows) if (v !== undefined && v !== '') t.push({ [k]: String(v) });
  return t.toString();
}

/** Cuts long text for a table cell. */
export function clip(text: string | undefined, max: number): string {
  if (!text) return '';
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
