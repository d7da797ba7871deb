import { FastPrng, seedFrom } from './prng.ts';
import type { EntryRecord } from './entries.ts';
import { type ExportZipKind, scenarioFor } from './magic-ids.ts';

/** Export formats `POST /exports` accepts. */
export type ExportFormat = 'pdf' | 'html';

/** The entry state an export captured when it started, plus the requested format. */
export interface ExportSnapshot {
  entry: EntryRecord;
  format: ExportFormat;
}

/** One member of an export ZIP, described before any byte is produced. */
export type ZipItem =
  | { path: string; source: 'bytes'; data: Buffer; mode?: number; compress: boolean }
  | { path: string; source: 'random'; size: number; seed: number; compress: boolean }
  | { path: string; source: 'zeros'; size: number; compress: boolean }
  | { path: string; source: 'directory' };

/** Everything needed to produce one export ZIP deterministically. */
export interface ZipPlan {
  /** Cache identity: two plans with the same key produce the same bytes. */
  key: string;
  mtime: Date;
  items: ZipItem[];
  /**
   * Names yazl refuses to write (`../x`, `/x`): the item is added under the placeholder (same
   * UTF-8 length) and the finished bytes are patched, as a hostile ZIP writer would produce.
   */
  renames: { placeholder: string; actual: string }[];
}

/** Bumped whenever the layout below changes, so cached ZIPs from older code are not served. */
export const ZIP_PLAN_VERSION = 3;

const MiB = 1 << 20;
/** Size of the zip-bomb member: 2 GiB of zeros, which deflate shrinks to about 2 MB. Bytes. */
export const BOMB_UNCOMPRESSED_BYTES = 2 * 1024 * MiB;
/** Members of an `etr_manyfiles…` export. */
export const MANY_FILES_COUNT = 20_000;

const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');

export function planExportZip(s: ExportSnapshot): ZipPlan {
  const scenario = scenarioFor(s.entry.id);
  const builders: Record<ExportZipKind, () => ZipPlan> = {
    standard: () => standardPlan(s),
    big: () => bigPlan(s, scenario.bigMb),
    traversal: () => hostileNamePlan('traversal', '../../evil.txt', '@@/@@/evil.txt'),
    absolute: () => hostileNamePlan('absolute', '/etc/evil.txt', '@etc/evil.txt'),
    symlink: symlinkPlan,
    bomb: bombPlan,
    manyfiles: manyFilesPlan,
    files: () => filesPlan(scenario.fileCount),
    // The name of issue 13's report: a Markdown link inside a path that also climbs out of its folder.
    phish: () =>
      hostileNamePlan(
        'phish',
        'attachments/[Session expired - sign in again](https://evil.example/login)/../x.pdf',
        'attachments/[Session expired - sign in again](https://evil.example/login)/@@/x.pdf',
      ),
  };
  return builders[scenario.zip]();
}

/** A small text document that starts like a PDF and carries the entry's title and fields. */
function pdfLike(s: ExportSnapshot): Buffer {
  const lines = [
    '%PDF-1.7',
    '%âãÏÓ',
    `% Benchling export of ${s.entry.displayId} (${s.entry.id}), revision ${s.entry.revision}`,
    `% Title: ${s.entry.name}`,
    ...Object.entries(s.entry.fields).map(([k, f]) => `% ${k}: ${f.displayValue ?? ''}`),
    '1 0 obj << /Type /Catalog >> endobj',
    '%%EOF',
  ];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

function htmlPage(s: ExportSnapshot): Buffer {
  const rows = Object.entries(s.entry.fields)
    .map(([k, f]) => `<tr><th>${k}</th><td>${f.displayValue ?? ''}</td></tr>`)
    .join('');
  return Buffer.from(
    `<!doctype html><html><head><meta charset="utf-8"><title>${s.entry.name}</title>` +
      `<link rel="stylesheet" href="${s.entry.displayId}_files/style.css"></head>` +
      `<body><h1>${s.entry.name}</h1><p>${s.entry.displayId} · révision ${s.entry.revision}</p><table>${rows}</table></body></html>\n`,
    'utf8',
  );
}

/** The main document plus the attachments every export carries (non-ASCII name, nested dirs). */
function documentItems(s: ExportSnapshot, seed: number): ZipItem[] {
  const main: ZipItem[] =
    s.format === 'pdf'
      ? [{ path: `${s.entry.displayId}.pdf`, source: 'bytes', data: pdfLike(s), compress: true }]
      : [
          { path: `${s.entry.displayId}.html`, source: 'bytes', data: htmlPage(s), compress: true },
          {
            path: `${s.entry.displayId}_files/style.css`,
            source: 'bytes',
            data: Buffer.from('body{font-family:sans-serif}\n'),
            compress: true,
          },
        ];
  const csv = ['champ;valeur', ...Object.entries(s.entry.fields).map(([k, f]) => `${k};${f.displayValue ?? ''}`)].join('\n');
  return [
    ...main,
    { path: 'attachments/Résumé données.csv', source: 'bytes', data: Buffer.from(`${csv}\n`, 'utf8'), compress: true },
    {
      path: 'attachments/notes/README.txt',
      source: 'bytes',
      data: Buffer.from(`Pièces jointes de ${s.entry.name}\n`, 'utf8'),
      compress: true,
    },
    { path: 'attachments/images/gel.png', source: 'random', size: 24 * 1024, seed: seed + 1, compress: false },
    { path: 'attachments/raw/run-2024/plate-01.bin', source: 'random', size: 64 * 1024, seed: seed + 2, compress: false },
    {
      path: 'attachments/raw/run-2024/measurements.tsv',
      source: 'bytes',
      data: Buffer.from('well\tOD600\nA1\t0.42\nA2\t0.39\n'),
      compress: true,
    },
    { path: 'attachments/empty-folder', source: 'directory' },
  ];
}

function entryIdentity(s: ExportSnapshot): string {
  return JSON.stringify([s.entry.id, s.entry.revision, s.entry.name, s.entry.fields, s.format]);
}

function standardPlan(s: ExportSnapshot): ZipPlan {
  const id = entryIdentity(s);
  return { key: `standard:${id}`, mtime: new Date(s.entry.modifiedAt), items: documentItems(s, seedFrom(id)), renames: [] };
}

/**
 * About `mb` MiB in many files: three of mb/4 MiB, a handful of medium ones and dozens of
 * small ones, all pseudo-random (incompressible, so stored rather than deflated).
 */
function bigPlan(s: ExportSnapshot, mb: number): ZipPlan {
  const id = entryIdentity(s);
  const prng = new FastPrng(seedFrom(id));
  const total = mb * MiB;
  const items = documentItems(s, prng.nextUint32());
  const smallMax = Math.max(256, Math.min(64 * 1024, Math.floor(total / 400)));
  let small = 0;
  for (let i = 1; i <= 40; i++) {
    const size = prng.int(100, smallMax);
    small += size;
    items.push({
      path: `attachments/data/small/sample-${String(i).padStart(3, '0')}.dat`,
      source: 'random',
      size,
      seed: prng.nextUint32(),
      compress: false,
    });
  }
  const quarter = Math.floor(total / 4);
  for (let i = 1; i <= 3; i++) {
    items.push({
      path: `attachments/data/large/séquençage-${i}.bin`,
      source: 'random',
      size: quarter,
      seed: prng.nextUint32(),
      compress: false,
    });
  }
  const rest = Math.max(0, total - 3 * quarter - small);
  const mediumCount = 5;
  for (let i = 1; i <= mediumCount; i++) {
    const size = i < mediumCount ? Math.floor(rest / mediumCount) : rest - Math.floor(rest / mediumCount) * (mediumCount - 1);
    items.push({ path: `attachments/data/medium/chunk-${i}.bin`, source: 'random', size, seed: prng.nextUint32(), compress: false });
  }
  return { key: `big:${mb}:${id}`, mtime: new Date(s.entry.modifiedAt), items, renames: [] };
}

function hostileNamePlan(kind: string, actual: string, placeholder: string): ZipPlan {
  return {
    key: kind,
    mtime: FIXED_MTIME,
    items: [
      { path: 'report.pdf', source: 'bytes', data: Buffer.from('%PDF-1.7\n%%EOF\n'), compress: true },
      { path: placeholder, source: 'bytes', data: Buffer.from('this file must never be written outside the export\n'), compress: true },
    ],
    renames: [{ placeholder, actual }],
  };
}

function symlinkPlan(): ZipPlan {
  return {
    key: 'symlink',
    mtime: FIXED_MTIME,
    items: [
      { path: 'report.pdf', source: 'bytes', data: Buffer.from('%PDF-1.7\n%%EOF\n'), compress: true },
      // A symlink member stores its target as the content; the unix mode marks it a link.
      { path: 'attachments/passwd', source: 'bytes', data: Buffer.from('/etc/passwd'), mode: 0o120777, compress: false },
    ],
    renames: [],
  };
}

function bombPlan(): ZipPlan {
  return {
    key: 'bomb',
    mtime: FIXED_MTIME,
    items: [
      { path: 'report.pdf', source: 'bytes', data: Buffer.from('%PDF-1.7\n%%EOF\n'), compress: true },
      { path: 'attachments/zeros.bin', source: 'zeros', size: BOMB_UNCOMPRESSED_BYTES, compress: true },
    ],
    renames: [],
  };
}

/** `report.pdf` and `n` small files under `attachments/`: a folder that pages predictably. */
function filesPlan(n: number): ZipPlan {
  const items: ZipItem[] = [{ path: 'report.pdf', source: 'bytes', data: Buffer.from('%PDF-1.7\n%%EOF\n'), compress: true }];
  for (let i = 1; i <= n; i++)
    items.push({
      path: `attachments/sample-${String(i).padStart(3, '0')}.csv`,
      source: 'bytes',
      data: Buffer.from(`id,value\n${i},${i * i}\n`),
      compress: false,
    });
  return { key: `files${n}`, mtime: FIXED_MTIME, items, renames: [] };
}

function manyFilesPlan(): ZipPlan {
  const items: ZipItem[] = [{ path: 'report.pdf', source: 'bytes', data: Buffer.from('%PDF-1.7\n%%EOF\n'), compress: true }];
  for (let i = 0; i < MANY_FILES_COUNT; i++) {
    const dir = String(Math.floor(i / 100)).padStart(3, '0');
    items.push({
      path: `attachments/many/d${dir}/f${String(i).padStart(5, '0')}.txt`,
      source: 'bytes',
      data: Buffer.from(`file ${i}\n`),
      compress: false,
    });
  }
  return { key: 'manyfiles', mtime: FIXED_MTIME, items, renames: [] };
}
