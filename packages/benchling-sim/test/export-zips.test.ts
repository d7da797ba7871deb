import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { BOMB_UNCOMPRESSED_BYTES, MANY_FILES_COUNT } from '../src/index.ts';
import { exportAndDownload, useSimulator } from './helpers.ts';
import { crc32, extract, readCentralDirectory, type ZipMember } from './zip-reader.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const fileType = (m: ZipMember) => (m.externalAttributes >>> 16) & 0o170000;
const MiB = 1 << 20;

describe('simulated export ZIPs', function () {
  this.timeout(120_000);
  const suite = useSimulator({ exportDelayMs: 50, rateLimit: { limit: 10_000, windowSeconds: 30 } }, 'zips');

  it('is a valid ZIP named after the entry, with attachments, a non-ASCII name and nested folders', async () => {
    const entry = (await suite.call('GET', '/entries/etr_zip1')).body.entry;
    const { zip, response } = await exportAndDownload(suite.call, 'etr_zip1');
    expect(Number(response.headers.get('content-length'))).to.equal(zip.length);
    const members = readCentralDirectory(zip);
    const names = members.map((m) => m.name);
    expect(names).to.include(`${entry.displayId}.pdf`);
    expect(names).to.include('attachments/Résumé données.csv');
    expect(names.some((n) => n.split('/').length >= 4)).to.equal(true);
    for (const m of members.filter((x) => !x.name.endsWith('/'))) {
      const data = extract(zip, m);
      expect(data.length, m.name).to.equal(m.uncompressedSize);
      expect(crc32(data), m.name).to.equal(m.crc32);
    }
    const pdf = extract(zip, members.find((m) => m.name.endsWith('.pdf'))!).toString('utf8');
    expect(pdf.startsWith('%PDF-')).to.equal(true);
    expect(pdf).to.include(entry.name);
  });

  it('exports the html format as an HTML page with its files', async () => {
    const { zip } = await exportAndDownload(suite.call, 'etr_zip1', 'html');
    const names = readCentralDirectory(zip).map((m) => m.name);
    expect(names.some((n) => /^EXP\d{8}\.html$/.test(n))).to.equal(true);
    expect(names.some((n) => /^EXP\d{8}_files\//.test(n))).to.equal(true);
  });

  it('produces the same bytes for the same entry revision, and new bytes after an edit', async () => {
    const a = await exportAndDownload(suite.call, 'etr_zip2');
    const b = await exportAndDownload(suite.call, 'etr_zip2');
    expect(sha(a.zip)).to.equal(sha(b.zip));
    await fetch(`${suite.sim.url}/_sim/entries/etr_zip2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Édité' }),
    });
    const c = await exportAndDownload(suite.call, 'etr_zip2');
    expect(sha(c.zip)).to.not.equal(sha(a.zip));
    const pdf = readCentralDirectory(c.zip).find((m) => m.name.endsWith('.pdf'))!;
    expect(extract(c.zip, pdf).toString('utf8')).to.include('Édité');
  });

  it('serves byte ranges with 206 and the matching bytes', async () => {
    const { url, zip } = await exportAndDownload(suite.call, 'etr_zip1');
    const res = await fetch(url, { headers: { range: 'bytes=100-1099' } });
    expect(res.status).to.equal(206);
    expect(res.headers.get('content-range')).to.equal(`bytes 100-1099/${zip.length}`);
    expect(res.headers.get('content-length')).to.equal('1000');
    expect(Buffer.from(await res.arrayBuffer()).equals(zip.subarray(100, 1100))).to.equal(true);
  });

  it('answers like S3 to a suffix range, an open range, an unsatisfiable range, HEAD and If-Match', async () => {
    const { url, zip } = await exportAndDownload(suite.call, 'etr_zip1');
    const whole = await fetch(url);
    const etag = whole.headers.get('etag')!;
    expect(etag).to.match(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(whole.headers.get('accept-ranges')).to.equal('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(zip)).to.equal(true);

    const suffix = await fetch(url, { headers: { range: 'bytes=-22' } });
    expect(suffix.status).to.equal(206);
    expect(suffix.headers.get('content-range')).to.equal(`bytes ${zip.length - 22}-${zip.length - 1}/${zip.length}`);
    expect(Buffer.from(await suffix.arrayBuffer()).equals(zip.subarray(zip.length - 22))).to.equal(true);

    const open = await fetch(url, { headers: { range: `bytes=${zip.length - 5}-`, 'if-match': etag } });
    expect(open.status).to.equal(206);
    expect(Buffer.from(await open.arrayBuffer()).equals(zip.subarray(zip.length - 5))).to.equal(true);

    const beyond = await fetch(url, { headers: { range: `bytes=${zip.length}-` } });
    expect(beyond.status).to.equal(416);
    expect(beyond.headers.get('content-range')).to.equal(`bytes */${zip.length}`);
    expect(await beyond.text()).to.include('<Code>InvalidRange</Code>');

    const backwards = await fetch(url, { headers: { range: 'bytes=10-5' } });
    expect(backwards.status, 'a range ending before it starts is ignored').to.equal(200);
    expect((await backwards.arrayBuffer()).byteLength).to.equal(zip.length);

    const other = await fetch(url, { headers: { range: 'bytes=0-9', 'if-match': '"not-it"' } });
    expect(other.status).to.equal(412);
    expect(await other.text()).to.include('<Code>PreconditionFailed</Code>');

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-length')).to.equal(String(zip.length));
    expect(head.headers.get('etag')).to.equal(etag);
  });

  it('makes etr_big<N>mb… about N MiB of incompressible data in many files, a few of N/4 MiB', async () => {
    const { zip } = await exportAndDownload(suite.call, 'etr_big8mb_a');
    const members = readCentralDirectory(zip);
    const total = members.reduce((s, m) => s + m.uncompressedSize, 0);
    expect(total).to.be.within(8 * MiB, 8.2 * MiB);
    expect(members.length).to.be.above(40);
    expect(members.filter((m) => m.uncompressedSize === 2 * MiB)).to.have.length(3);
    const large = members.find((m) => m.uncompressedSize === 2 * MiB)!;
    const data = extract(zip, large);
    expect(crc32(data)).to.equal(large.crc32);
    // Pseudo-random content: deflate cannot shrink it.
    expect(deflateRawSync(data.subarray(0, 256 * 1024)).length).to.be.above(255 * 1024);
    const other = await exportAndDownload(suite.call, 'etr_big8mb_b');
    expect(sha(other.zip)).to.not.equal(sha(zip));
  });

  it('generates big exports by streaming, without holding them in memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    try {
      const r = await suite.call('POST', '/exports', { id: 'etr_big256mb_stream' });
      const task = suite.sim.state.exports.get(r.body.taskId)!;
      while (!task.zipPath && !task.zipError) await new Promise((res) => setTimeout(res, 20));
      expect(task.zipError).to.equal(undefined);
      expect(statSync(task.zipPath!).size).to.be.above(256 * MiB);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    expect(peak - rssBefore, 'RSS growth').to.be.below(128 * MiB);
    // Loose bound for slow CI machines; about 200 MB/s on a laptop.
    expect(256 / seconds, 'MiB/s').to.be.above(40);
  });

  it('puts ../../evil.txt in etr_traversal… and /etc/evil.txt in etr_absolute… exports', async () => {
    const traversal = readCentralDirectory((await exportAndDownload(suite.call, 'etr_traversal_1')).zip).map((m) => m.name);
    expect(traversal).to.include('../../evil.txt');
    const absolute = readCentralDirectory((await exportAndDownload(suite.call, 'etr_absolute_1')).zip).map((m) => m.name);
    expect(absolute).to.include('/etc/evil.txt');
  });

  it('puts a symlink member (unix mode 0o120777) in etr_symlink… exports', async () => {
    const { zip } = await exportAndDownload(suite.call, 'etr_symlink_1');
    const link = readCentralDirectory(zip).find((m) => fileType(m) === 0o120000);
    expect(link, 'a symlink member').to.not.equal(undefined);
    expect((link!.externalAttributes >>> 16) & 0o7777).to.equal(0o777);
    expect(extract(zip, link!).toString()).to.equal('/etc/passwd');
  });

  it('puts 20,000 tiny files in etr_manyfiles… exports', async () => {
    const members = readCentralDirectory((await exportAndDownload(suite.call, 'etr_manyfiles_1')).zip);
    expect(members.filter((m) => m.name.startsWith('attachments/many/'))).to.have.length(MANY_FILES_COUNT);
  });

  it('puts one entry of 2 GiB of zeros compressed to about 2 MB in etr_bomb… exports', async () => {
    const { zip } = await exportAndDownload(suite.call, 'etr_bomb_1');
    const bomb = readCentralDirectory(zip).find((m) => m.uncompressedSize === BOMB_UNCOMPRESSED_BYTES);
    expect(bomb, 'the 2 GiB member').to.not.equal(undefined);
    expect(bomb!.method).to.equal(8);
    expect(bomb!.compressedSize).to.be.below(3 * MiB);
    expect(zip.length).to.be.below(3 * MiB);
  });

  it('caches each generated ZIP once in zipDir', () => {
    const files = readdirSync(suite.sim.options.zipDir);
    expect(files.filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
    // The two identical etr_zip2 exports and the range/first etr_zip1 exports reused files.
    expect(files.length).to.be.below(suite.sim.state.exports.size);
    for (const f of files) expect(path.extname(f)).to.equal('.zip');
  });
});
