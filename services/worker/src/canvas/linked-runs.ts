import type { ViewBlock } from './blocks.ts';
import { markdown } from './blocks.ts';
import { link, row, text, when } from './markdown.ts';

/** A sequencing-run package linked to the entry (partner and warehouse features). */
export interface LinkedRun {
  packageName: string;
  /** Partner's run id, when known. */
  runId?: string;
  /** ISO time the run was linked or published. */
  at?: string;
  /** QC state as the partner reports it, e.g. PASSED, FAILED, PENDING. */
  qcState?: string;
  /** Where to open it, when known. */
  link?: string;
}

/** Where the canvas learns an entry's linked runs; the entry record holds them when the feature is on. */
export interface LinkedRunsReader {
  linkedRuns(entry: { linkedRuns?: unknown } | undefined): LinkedRun[];
}

/**
 * Reads the entry record's `linkedRuns` list leniently (its writer is another feature): items
 * without a package name are skipped, the rest sorted newest first.
 */
export const entryRecordLinkedRuns: LinkedRunsReader = {
  linkedRuns(entry) {
    const raw = entry?.linkedRuns;
    if (!Array.isArray(raw)) return [];
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const runs: LinkedRun[] = [];
    for (const r of raw as Array<Record<string, unknown>>) {
      if (!r || typeof r !== 'object') continue;
      const packageName = str(r.packageName) ?? str(r.package);
      if (!packageName) continue;
      const qc = r.qc && typeof r.qc === 'object' ? str((r.qc as Record<string, unknown>).state) : undefined;
      runs.push({
        packageName,
        ...optional('runId', str(r.runId)),
        ...optional('at', str(r.at) ?? str(r.linkedAt) ?? str(r.publishedAt)),
        ...optional('qcState', str(r.qcState) ?? str(r.qcStatus) ?? qc),
        ...optional('link', str(r.link) ?? str(r.url)),
      });
    }
    return runs.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  },
};

function optional<K extends string>(k: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: string };
}

/** Most runs listed on the canvas. */
const MAX_RUNS = 10;

export function linkedRunsBlock(runs: LinkedRun[]): ViewBlock {
  if (runs.length === 0) return markdown('linked-runs', '#### Linked sequencing runs\n\nNo sequencing runs are linked to this entry yet.');
  const lines = [
    '#### Linked sequencing runs',
    '',
    row(['run', 'package', 'QC', 'linked']),
    row(['---', '---', '---', '---']),
    ...runs
      .slice(0, MAX_RUNS)
      .map((r) =>
        row([
          text(r.runId ?? '—', 40),
          r.link && /^https:\/\//.test(r.link) ? link(r.packageName, r.link, 80) : text(r.packageName, 80),
          text(r.qcState ?? 'unknown', 20),
          when(r.at),
        ]),
      ),
    ...(runs.length > MAX_RUNS ? ['', `… and ${runs.length - MAX_RUNS} older runs.`] : []),
  ];
  return markdown('linked-runs', lines.join('\n'));
}
