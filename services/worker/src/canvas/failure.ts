/**
 * What a scientist reads when a packaging failed: a short reason in plain words, chosen by the
 * error's class. Never the internal message: it can carry file names from the export, URLs and
 * service details, and every reader of the entry sees the canvas. Operators find the detail under
 * the execution id (`pnpm ops executions show <id>`).
 */
const BY_CLASS: Array<[RegExp, string]> = [
  [/^BenchlingNotFound$/, 'Benchling could not find this entry (it may have been deleted, or the app lost access to it).'],
  [/^Benchling(Forbidden|Unauthorized)$/, 'The app is not allowed to read this entry in Benchling.'],
  [/^BenchlingBaseUrlRejected$|^BenchlingTenant/, 'This Benchling tenant is not configured for packaging.'],
  [/^ExportFailed$|^ExportMalformed$/, 'Benchling could not export this entry.'],
  [/^ExportTimeout$/, 'Benchling took too long to export this entry.'],
  [
    /^Zip(Traversal|AbsolutePath|Symlink|UnsafeName)$/,
    'The export contains a file whose name or type cannot be packaged safely; nothing was published.',
  ],
  [/^Zip(Bomb|TooLarge|TooManyEntries)$/, 'The export is larger than this app accepts; nothing was published.'],
  [/^Zip|^Download|^SizeMismatch$/, 'The export could not be read completely; nothing was published.'],
  [/^Quilt/, 'The package could not be written to the Quilt registry.'],
];

export function plainReason(e: { class?: string; retryable?: boolean }): string {
  const cls = e.class ?? '';
  for (const [pattern, reason] of BY_CLASS) if (pattern.test(cls)) return reason;
  if (e.retryable) return 'A service was unavailable; the update was retried several times and then given up. Try again later.';
  return 'Something went wrong while packaging.';
}
