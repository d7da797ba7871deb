import { expect } from 'chai';
import { PermanentError } from '../../src/errors.ts';
import { parsePhysicalKeyUrl, physicalKeyUrl } from '../../src/quilt/physical-key.ts';

/*
 * Expected URLs made once with quilt3's own formula (python3 not needed at test time):
 *
 *   from urllib.parse import quote, urlencode, urlunparse
 *   def pk(bucket, key, version=None):
 *       params = {} if version is None else {'versionId': version}
 *       return urlunparse(('s3', bucket, quote(key), None, urlencode(params), None))
 */
const PYTHON_VECTORS: [{ bucket: string; key: string; versionId?: string }, string][] = [
  [{ bucket: 'bkt', key: 'benchling/EXP1/a b+c.pdf' }, 's3://bkt/benchling/EXP1/a%20b%2Bc.pdf'],
  [
    { bucket: 'bkt', key: "benchling/EXP1/caf\u00e9/\u{1F600} ~_.-!*'()%?#&=;,:@$.txt" },
    's3://bkt/benchling/EXP1/caf%C3%A9/%F0%9F%98%80%20~_.-%21%2A%27%28%29%25%3F%23%26%3D%3B%2C%3A%40%24.txt',
  ],
  [{ bucket: 'bkt', key: 'dir/file.pdf', versionId: 'Abc.12/+ x=' }, 's3://bkt/dir/file.pdf?versionId=Abc.12%2F%2B+x%3D'],
];

describe('physicalKeyUrl', () => {
  PYTHON_VECTORS.forEach(([pk, url]) => {
    it(`quotes like Python's urllib: ${pk.key}${pk.versionId ? ` @ ${pk.versionId}` : ''}`, () => {
      expect(physicalKeyUrl(pk)).to.equal(url);
    });
    it(`parses ${url} back to the same key`, () => {
      expect(parsePhysicalKeyUrl(url)).to.deep.equal(pk);
    });
  });

  it('rejects keys a reader would resolve to another object', () => {
    for (const key of ['', '/leading-slash', 'lone\ud800surrogate']) {
      expect(() => physicalKeyUrl({ bucket: 'bkt', key })).to.throw(PermanentError);
    }
    expect(() => physicalKeyUrl({ bucket: 'a/b', key: 'k' })).to.throw(PermanentError);
  });
});
