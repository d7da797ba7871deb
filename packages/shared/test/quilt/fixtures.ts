import type { ManifestEntry, PackageMeta } from '../../src/quilt/manifest.ts';

/*
 * Packages whose top hashes were computed once by an independent Python implementation of
 * quilt-format.md (python3 is not needed to run the tests):
 *
 *   import base64, hashlib, json
 *   def canon(x): return json.dumps(x, sort_keys=True, separators=(',', ':'))
 *   def top_hash(meta, entries):
 *       h = hashlib.sha256(); h.update(canon(meta).encode('utf-8'))
 *       for e in sorted(entries, key=lambda e: e['logical_key'].split('/')):
 *           h.update(canon({'hash': e['hash'], 'logical_key': e['logical_key'], 'meta': e['meta'], 'size': e['size']}).encode('utf-8'))
 *       return h.hexdigest()
 *   def chunked(seed): return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()
 *   top_hash({'message': None, 'version': 'v0'}, [])              # EMPTY_TOP_HASH
 *   meta_a = {'version': 'v0', 'message': 'Benchling v2.entry.updated.fields at 2026-01-02T03:04:05Z',
 *             'user_meta': {'benchling': {'entryId': 'etr_123', 'displayId': 'EXP00001234', 'name': 'Caf\u00e9 \U0001F600 notes',
 *                                         'score': 0.1, 'ratio': 1e-05, 'big': 1.5e16, 'tags': ['a', '\u00df'],
 *                                         'nested': {'z': 1, 'a': {'deep': -2.5e-07}}}}}
 *   entries_a = [('z', 0, chunked('z'), {}), ('a-c', 10, chunked('a-c'), {}),
 *                ('a/b', 20, chunked('a/b'), {'user_meta': {'k': 'v', 'n': 2.5}}),
 *                ('dir/sub/\u00fc.pdf', 12345678, chunked('u'), {}), ('\u65e5\u672c/\u30c7\u30fc\u30bf.csv', 3, chunked('jp'), {})]
 *              # each as {'logical_key', 'size', 'hash': {'type': 'sha2-256-chunked', 'value'}, 'meta'}
 *   meta_b = {'version': 'v0', 'message': None, 'user_meta': {},
 *             'workflow': {'config': 's3://bkt/.quilt/workflows/config.yml', 'id': None, 'schemas': {}}}
 *   entries_b = [('\U0001F600.txt', 1, sha256(b'1')), ('\ue000.txt', 2, sha256(b'2')),
 *                ('x/y', 3, sha256(b'3'), meta {'\u00e9': [1, 2, 3]})]
 *              # hash type 'SHA256', value hexdigest; meta {} unless given
 */
export const EMPTY_TOP_HASH = '2a5a67156ca9238c14d12042db51c5b52260fdd5511b61ea89b58929d6e1769b';
export const TOP_HASH_A = '10ad57c39cc0c16d53df9461250627ce92f3cf0ec6f9e85a47b4fe94b55469fa';
export const TOP_HASH_B = '5b252b1564f3d54c7ab739e9da7be13559cf46e0312d56574ed32ce39bc0fbcd';
/** Python: sorted(entries_a, key=lambda e: e['logical_key'].split('/')) */
export const TREE_ORDER_A = ['a/b', 'a-c', 'dir/sub/\u00fc.pdf', 'z', '\u65e5\u672c/\u30c7\u30fc\u30bf.csv'];
export const TREE_ORDER_B = ['x/y', '\ue000.txt', '\u{1F600}.txt'];

export const META_A: PackageMeta = {
  message: 'Benchling v2.entry.updated.fields at 2026-01-02T03:04:05Z',
  userMeta: {
    benchling: {
      entryId: 'etr_123',
      displayId: 'EXP00001234',
      name: 'Caf\u00e9 \u{1F600} notes',
      score: 0.1,
      ratio: 1e-5,
      big: 1.5e16,
      tags: ['a', '\u00df'],
      nested: { z: 1, a: { deep: -2.5e-7 } },
    },
  },
};

function chunkedEntry(logicalKey: string, size: number, value: string, meta: Record<string, unknown> = {}): ManifestEntry {
  return {
    logicalKey,
    physicalKey: { bucket: 'bkt', key: `benchling/EXP00001234/${logicalKey}` },
    size,
    hash: { type: 'sha2-256-chunked', value },
    meta,
  };
}

export const ENTRIES_A: ManifestEntry[] = [
  chunkedEntry('z', 0, 'WU5RmuSZMSspQzt92Kl/8Gje/LqXVbbV0A6ExSTWewY='),
  chunkedEntry('a-c', 10, 'f+ktjZt+G/KVbHQ6j6LjxzpXgNrf8Z9a+nqCNB6cJS4='),
  chunkedEntry('a/b', 20, 'wUzdwDP2S53qgOpnXPKAoBXmclFgkKViZ4EVPcaP6hE=', { user_meta: { k: 'v', n: 2.5 } }),
  chunkedEntry('dir/sub/\u00fc.pdf', 12345678, 'C/6TXnDDIcfKOvx1zg0MovmLVCLgCLsxwAxtfx8cCtY='),
  chunkedEntry('\u65e5\u672c/\u30c7\u30fc\u30bf.csv', 3, 'lzLIPj4D//3i7mWp2CbfjE3WI8J/uSuVL+YqAvByb4c='),
];

export const META_B: PackageMeta = {
  message: null,
  userMeta: {},
  workflow: { config: 's3://bkt/.quilt/workflows/config.yml', id: null, schemas: {} },
};

function sha256Entry(logicalKey: string, size: number, value: string, meta: Record<string, unknown> = {}): ManifestEntry {
  return {
    logicalKey,
    physicalKey: { bucket: 'bkt', key: logicalKey, versionId: `v${size}` },
    size,
    hash: { type: 'SHA256', value },
    meta,
  };
}

export const ENTRIES_B: ManifestEntry[] = [
  sha256Entry('\u{1F600}.txt', 1, '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b'),
  sha256Entry('\ue000.txt', 2, 'd4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35'),
  sha256Entry('x/y', 3, '4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce', { '\u00e9': [1, 2, 3] }),
];
