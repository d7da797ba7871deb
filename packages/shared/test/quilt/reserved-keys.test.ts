import { expect } from 'chai';
import { ENTRY_METADATA_KEYS, exportLogicalKey, RESERVED_METADATA_KEYS, RUN_METADATA_KEYS } from '../../src/quilt/reserved-keys.ts';

describe('reserved metadata names and where an export file named like one goes', () => {
  it('lists every name the entry and run packages write themselves, in one place', () => {
    expect([...RESERVED_METADATA_KEYS].sort()).to.deep.equal([
      'README.md',
      'entities.json',
      'entry.json',
      'input.json',
      'qc.json',
      'results.json',
      'run.json',
      'samples.json',
    ]);
    expect(ENTRY_METADATA_KEYS.readme).to.equal('README.md');
    expect(RUN_METADATA_KEYS.run).to.equal('run.json');
  });

  it('renames a root file or folder named like a reserved file, keeping its case, and nothing else', () => {
    expect(exportLogicalKey('README.md')).to.equal('README.export.md');
    expect(exportLogicalKey('readme.MD')).to.equal('readme.export.MD');
    expect(exportLogicalKey('entry.json')).to.equal('entry.export.json');
    expect(exportLogicalKey('samples.json')).to.equal('samples.export.json');
    expect(exportLogicalKey('entry.json/inner.txt')).to.equal('entry.export.json/inner.txt');
    expect(exportLogicalKey('README.export.md')).to.equal('README.export.export.md');
    for (const kept of [
      'attachments/README.md',
      'report.pdf',
      'README.txt',
      'READMEx.md',
      'entry.jsonl',
      'README.exported.md',
      'my-entry.json',
    ]) {
      expect(exportLogicalKey(kept), kept).to.equal(kept);
    }
  });

  it('is injective and never gives a reserved name, in any case', () => {
    const inputs = [
      'README.md',
      'Readme.md',
      'README.export.md',
      'README.EXPORT.md',
      'README.export.export.md',
      'README.md/a',
      'README.export.md/a',
      'entry.json',
      'run.json',
      'x.md',
      'a/README.md',
    ];
    const out = inputs.map(exportLogicalKey);
    expect(new Set(out).size).to.equal(inputs.length);
    const reservedLower = new Set(RESERVED_METADATA_KEYS.map((k) => k.toLowerCase()));
    for (const o of out) expect(reservedLower.has(o.split('/')[0]!.toLowerCase()), o).to.equal(false);
  });
});
