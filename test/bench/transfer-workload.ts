/**
 * The transfer bench's workload and its check: an export from the simulator, its files extracted
 * to disk with their expected size and Quilt hash (computed here, from the ZIP, independently of
 * the worker), and a check of what each side stored in S3. A bench whose workload is not exactly
 * right measures nothing: every failed check is collected and the bench says INVALID.
 */
import { createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl-promise';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type ChunkedHash, ChunkedSha256Hasher } from '@bp/shared/quilt/hash';

/** A file of the export as it must arrive: path inside the package (NFC), bytes, hash. */
export interface ExpectedFile {
  size: number;
  hash: string;
}
export type Expected = Map<string, ExpectedFile>;

/** The presigned download URL of a fresh export of `entryId` (the simulator generates the ZIP on disk once, then caches it). */
export async function exportUrl(sim: string, entryId: string): Promise<string> {
  const tok = (await (
    await fetch(`${sim}/api/v2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    })
  ).json()) as { access_token: string };
  const auth = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
  const { taskId } = (await (
    await fetch(`${sim}/api/v2/exports`, { method: 'POST', headers: auth, body: JSON.stringify({ id: entryId, format: 'pdf' }) })
  ).json()) as { taskId: string };
  for (;;) {
    const t = (await (await fetch(`${sim}/api/v2/tasks/${taskId}`, { headers: auth })).json()) as {
      status: string;
      response?: { downloadURL: string };
    };
    if (t.status === 'SUCCEEDED') return t.response!.downloadURL;
    if (t.status === 'FAILED') throw new Error(`export of ${entryId} failed`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Downloads the ZIP to disk, extracts its files into `dir` and returns each file's expected size and hash. */
export async function extractExpected(url: string, dir: string): Promise<{ expected: Expected; zipBytes: number; largestFile: number }> {
  const zipPath = `${dir}.zip`;
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`export download: HTTP ${res.status}`);
  await pipeline(res.body as unknown as NodeJS.ReadableStream, createWriteStream(zipPath));
  const zip = await yauzl.open(zipPath);
  const expected: Expected = new Map();
  let largestFile = 0;
  try {
    for await (const e of zip) {
      if (e.filename.endsWith('/')) continue;
      const out = path.join(dir, e.filename);
      mkdirSync(path.dirname(out), { recursive: true });
      const hasher = new ChunkedSha256Hasher(e.uncompressedSize);
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hasher.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(await e.openReadStream(), hashing, createWriteStream(out));
      expected.set(e.filename.normalize('NFC'), { size: e.uncompressedSize, hash: hasher.digest().value });
      largestFile = Math.max(largestFile, e.uncompressedSize);
    }
  } finally {
    await zip.close();
  }
  const zipBytes = statSync(zipPath).size;
  rmSync(zipPath);
  return { expected, zipBytes, largestFile };
}

/** Differences between what a side reported (path → size, hash) and what was expected; empty when exact. */
export function compareManifest(expected: Expected, got: Array<{ logicalKey: string; size: number; hash?: ChunkedHash }>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const f of got) {
    const want = expected.get(f.logicalKey);
    seen.add(f.logicalKey);
    if (!want) problems.push(`unexpected file ${f.logicalKey}`);
    else if (want.size !== f.size) problems.push(`${f.logicalKey}: ${f.size} bytes, expected ${want.size}`);
    else if (f.hash && f.hash.value !== want.hash) problems.push(`${f.logicalKey}: hash ${f.hash.value}, expected ${want.hash}`);
  }
  for (const k of expected.keys()) if (!seen.has(k)) problems.push(`missing file ${k}`);
  return problems;
}

/**
 * Lists what is stored under `prefix` and compares it with `expected`: every key and size, and,
 * with `hashBytes`, the Quilt hash of the bytes read back from S3.
 */
export async function checkStored(s3: S3Client, bucket: string, prefix: string, expected: Expected, hashBytes: boolean): Promise<string[]> {
  const got: Array<{ logicalKey: string; size: number; hash?: ChunkedHash }> = [];
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const o of page.Contents ?? []) {
      const logicalKey = o.Key!.slice(prefix.length).normalize('NFC');
      const entry: { logicalKey: string; size: number; hash?: ChunkedHash } = { logicalKey, size: o.Size ?? -1 };
      if (hashBytes) {
        const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body as NodeJS.ReadableStream;
        const hasher = new ChunkedSha256Hasher(entry.size);
        for await (const chunk of body) hasher.update(chunk as Buffer);
        entry.hash = hasher.digest();
      }
      got.push(entry);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  }
  return compareManifest(expected, got).map((p) => `s3://${bucket}/${prefix}: ${p}`);
}

/** Deletes everything under `prefix`: the S3 emulator keeps objects in memory, and a 4 GB export stored six times would not fit. */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}
