import { expect } from 'chai';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AwsClients, awsOptionsFromEnv, createAwsClients } from '../../src/aws.ts';
import { PermanentError, TransientError } from '../../src/errors.ts';
import { publishDirect, readLatest } from '../../src/quilt/direct-publish.ts';
import { type ManifestEntry, serializeManifest, topHash, treeOrder } from '../../src/quilt/manifest.ts';
import { latestPointerKey, manifestKey, timestampPointerKey } from '../../src/quilt/registry-layout.ts';
// @bp/local-stack depends on @bp/shared, so @bp/shared cannot list it; the real path is the same module the root hook stops.
import { isolatedEnv } from '../../../local-stack/src/testing.ts';
import { ENTRIES_A, META_A, TOP_HASH_A } from './fixtures.ts';

const PACKAGE = 'benchling/EXP00001234';
const NOW = new Date('2026-01-02T03:04:05.678Z');
const NOW_SECONDS = 1767323045;

interface Listed {
  key: string;
  etag: string;
  lastModified: string;
}

async function listAll(s3: S3Client, bucket: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, etag: o.ETag ?? '', lastModified: o.LastModified?.toISOString() ?? '' });
    token = page.NextContinuationToken;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString('utf-8');
}

describe('publishDirect against the local S3', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let aws: AwsClients;
  let bucket: string;
  let entries: ManifestEntry[];

  before(async () => {
    env = await isolatedEnv('quilt-direct');
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    bucket = env.PACKAGE_BUCKET!;
    entries = ENTRIES_A.map((e) => ({ ...e, physicalKey: { bucket, key: `${PACKAGE}/${e.logicalKey}` } }));
  });
  after(() => aws?.destroy());

  // Each test uses its own package name so the shared bucket's other packages do not interfere.
  const keysOf = async (pkg: string) =>
    (await listAll(aws.s3, bucket)).filter((o) => o.key.includes(`/${pkg}/`) || o.key.startsWith('.quilt/packages/'));

  it('writes the manifest and two pointers holding exactly the 64-hex top hash on a first publish', async () => {
    const before = await listAll(aws.s3, bucket);
    const res = await publishDirect({ s3: aws.s3 }, { bucket, packageName: PACKAGE, ...META_A, entries, now: NOW });

    expect(res.created).to.equal(true);
    expect(res.topHash).to.equal(TOP_HASH_A);
    expect(res.manifestKey).to.equal(`.quilt/packages/${TOP_HASH_A}`);
    expect(res.pointerKeys).to.deep.equal([
      `.quilt/named_packages/benchling/EXP00001234/${NOW_SECONDS}`,
      '.quilt/named_packages/benchling/EXP00001234/latest',
    ]);
    const added = (await listAll(aws.s3, bucket)).filter((o) => !before.some((b) => b.key === o.key)).map((o) => o.key);
    expect(added.sort()).to.deep.equal([res.manifestKey, ...res.pointerKeys].sort());
    for (const key of res.pointerKeys) expect(await readText(aws.s3, bucket, key)).to.equal(TOP_HASH_A);
    const manifest = await readText(aws.s3, bucket, res.manifestKey);
    expect(manifest).to.equal(serializeManifest(META_A, entries));
    expect(manifest.split('\n')[0]).to.match(
      /^\{"version":"v0","message":"Benchling v2\.entry\.updated\.fields at 2026-01-02T03:04:05Z","user_meta":\{/,
    );
  });

  it('reads back the latest revision it wrote', async () => {
    const latest = await readLatest(aws.s3, bucket, PACKAGE);
    expect(latest?.topHash).to.equal(TOP_HASH_A);
    expect(latest?.meta).to.deep.equal(META_A);
    expect(latest?.entries).to.deep.equal(treeOrder(entries));
    expect(await readLatest(aws.s3, bucket, 'benchling/never-published')).to.equal(undefined);
  });

  it('writes nothing when the same entries and user_meta are published again, even with a new message and time', async () => {
    const before = await listAll(aws.s3, bucket);
    const res = await publishDirect(
      { s3: aws.s3 },
      {
        bucket,
        packageName: PACKAGE,
        message: 'a later trigger',
        userMeta: META_A.userMeta,
        entries: [...entries].reverse(),
        now: new Date(NOW.getTime() + 3_600_000),
      },
    );
    expect(res).to.deep.equal({ topHash: TOP_HASH_A, created: false, latest: true, manifestKey: manifestKey(TOP_HASH_A), pointerKeys: [] });
    expect(await listAll(aws.s3, bucket)).to.deep.equal(before);
  });

  it('creates a new revision and moves latest when a file changes, keeping the old revision', async () => {
    const changed = entries.map((e) =>
      e.logicalKey === 'z'
        ? { ...e, size: 7, hash: { type: 'sha2-256-chunked' as const, value: 'f+ktjZt+G/KVbHQ6j6LjxzpXgNrf8Z9a+nqCNB6cJS4=' } }
        : e,
    );
    const later = new Date(NOW.getTime() + 60_000);
    const res = await publishDirect({ s3: aws.s3 }, { bucket, packageName: PACKAGE, ...META_A, entries: changed, now: later });

    expect(res.created).to.equal(true);
    expect(res.topHash).to.equal(topHash(META_A, changed)).and.not.equal(TOP_HASH_A);
    expect(await readText(aws.s3, bucket, latestPointerKey(PACKAGE))).to.equal(res.topHash);
    expect(await readText(aws.s3, bucket, timestampPointerKey(PACKAGE, NOW_SECONDS + 60))).to.equal(res.topHash);
    expect(await readText(aws.s3, bucket, timestampPointerKey(PACKAGE, NOW_SECONDS))).to.equal(TOP_HASH_A);
    expect(await readText(aws.s3, bucket, manifestKey(TOP_HASH_A))).to.equal(serializeManifest(META_A, entries));
  });

  it('never moves latest back in time: an older snapshot published late joins the history only', async () => {
    const pkg = 'benchling/EXP00009999';
    const own = entries.map((e) => ({ ...e, physicalKey: { bucket, key: `${pkg}/${e.logicalKey}` } }));
    const newer = await publishDirect(
      { s3: aws.s3 },
      { bucket, packageName: pkg, ...META_A, entries: own, now: new Date(NOW.getTime() + 120_000) },
    );
    // A run that fetched the entry earlier, and resumed its publish after the newer run finished.
    const older = own.map((e) =>
      e.logicalKey === 'z'
        ? { ...e, size: 9, hash: { type: 'sha2-256-chunked' as const, value: 'f+ktjZt+G/KVbHQ6j6LjxzpXgNrf8Z9a+nqCNB6cJS4=' } }
        : e,
    );
    const late = await publishDirect({ s3: aws.s3 }, { bucket, packageName: pkg, ...META_A, entries: older, now: NOW });

    expect(late).to.include({ created: true, latest: false });
    expect(late.pointerKeys).to.deep.equal([timestampPointerKey(pkg, NOW_SECONDS)]);
    expect(await readText(aws.s3, bucket, latestPointerKey(pkg))).to.equal(newer.topHash);
    expect(await readText(aws.s3, bucket, timestampPointerKey(pkg, NOW_SECONDS))).to.equal(late.topHash);
    expect(await readText(aws.s3, bucket, manifestKey(late.topHash))).to.equal(serializeManifest(META_A, older));
    expect((await readLatest(aws.s3, bucket, pkg))!.topHash).to.equal(newer.topHash);
  });

  it('creates a new revision when only the user_meta changes', async () => {
    const res = await publishDirect(
      { s3: aws.s3 },
      {
        bucket,
        packageName: PACKAGE,
        message: META_A.message,
        userMeta: { benchling: { entryId: 'etr_123', name: 'renamed' } },
        entries,
        now: new Date(NOW.getTime() + 120_000),
      },
    );
    expect(res.created).to.equal(true);
    expect((await readLatest(aws.s3, bucket, PACKAGE))?.meta.userMeta).to.deep.equal({
      benchling: { entryId: 'etr_123', name: 'renamed' },
    });
  });

  it('completes a revision whose publish crashed after the manifest was written', async () => {
    const pkg = 'crash/after-manifest';
    const meta = { message: 'm' };
    const hash = topHash(meta, entries);
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey(hash), Body: serializeManifest(meta, entries) }));
    expect(await readLatest(aws.s3, bucket, pkg)).to.equal(undefined);

    const res = await publishDirect({ s3: aws.s3 }, { bucket, packageName: pkg, ...meta, entries, now: NOW });
    expect(res.created).to.equal(true);
    expect(res.topHash).to.equal(hash);
    expect(await readText(aws.s3, bucket, latestPointerKey(pkg))).to.equal(hash);
  });

  it('reuses the timestamp pointer a crashed attempt wrote before latest, leaving one pointer per revision', async () => {
    const pkg = 'crash/after-stamp';
    const meta = { message: 'm', userMeta: { a: 1 } };
    const hash = topHash(meta, entries);
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey(hash), Body: serializeManifest(meta, entries) }));
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: timestampPointerKey(pkg, NOW_SECONDS), Body: hash }));

    const res = await publishDirect({ s3: aws.s3 }, { bucket, packageName: pkg, ...meta, entries, now: NOW });
    expect(res.pointerKeys).to.deep.equal([timestampPointerKey(pkg, NOW_SECONDS), latestPointerKey(pkg)]);
    const pointers = (await keysOf(pkg)).map((o) => o.key).filter((k) => k.startsWith('.quilt/named_packages/'));
    expect(pointers.sort()).to.deep.equal([timestampPointerKey(pkg, NOW_SECONDS), latestPointerKey(pkg)].sort());
  });

  it('gives a second revision within the same second the next second rather than overwrite the first pointer', async () => {
    const pkg = 'same/second';
    const first = await publishDirect({ s3: aws.s3 }, { bucket, packageName: pkg, message: null, entries: entries.slice(0, 2), now: NOW });
    const second = await publishDirect({ s3: aws.s3 }, { bucket, packageName: pkg, message: null, entries: entries.slice(0, 3), now: NOW });
    expect(second.created).to.equal(true);
    expect(await readText(aws.s3, bucket, timestampPointerKey(pkg, NOW_SECONDS))).to.equal(first.topHash);
    expect(await readText(aws.s3, bucket, timestampPointerKey(pkg, NOW_SECONDS + 1))).to.equal(second.topHash);
    expect(await readText(aws.s3, bucket, latestPointerKey(pkg))).to.equal(second.topHash);
  });

  it('rejects a bad package name or duplicate logical keys before writing anything', async () => {
    const before = await listAll(aws.s3, bucket);
    for (const [packageName, es] of [
      ['not a name', entries],
      ['dup/keys', [entries[0]!, entries[0]!]],
    ] as const) {
      let err: unknown;
      try {
        await publishDirect({ s3: aws.s3 }, { bucket, packageName, message: null, entries: es, now: NOW });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PermanentError);
    }
    expect(await listAll(aws.s3, bucket)).to.deep.equal(before);
  });

  it('fails with a permanent error when latest points to a manifest that does not exist', async () => {
    const pkg = 'broken/pointer';
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: latestPointerKey(pkg), Body: 'a'.repeat(64) }));
    let err: unknown;
    try {
      await readLatest(aws.s3, bucket, pkg);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PermanentError);
    expect((err as PermanentError).code).to.equal('QuiltManifestMissing');
  });

  it('reports a missing bucket as permanent and an unreachable S3 as transient', async () => {
    let missing: unknown;
    try {
      await publishDirect({ s3: aws.s3 }, { bucket: `${bucket}-absent`, packageName: PACKAGE, message: null, entries, now: NOW });
    } catch (e) {
      missing = e;
    }
    expect(missing).to.be.instanceOf(PermanentError);
    expect((missing as PermanentError).details.awsError).to.equal('NoSuchBucket');

    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    const down = createAwsClients(
      awsOptionsFromEnv({ ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }, { requestTimeoutMs: 2000, maxAttempts: 1 }),
    );
    let unreachable: unknown;
    try {
      await publishDirect({ s3: down.s3 }, { bucket, packageName: PACKAGE, message: null, entries, now: NOW });
    } catch (e) {
      unreachable = e;
    } finally {
      down.destroy();
    }
    expect(unreachable).to.be.instanceOf(TransientError);
  });
});
