/**
 * Groups of logical keys that differ only by letter case (`Data.csv`, `data.csv`). S3 and Quilt
 * keep them apart, so they are published as they are; but macOS and Windows file systems ignore
 * case, and a download there keeps only one of each group. The package README says so.
 * Each group is sorted, groups in order of their first key; at most `limit` groups.
 */
export function caseOnlyCollisions(keys: readonly string[], limit = 50): string[][] {
  const byFolded = new Map<string, string[]>();
  for (const k of keys) {
    const folded = k.toLowerCase();
    const group = byFolded.get(folded);
    if (group) group.push(k);
    else byFolded.set(folded, [k]);
  }
  return [...byFolded.values()]
    .filter((g) => g.length > 1)
    .map((g) => [...g].sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
    .slice(0, limit);
}

/** README lines that warn about `groups` (none when there are none). `code` quotes a key for Markdown. */
export function caseCollisionWarning(groups: string[][], code: (key: string) => string): string[] {
  if (groups.length === 0) return [];
  return [
    '## Warning: file names that differ only by case',
    '',
    'This package holds files whose names differ only in upper and lower case. ' +
      'A case-insensitive file system (macOS, Windows) cannot hold both: ' +
      'download them to such a disk and only one of each group survives.',
    '',
    ...groups.map((g) => `- ${g.map(code).join(', ')}`),
    '',
  ];
}
