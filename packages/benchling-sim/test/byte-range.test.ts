import { expect } from 'chai';
import { byteRange, ifMatchFails } from '../src/byte-range.ts';

describe('byteRange', () => {
  it('reads the three forms of one range, clamped to the object', () => {
    expect(byteRange('bytes=0-9', 100)).to.deep.equal({ start: 0, end: 10 });
    expect(byteRange('bytes=90-200', 100)).to.deep.equal({ start: 90, end: 100 });
    expect(byteRange('bytes=40-', 100)).to.deep.equal({ start: 40, end: 100 });
    expect(byteRange('bytes=-10', 100)).to.deep.equal({ start: 90, end: 100 });
    expect(byteRange('bytes=-500', 100)).to.deep.equal({ start: 0, end: 100 });
  });

  it('ignores what does not parse or runs backwards, and refuses what starts past the end', () => {
    for (const h of [undefined, '', 'bytes=-', 'bytes=5-2', 'items=0-1', 'bytes=0-1,5-6'])
      expect(byteRange(h, 100), String(h)).to.equal(undefined);
    for (const [h, size] of [
      ['bytes=100-', 100],
      ['bytes=100-200', 100],
      ['bytes=-0', 100],
      ['bytes=0-0', 0],
    ] as const)
      expect(byteRange(h, size), `${h} of ${size}`).to.equal('unsatisfiable');
  });
});

describe('ifMatchFails', () => {
  it('passes no header, a star, the ETag itself or a list holding it', () => {
    for (const h of [undefined, '*', '"a"', '"b", "a"']) expect(ifMatchFails(h, '"a"'), String(h)).to.equal(false);
    expect(ifMatchFails('"b"', '"a"')).to.equal(true);
  });
});
