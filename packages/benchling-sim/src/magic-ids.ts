/**
 * Entry ids whose prefix asks the simulator for a special behaviour, so a test picks a scenario
 * just by naming the entry (any suffix keeps ids unique per test), e.g. `etr_slow_7`, `etr_big64mb_a`.
 */
export type ExportZipKind = 'standard' | 'big' | 'traversal' | 'absolute' | 'symlink' | 'bomb' | 'manyfiles' | 'files' | 'phish';

export interface EntryScenario {
  /** `etr_missing…`: GET /entries answers 404 and exports are refused. */
  missing: boolean;
  /** `etr_slow…`: the export task stays RUNNING for `slowExportDelayMs`. */
  slow: boolean;
  /** `etr_fail…`: the export task ends FAILED. */
  fail: boolean;
  /** Which ZIP the export downloads. */
  zip: ExportZipKind;
  /** For `etr_big<N>mb…`: N, the approximate export size in MiB. */
  bigMb: number;
  /** For `etr_files<N>…`: N, the number of small files under `attachments/` (besides `report.pdf`). */
  fileCount: number;
}

export const MAGIC_PREFIXES = {
  missing: 'etr_missing',
  slow: 'etr_slow',
  fail: 'etr_fail',
  traversal: 'etr_traversal',
  absolute: 'etr_absolute',
  symlink: 'etr_symlink',
  bomb: 'etr_bomb',
  manyfiles: 'etr_manyfiles',
  /** `etr_phish…`: an attachment named like a Markdown link to a phishing page (and traversing). */
  phish: 'etr_phish',
} as const;

const BIG = /^etr_big(\d+)mb/;
const FILES = /^etr_files(\d{1,4})_/;

export function scenarioFor(entryId: string): EntryScenario {
  const big = BIG.exec(entryId);
  const files = FILES.exec(entryId);
  const zipKinds = ['traversal', 'absolute', 'symlink', 'bomb', 'manyfiles', 'phish'] as const;
  const special = zipKinds.find((k) => entryId.startsWith(MAGIC_PREFIXES[k]));
  return {
    missing: entryId.startsWith(MAGIC_PREFIXES.missing),
    slow: entryId.startsWith(MAGIC_PREFIXES.slow),
    fail: entryId.startsWith(MAGIC_PREFIXES.fail),
    zip: big ? 'big' : files ? 'files' : (special ?? 'standard'),
    bigMb: big ? Number(big[1]) : 0,
    fileCount: files ? Number(files[1]) : 0,
  };
}
