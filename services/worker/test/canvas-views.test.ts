import { expect } from 'chai';
import MarkdownIt from 'markdown-it';
import type { ManifestEntry } from '@bp/shared/quilt/index';
import { parseNav } from '../src/canvas/buttons.ts';
import { fileBrowser, listFolder, parentDir } from '../src/canvas/file-browser.ts';
import { entryRecordLinkedRuns } from '../src/canvas/linked-runs.ts';
import { escapeMarkdown, humanSize, link } from '../src/canvas/markdown.ts';
import { plainReason } from '../src/canvas/failure.ts';
import { MAX_DATA_BYTES, parseViewState, serializeViewState } from '../src/canvas/view-state.ts';

/** Pure pieces of the canvas views (no I/O): escaping, paging, state in `data`, button ids. */
describe('canvas views (pure logic)', () => {
  const md = new MarkdownIt({ linkify: true });

  it('escapes outside text so no link, image, emphasis, HTML or line break survives, even with linkify', () => {
    const hostile =
      'attachments/[Session expired - sign in again](https://evil.example/login)/../x.pdf\n# <img src=x ' +
      'onerror=alert(1)> **b** ![i](https://evil.example/i.png) www.evil.example |cell|';
    const html = md.renderInline(escapeMarkdown(hostile));
    expect(html).to.not.match(/<a |<img|<strong>|<em>|<h1/);
    expect(html).to.include('[Session expired - sign in again](https://evil.example/login)');
    expect(escapeMarkdown('a\u202Efdp.exe')).to.equal('a' + 'fdp\\.exe');
    // A link label from outside is escaped; the URL we built keeps its parentheses encoded.
    expect(md.renderInline(link('x](https://evil.example) [y', 'https://cat.example/b/p/a (1).pdf'))).to.equal(
      '<a href="https://cat.example/b/p/a%20%281%29.pdf">x](https://evil.example) [y</a>',
    );
  });

  it('never shows the internal message of a failure: only a plain reason chosen by its class', () => {
    expect(plainReason({ class: 'ZipTraversal' })).to.match(/cannot be packaged safely/);
    expect(plainReason({ class: 'ExportFailed' })).to.equal('Benchling could not export this entry.');
    expect(plainReason({ class: 'BenchlingRateLimited', retryable: true })).to.match(/retried/);
    expect(plainReason({ class: 'SomethingNew' })).to.equal('Something went wrong while packaging.');
  });

  const entry = (logicalKey: string, size = 1000): ManifestEntry => ({
    logicalKey,
    physicalKey: { bucket: 'b', key: `p/${logicalKey}` },
    size,
    hash: { type: 'SHA256', value: '0'.repeat(64) },
    meta: {},
  });

  it('lists a folder: sub-folders first with their totals, then files, and pages it 15 at a time', () => {
    const entries = [
      entry('README.md'),
      entry('a/x.csv', 10),
      entry('a/b/y.csv', 20),
      entry('z.pdf'),
      ...Array.from({ length: 57 }, (_, i) => entry(`many/f${String(i).padStart(2, '0')}.txt`)),
    ];
    expect(listFolder(entries, '').map((l) => l.name)).to.deep.equal(['a', 'many', 'README.md', 'z.pdf']);
    expect(listFolder(entries, 'a/')[0]).to.deep.include({ kind: 'dir', name: 'b', files: 1, bytes: 20 });
    const pages = [1, 2, 3, 4, 5].map((page) =>
      fileBrowser({ packageName: 'p/q', entries, dir: 'many/', page, fileLink: () => 'https://x' }),
    );
    const rows = pages.map((p) => ((p.blocks[0] as { value: string }).value.match(/^\| \[/gm) ?? []).length);
    expect(rows).to.deep.equal([15, 15, 15, 12, 12]); // a page past the end shows the last one
    expect((pages[1]!.blocks[0] as { value: string }).value).to.include('16–30 of 57');
    expect(JSON.parse(pages[4]!.data)).to.deep.include({ page: 4 });
    expect(parentDir('a/b/')).to.equal('a/');
    expect(parentDir('a/')).to.equal('');
  });

  it('keeps the page state in data under 5 KB, dropping Open buttons whose folder names do not fit', () => {
    const names = Array.from({ length: 15 }, (_, i) => `${'d'.repeat(400)}${i}`);
    const { data, keptDirs } = serializeViewState({ v: 1, view: 'files', dir: '', page: 1, dirs: names });
    expect(Buffer.byteLength(data)).to.be.at.most(MAX_DATA_BYTES);
    expect(keptDirs).to.be.within(1, 14);
    expect(parseViewState(data)).to.deep.include({ view: 'files', page: 1 });
    expect(parseViewState('not json')).to.deep.equal({ v: 1, view: 'main' });
    expect(parseViewState('{"v":1,"view":"files","page":-3,"dirs":[1]}')).to.deep.equal({ v: 1, view: 'files' });
  });

  it('reads button ids it renders and nothing else', () => {
    expect(parseNav('nav:files')).to.deep.equal({ to: 'files' });
    expect(parseNav('nav:files:3')).to.deep.equal({ to: 'files', page: 3 });
    expect(parseNav('nav:dir:0')).to.deep.equal({ to: 'dir', index: 0 });
    for (const bad of ['nav:files:0', 'nav:files:x', 'nav:dir:-1', 'nav:main:1', 'nav:rm', 'update-package'])
      expect(parseNav(bad), bad).to.equal(undefined);
  });

  it('reads linked runs leniently from the entry record, newest first', () => {
    const runs = entryRecordLinkedRuns.linkedRuns({
      linkedRuns: [
        { packageName: 'a', linkedAt: '2026-01-01' },
        { nope: 1 },
        { package: 'b', publishedAt: '2026-03-01', qc: { state: 'PASSED' } },
      ],
    });
    expect(runs).to.deep.equal([
      { packageName: 'b', at: '2026-03-01', qcState: 'PASSED' },
      { packageName: 'a', at: '2026-01-01' },
    ]);
    expect(entryRecordLinkedRuns.linkedRuns(undefined)).to.deep.equal([]);
    expect(humanSize(999)).to.equal('999 B');
    expect(humanSize(13_700)).to.equal('13.7 kB');
  });
});
