import { randomBytes } from 'node:crypto';
import type { Served } from '../../../../services/worker/test/transfer/support/export-server.ts';
import { buildZip, type ZipEntrySpec } from '../../../../services/worker/test/transfer/support/zip-builder.ts';

/**
 * Hostile export ZIPs, served in place of Benchling's download URL, each with the execution
 * outcome the transfer documents (services/worker/src/transfer/transfer-export.ts): FAILED with
 * that error class and nothing uploaded, or SUCCEEDED for the controls. The worker that runs them
 * has small limits so size cases stay small: see ZIP_CORPUS_LIMITS.
 */
export interface ZipCase {
  category: string;
  name: string;
  serve: Served;
  /** `SUCCEEDED`, or the `lastError.class` the FAILED execution must carry. */
  expect: string;
}

const MiB = 1024 * 1024;

/** Worker environment for the ZIP corpus. */
export const ZIP_CORPUS_LIMITS = {
  ZIP_MAX_BYTES: String(16 * MiB),
  ZIP_MAX_UNCOMPRESSED_BYTES: String(8 * MiB),
  ZIP_MAX_ENTRIES: '1000',
  ZIP_MAX_RATIO: '200',
};

const REPORT: ZipEntrySpec = { name: 'report.pdf', data: Buffer.from('%PDF-1.7\n% a report\n%%EOF\n') };
const EVIL = Buffer.from('this file must never be written outside the export\n');

function zip(entries: ZipEntrySpec[]): Served {
  return { body: buildZip(entries) };
}

/** A single-entry ZIP (plus the report) with header fields patched: flags and method, in both headers. */
function patched(entry: ZipEntrySpec, o: { flags?: number; method?: number }): Served {
  const z = buildZip([entry]);
  const central = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  if (o.flags !== undefined) {
    z.writeUInt16LE(z.readUInt16LE(6) | o.flags, 6);
    z.writeUInt16LE(z.readUInt16LE(central + 8) | o.flags, central + 8);
  }
  if (o.method !== undefined) {
    z.writeUInt16LE(o.method, 8);
    z.writeUInt16LE(o.method, central + 10);
  }
  return { body: z };
}

function withEvil(name: string, extra: Partial<ZipEntrySpec> = {}): Served {
  return zip([REPORT, { name, data: EVIL, ...extra }]);
}

export function zipCases(): ZipCase[] {
  const cases: ZipCase[] = [];
  const add = (category: string, expect: string, list: Array<[string, Served]>) => {
    for (const [name, serve] of list) cases.push({ category, name, serve, expect });
  };

  add('zip: traversal', 'ZipTraversal', [
    ...[
      '../evil.txt',
      '../../evil.txt',
      'a/../../evil.txt',
      'a/b/../../../evil.txt',
      './../evil.txt',
      '..\\evil.txt',
      'a\\..\\..\\evil.txt',
      '..',
      'docs/../',
    ].map((n): [string, Served] => [JSON.stringify(n), withEvil(n)]),
  ]);
  add('zip: absolute path', 'ZipAbsolutePath', [
    ...[
      '/etc/evil.txt',
      '/evil.txt',
      '//server/share/evil.txt',
      '\\evil.txt',
      '\\\\server\\share\\evil.txt',
      'C:\\evil.txt',
      'c:/evil.txt',
      'C:evil.txt',
      'z:\\a\\evil.txt',
    ].map((n): [string, Served] => [JSON.stringify(n), withEvil(n)]),
  ]);
  add('zip: symlink', 'ZipSymlink', [
    [
      'link to /etc/passwd',
      zip([REPORT, { name: 'attachments/passwd', data: Buffer.from('/etc/passwd'), method: 'store', unixMode: 0o120777 }]),
    ],
    ['link to ../../evil', zip([REPORT, { name: 'attachments/up', data: Buffer.from('../../evil'), method: 'store', unixMode: 0o120777 }])],
    ['link to a directory', zip([REPORT, { name: 'attachments/root/', data: Buffer.from('/'), method: 'store', unixMode: 0o120755 }])],
    ['link listed first', zip([{ name: 'a-link', data: Buffer.from('/tmp'), method: 'store', unixMode: 0o120777 }, REPORT])],
  ]);
  const zeros900k = Buffer.alloc(900 * 1024);
  add('zip: bomb', 'ZipBomb', [
    ['one entry of 50 MiB of zeros', zip([REPORT, { name: 'zeros.bin', data: Buffer.alloc(50 * MiB) }])],
    [
      '9 entries of 900 KiB zeros, each under the ratio floor',
      zip([REPORT, ...Array.from({ length: 9 }, (_, i) => ({ name: `z/${i}.bin`, data: zeros900k }))]),
    ],
    ['declares 4 GiB for a few bytes', zip([REPORT, { name: 'lying.bin', data: Buffer.from('tiny'), declaredSize: 0xfffffffe }])],
    [
      'inflates past its declared 1000 bytes',
      zip([REPORT, { name: 'lying.txt', data: Buffer.alloc(2 * MiB, 'abcdefgh'), declaredSize: 1000 }]),
    ],
    [
      'lies in a data descriptor too',
      zip([REPORT, { name: 'lying-dd.txt', data: Buffer.alloc(2 * MiB, 'abcdefgh'), declaredSize: 1000, dataDescriptor: true }]),
    ],
  ]);
  add('zip: too many entries', 'ZipTooManyEntries', [
    [
      '1,001 files',
      zip(Array.from({ length: 1001 }, (_, i) => ({ name: `f/${i}.txt`, data: Buffer.from(String(i)), method: 'store' as const }))),
    ],
    ['1,001 directories', zip(Array.from({ length: 1001 }, (_, i) => ({ name: `d${i}/` })))],
    [
      'end record claiming 60,000 entries',
      (() => {
        const z = buildZip([REPORT]);
        z.writeUInt16LE(60_000, z.length - 22 + 8);
        z.writeUInt16LE(60_000, z.length - 22 + 10);
        return { body: z };
      })(),
    ],
  ]);
  const big = randomBytes(16 * MiB + 1);
  add('zip: too large', 'ZipTooLarge', [
    [
      '9 MiB uncompressed (limit 8)',
      zip([REPORT, ...[1, 2, 3].map((i) => ({ name: `r${i}.bin`, data: randomBytes(3 * MiB), method: 'store' as const }))]),
    ],
    ['download of 16 MiB + 1 (limit 16), length declared', { body: big }],
    ['download of 16 MiB + 1, chunked', { body: big, headers: { 'transfer-encoding': 'chunked' } }],
  ]);
  const good = buildZip([REPORT, { name: 'data/readme.txt', data: Buffer.from('hello\n'.repeat(50)) }]);
  const stored = buildZip([{ name: 'stored.txt', data: Buffer.from('stored bytes, checked by CRC-32\n'), method: 'store' }]);
  const crcFlipped = Buffer.from(stored);
  crcFlipped[30 + 'stored.txt'.length + 3]! ^= 0x20;
  const badOffset = Buffer.from(good);
  badOffset.writeUInt32LE(good.length + 1000, good.length - 22 + 16);
  const badLocal = Buffer.from(good);
  badLocal.writeUInt32LE(0xdeadbeef, 0);
  add('zip: corrupt', 'ZipCorrupt', [
    ['empty file', { body: Buffer.alloc(0) }],
    ['plain text', { body: Buffer.from('this is not a zip file\n') }],
    [
      'an HTML error page with status 200',
      { body: Buffer.from('<html><body><h1>Service Unavailable</h1></body></html>'), headers: { 'content-type': 'text/html' } },
    ],
    ['first half of a ZIP', { body: good.subarray(0, Math.floor(good.length / 2)) }],
    ['end record cut short', { body: good.subarray(0, good.length - 10) }],
    ['4 KiB of random bytes', { body: randomBytes(4096) }],
    ['central directory offset past the end', { body: badOffset }],
    ['broken local header signature', { body: badLocal }],
    ['stored entry whose bytes fail the CRC', { body: crcFlipped }],
    ['an entry with an empty name', withEvil('')],
    ['the ZIP64 size marker without ZIP64 data', zip([REPORT, { name: 'zip64.bin', data: Buffer.from('tiny'), declaredSize: 0xffffffff }])],
    ['stored entry declaring two sizes', zip([{ name: 'two-sizes.txt', data: Buffer.from('abc'), method: 'store', declaredSize: 10 }])],
  ]);
  add('zip: unsupported', 'ZipUnsupported', [
    ['bzip2 (method 12)', patched({ name: 'b.txt', data: Buffer.from('x') }, { method: 12 })],
    ['LZMA (method 14)', patched({ name: 'l.txt', data: Buffer.from('x') }, { method: 14 })],
    ['AES envelope (method 99)', patched({ name: 'a.txt', data: Buffer.from('x') }, { method: 99 })],
  ]);
  add('zip: encrypted', 'ZipEncrypted', [
    ['traditional encryption flag', patched({ name: 'secret.txt', data: Buffer.from('x') }, { flags: 0x1 })],
  ]);
  add('zip: duplicate path', 'ZipDuplicatePath', [
    ['the same name twice', zip([REPORT, { name: 'a.txt', data: EVIL }, { name: 'a.txt', data: EVIL }])],
    [
      'a//b.txt and a/b.txt',
      zip([
        { name: 'a//b.txt', data: EVIL },
        { name: 'a/b.txt', data: EVIL },
      ]),
    ],
    [
      'NFC and NFD spellings of café.txt',
      zip([
        { name: 'caf\u00e9.txt', data: EVIL },
        { name: 'cafe\u0301.txt', data: EVIL },
      ]),
    ],
    [
      './a.txt and a.txt',
      zip([
        { name: './a.txt', data: EVIL },
        { name: 'a.txt', data: EVIL },
      ]),
    ],
    [
      'a\\b.txt and a/b.txt',
      zip([
        { name: 'a\\b.txt', data: EVIL },
        { name: 'a/b.txt', data: EVIL },
      ]),
    ],
  ]);
  add('zip: path conflict', 'ZipPathConflict', [
    [
      'file a, then a/b.txt',
      zip([
        { name: 'a', data: EVIL },
        { name: 'a/b.txt', data: EVIL },
      ]),
    ],
    [
      'a/b.txt, then file a',
      zip([
        { name: 'a/b.txt', data: EVIL },
        { name: 'a', data: EVIL },
      ]),
    ],
  ]);
  add('zip: bad path', 'ZipBadPath', [
    ['NUL in a name', withEvil('a\u0000b.txt')],
    ['newline in a name', withEvil('a\nb.txt')],
    ['tab in a name', withEvil('tab\t.txt')],
    ['DEL in a name', withEvil('del\u007f.txt')],
    ['a lone dot', withEvil('.')],
    ['a 1,100-byte name', withEvil(`${'n'.repeat(1100)}.txt`)],
    ['right-to-left override (invoice\u202Efdp.exe)', withEvil('invoice\u202Efdp.exe')],
    ['left-to-right override in a folder', withEvil('a\u202Db/x.txt')],
    ['right-to-left isolate', withEvil('scan\u2067gpj.exe')],
    ['right-to-left mark', withEvil('r\u200Fm.txt')],
    ['C1 control (NEL)', withEvil('nel\u0085.txt')],
  ]);
  add('zip: download refused', 'DownloadNotFound', [
    ['404 (export expired)', { status: 404, body: Buffer.from('<Error><Code>NoSuchKey</Code></Error>') }],
  ]);
  add('zip: download refused', 'DownloadForbidden', [
    ['403 (signature expired)', { status: 403, body: Buffer.from('<Error><Code>AccessDenied</Code></Error>') }],
  ]);
  add('zip: download refused', 'DownloadGone', [['410', { status: 410, body: Buffer.alloc(0) }]]);
  add('zip: download refused', 'DownloadRejected', [['400', { status: 400, body: Buffer.alloc(0) }]]);
  add('zip: control', 'SUCCEEDED', [
    ['ordinary files', { body: good }],
    [
      'non-ASCII names',
      zip([
        REPORT,
        { name: 'pièces jointes/Résumé données.csv', data: Buffer.from('a;b\n') },
        { name: '数据/实验.txt', data: Buffer.from('ok\n') },
      ]),
    ],
    [
      'names that only look like traversal',
      zip([REPORT, { name: '...txt', data: EVIL }, { name: '..hidden', data: EVIL }, { name: 'a..b/c.txt', data: EVIL }]),
    ],
    ['percent-encoded dots kept literally', zip([REPORT, { name: '%2e%2e/literal.txt', data: EVIL }])],
    ['dot segments dropped', zip([REPORT, { name: 'a/./b.txt', data: EVIL }])],
    ['an empty file', zip([REPORT, { name: 'empty.txt', data: Buffer.alloc(0) }])],
    ['directory entries and one file', zip([{ name: 'dir/' }, { name: 'dir/sub/' }, { name: 'dir/sub/file.txt', data: EVIL }])],
    // Kept beside our metadata files, renamed `<stem>.export<ext>` (packages/shared/src/quilt/reserved-keys.ts).
    [
      'README.md, entry.json and input.json at the root',
      zip([REPORT, { name: 'README.md', data: EVIL }, { name: 'entry.json', data: EVIL }, { name: 'input.json', data: EVIL }]),
    ],
    [
      'readme.MD, README.export.md and a folder named entry.json',
      zip([
        REPORT,
        { name: 'readme.MD', data: EVIL },
        { name: 'README.export.md', data: EVIL },
        { name: 'entry.json/inner.txt', data: EVIL },
      ]),
    ],
    [
      'names that differ only by case',
      zip([REPORT, { name: 'Data.csv', data: EVIL }, { name: 'data.csv', data: EVIL }, { name: 'DATA.CSV', data: EVIL }]),
    ],
    [
      'data descriptors (streamed ZIP)',
      zip([REPORT, { name: 'streamed.txt', data: Buffer.from('streamed\n'.repeat(100)), dataDescriptor: true }]),
    ],
  ]);
  return cases;
}
