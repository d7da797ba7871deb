import { expect } from 'chai';
import { PermanentError } from '@bp/shared';
import { sanitizeEntryPath } from '../../src/transfer/entry-path.ts';

describe('ZIP entry path sanitising', () => {
  const files: Array<[name: string, logicalKey: string]> = [
    ['report.pdf', 'report.pdf'],
    ['a/b/c.txt', 'a/b/c.txt'],
    ['./a//b/./c.txt', 'a/b/c.txt'],
    ['a\\b\\c.txt', 'a/b/c.txt'],
    ['...', '...'],
    ['a/..b/c..', 'a/..b/c..'],
    ['Cafe\u0301.txt', 'Caf\u00e9.txt'],
    ['dir:with:colons/x', 'dir:with:colons/x'],
  ];
  for (const [name, logicalKey] of files) {
    it(`maps ${JSON.stringify(name)} to the logical key ${JSON.stringify(logicalKey)}`, () => {
      expect(sanitizeEntryPath(name)).to.deep.equal({ kind: 'file', logicalKey });
    });
  }

  it('recognises directory entries by their trailing separator', () => {
    expect(sanitizeEntryPath('a/b/')).to.deep.equal({ kind: 'directory' });
    expect(sanitizeEntryPath('a\\b\\')).to.deep.equal({ kind: 'directory' });
  });

  const refused: Array<[name: string, code: string]> = [
    ['..', 'ZipTraversal'],
    ['../x', 'ZipTraversal'],
    ['a/../x', 'ZipTraversal'],
    ['a/..', 'ZipTraversal'],
    ['a\\..\\..\\x', 'ZipTraversal'],
    ['/etc/passwd', 'ZipAbsolutePath'],
    ['\\windows\\x', 'ZipAbsolutePath'],
    ['\\\\host\\share\\x', 'ZipAbsolutePath'],
    ['C:\\x', 'ZipAbsolutePath'],
    ['c:x', 'ZipAbsolutePath'],
    ['a\u0000b', 'ZipBadPath'],
    ['a\nb', 'ZipBadPath'],
    ['invoice\u202Efdp.exe', 'ZipBadPath'],
    ['scan\u2067gpj.exe', 'ZipBadPath'],
    ['r\u200Fm.txt', 'ZipBadPath'],
    ['nel\u0085.txt', 'ZipBadPath'],
    ['.', 'ZipBadPath'],
    ['', 'ZipBadPath'],
  ];
  for (const [name, code] of refused) {
    it(`refuses ${JSON.stringify(name)} with ${code}, naming the entry`, () => {
      let err: unknown;
      try {
        sanitizeEntryPath(name);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PermanentError);
      expect((err as PermanentError).code).to.equal(code);
      expect((err as PermanentError).details.entry).to.equal(name);
    });
  }
});
