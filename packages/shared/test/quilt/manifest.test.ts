import { expect } from 'chai';
import { PermanentError } from '../../src/errors.ts';
import {
  type ManifestEntry,
  MAX_MANIFEST_LINE_BYTES,
  parseManifest,
  serializeManifest,
  topHash,
  treeOrder,
} from '../../src/quilt/manifest.ts';
import { parsePackageName } from '../../src/quilt/package-name.ts';
import { EMPTY_TOP_HASH, ENTRIES_A, ENTRIES_B, META_A, META_B, TOP_HASH_A, TOP_HASH_B, TREE_ORDER_A, TREE_ORDER_B } from './fixtures.ts';

const HASH = 'WU5RmuSZMSspQzt92Kl/8Gje/LqXVbbV0A6ExSTWewY=';
const entry = (logicalKey: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  logicalKey,
  physicalKey: { bucket: 'bkt', key: `p/${logicalKey}` },
  size: 1,
  hash: { type: 'sha2-256-chunked', value: HASH },
  meta: {},
  ...extra,
});

function thrown(fn: () => unknown): PermanentError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PermanentError);
    return err as PermanentError;
  }
  throw new Error('expected a PermanentError');
}

describe('topHash', () => {
  it('gives the spec vector for the empty package with no message and no user_meta', () => {
    expect(topHash({ message: null }, [])).to.equal(EMPTY_TOP_HASH);
  });

  it('matches an independent Python implementation for non-ASCII keys, nested dirs and float user_meta', () => {
    expect(topHash(META_A, ENTRIES_A)).to.equal(TOP_HASH_A);
  });

  it('matches Python for astral logical keys, legacy SHA256 hashes, empty user_meta and a workflow', () => {
    expect(topHash(META_B, ENTRIES_B)).to.equal(TOP_HASH_B);
  });

  it('does not depend on the order entries are given in, nor on physical keys', () => {
    const moved = [...ENTRIES_A].reverse().map((e) => ({ ...e, physicalKey: { bucket: 'other', key: 'x', versionId: 'v9' } }));
    expect(topHash(META_A, moved)).to.equal(TOP_HASH_A);
  });

  it('changes with the message, the user_meta, an entry meta or a size', () => {
    const hashes = new Set([
      topHash(META_A, ENTRIES_A),
      topHash({ ...META_A, message: 'other' }, ENTRIES_A),
      topHash({ ...META_A, userMeta: {} }, ENTRIES_A),
      topHash(
        META_A,
        ENTRIES_A.map((e, i) => (i === 0 ? { ...e, meta: { x: 1 } } : e)),
      ),
      topHash(
        META_A,
        ENTRIES_A.map((e, i) => (i === 0 ? { ...e, size: 1 } : e)),
      ),
    ]);
    expect(hashes.size).to.equal(5);
  });
});

describe('treeOrder', () => {
  it('sorts segment by segment, so a/b comes before a-c, as Python sorts split keys', () => {
    expect(treeOrder(ENTRIES_A).map((e) => e.logicalKey)).to.deep.equal(TREE_ORDER_A);
  });

  it('orders by code point, putting an astral file name after a U+E000 one', () => {
    expect(treeOrder(ENTRIES_B).map((e) => e.logicalKey)).to.deep.equal(TREE_ORDER_B);
  });

  it('puts a directory before a longer sibling name that shares its prefix', () => {
    const keys = ['ab', 'a/z', 'a.txt', 'a/b/c', 'a/b'].map((k) => ({ logicalKey: k }));
    // 'a' < 'a.txt' < 'ab' at the first segment; inside 'a', 'b' (shorter path 'a/b') < 'b/c' < 'z'.
    expect(treeOrder(keys).map((e) => e.logicalKey)).to.deep.equal(['a/b', 'a/b/c', 'a/z', 'a.txt', 'ab']);
  });
});

describe('serializeManifest', () => {
  it('writes the meta line first, then one line per entry in tree order, newline-terminated', () => {
    const text = serializeManifest(META_B, ENTRIES_B);
    const lines = text.split('\n');
    expect(lines).to.have.length(5);
    expect(lines[4]).to.equal('');
    expect(lines[0]).to.equal(
      '{"version":"v0","message":null,"user_meta":{},"workflow":{"config":"s3://bkt/.quilt/workflows/config.yml","id":null,"schemas":{}}}',
    );
    expect(lines[1]).to.equal(
      '{"logical_key":"x/y","physical_keys":["s3://bkt/x/y?versionId=v3"],"size":3,' +
        '"hash":{"type":"SHA256","value":"4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce"},"meta":{"é":[1,2,3]}}',
    );
    expect(lines.slice(1, 4).map((l) => JSON.parse(l).logical_key)).to.deep.equal(TREE_ORDER_B);
  });

  it('writes message null and no user_meta key for a package without them', () => {
    expect(serializeManifest({ message: null }, [])).to.equal('{"version":"v0","message":null}\n');
  });

  it('writes floats so that a Python reader re-derives the same top hash', () => {
    const first = serializeManifest(META_A, ENTRIES_A).split('\n')[0]!;
    expect(first).to.contain('"score":0.1,"ratio":1e-05,"big":1.5e+16');
  });

  it('rejects duplicate logical keys', () => {
    const err = thrown(() => serializeManifest({ message: null }, [entry('a/b'), entry('c'), entry('a/b')]));
    expect(err.code).to.equal('QuiltDuplicateKey');
    expect(thrown(() => topHash({ message: null }, [entry('x'), entry('x')])).code).to.equal('QuiltDuplicateKey');
  });

  it('rejects a key that is both a file and a directory, and empty or dot segments', () => {
    expect(thrown(() => serializeManifest({ message: null }, [entry('a/b'), entry('a')])).code).to.equal('QuiltKeyConflict');
    for (const bad of ['', '/abs', 'dir/', 'a//b', 'a/../b', './a']) {
      expect(thrown(() => serializeManifest({ message: null }, [entry(bad)])).code, bad).to.equal('QuiltBadEntry');
    }
  });

  it('rejects malformed hashes and sizes before anything is written', () => {
    expect(thrown(() => topHash({ message: null }, [entry('a', { hash: { type: 'sha2-256-chunked', value: 'abc' } })])).code).to.equal(
      'QuiltBadEntry',
    );
    expect(thrown(() => topHash({ message: null }, [entry('a', { size: -1 })])).code).to.equal('QuiltBadEntry');
    expect(thrown(() => topHash({ message: null }, [entry('a', { size: 1.5 })])).code).to.equal('QuiltBadEntry');
  });

  it('rejects a line of 1,000,000 bytes or more, counting UTF-8 bytes', () => {
    // 'é' is 2 bytes: a meta just under the limit in characters is over it in bytes.
    const big = { note: 'é'.repeat(MAX_MANIFEST_LINE_BYTES / 2) };
    const err = thrown(() => serializeManifest({ message: null }, [entry('a', { meta: big })]));
    expect(err.code).to.equal('QuiltManifestLineTooLong');
    expect(err.details.line).to.equal(2);
    const fits = { note: 'x'.repeat(MAX_MANIFEST_LINE_BYTES - 300) };
    expect(() => serializeManifest({ message: null }, [entry('a', { meta: fits })])).not.to.throw();
  });
});

describe('parseManifest', () => {
  it('round-trips what serializeManifest wrote, including version ids and non-ASCII keys', () => {
    for (const [meta, entries] of [
      [META_A, ENTRIES_A],
      [META_B, ENTRIES_B],
    ] as const) {
      const parsed = parseManifest(serializeManifest(meta, entries));
      expect(parsed.meta).to.deep.equal(meta);
      expect(parsed.entries).to.deep.equal(treeOrder(entries));
      expect(topHash(parsed.meta, parsed.entries)).to.equal(topHash(meta, entries));
    }
  });

  it('reads a quilt3-style manifest with spaced JSON, percent-encoded keys and a directory-meta line', () => {
    const text = [
      '{"version": "v0", "message": "hello", "user_meta": {"a": 1}}',
      '{"logical_key": "dir/", "meta": {"note": "directory"}}',
      '{"logical_key": "dir/a b.txt", "physical_keys": ' +
        '["s3://bkt/p/a%20b.txt?versionId=x%2By"], "size": 5, "hash": {"type": "SHA256", ' +
        '"value": "ab"}, "meta": {}}',
      '',
    ].join('\r\n');
    const parsed = parseManifest(text);
    expect(parsed.meta).to.deep.equal({ message: 'hello', userMeta: { a: 1 } });
    expect(parsed.entries).to.deep.equal([
      {
        logicalKey: 'dir/a b.txt',
        physicalKey: { bucket: 'bkt', key: 'p/a b.txt', versionId: 'x+y' },
        size: 5,
        hash: { type: 'SHA256', value: 'ab' },
        meta: {},
      },
    ]);
  });

  it('rejects duplicate logical keys, missing fields, foreign query parameters and a bad first line', () => {
    const head = '{"version":"v0","message":null}';
    const line = (o: Record<string, unknown>) =>
      JSON.stringify({ logical_key: 'a', physical_keys: ['s3://b/k'], size: 1, hash: { type: 'SHA256', value: 'ab' }, meta: {}, ...o });
    const cases = [
      [head, line({}), line({})],
      [head, line({ meta: undefined })],
      [head, line({ size: '1' })],
      [head, line({ hash: { type: 'MD5', value: 'x' } })],
      [head, line({ physical_keys: ['s3://b/k?partNumber=1'] })],
      [head, line({ physical_keys: ['file:///tmp/k'] })],
      ['{"version":"v1","message":null}'],
      ['not json'],
      [''],
    ];
    for (const lines of cases) {
      expect(thrown(() => parseManifest(lines.join('\n'))).code, lines.join(' | ')).to.equal('QuiltBadManifest');
    }
  });
});

describe('parsePackageName', () => {
  it('accepts namespace/name of word characters and dashes and splits it', () => {
    expect(parsePackageName('benchling/EXP00001234')).to.deep.equal({ namespace: 'benchling', name: 'EXP00001234' });
    expect(parsePackageName('my-team_1/x-y_z')).to.deep.equal({ namespace: 'my-team_1', name: 'x-y_z' });
  });

  it('rejects anything else', () => {
    for (const bad of ['benchling', 'a/b/c', '/b', 'a/', 'a b/c', 'a/b.c', '../x', 'a/b\n']) {
      expect(thrown(() => parsePackageName(bad)).code, JSON.stringify(bad)).to.equal('QuiltBadPackageName');
    }
  });
});
