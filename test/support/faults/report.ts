/** Prints a plain-text table under a title, columns padded to their widest cell (numbers right-aligned). */
export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], raw: Array<string | number>) =>
    r.map((c, i) => (typeof raw[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [`\n  ${title}`, `  ${line(header, header)}`, `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`];
  for (const r of rows) out.push(`  ${line(r.map(String), r)}`);
  console.log(out.join('\n'));
}

/** Seconds with one decimal, for tables. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
