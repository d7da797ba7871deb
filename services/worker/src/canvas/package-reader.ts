import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { isTopHash, type LatestRevision, manifestKey, namedPackagePrefix, parseManifest, readLatest } from '@bp/shared/quilt/index';
import { getTextObject } from '@bp/shared/quilt/s3-text';

/** One revision of a package as the versions view shows it. */
export interface Revision {
  topHash: string;
  /** ISO time of the revision's timestamp pointer. */
  at: string;
  /** The commit message (it names what triggered the revision). */
  message: string | null;
  fileCount: number;
  totalBytes: number;
  /** Files added, removed or changed since the revision before it; undefined for the oldest one. */
  changed?: { added: number; removed: number; modified: number };
}

/**
 * Reads packages straight from the registry in S3 (the manifest is the truth, no copy is kept),
 * so every worker answers a click from the same state.
 */
export class PackageReader {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  latest(packageName: string): Promise<LatestRevision | undefined> {
    return readLatest(this.s3, this.bucket, packageName);
  }

  /** The last `n` revisions, newest first, each compared with the one before it. */
  async revisions(packageName: string, n: number): Promise<Revision[]> {
    const prefix = namedPackagePrefix(packageName);
    const stamps: number[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const tail = o.Key!.slice(prefix.length);
        if (/^\d+$/.test(tail)) stamps.push(Number(tail));
      }
      token = page.NextContinuationToken;
    } while (token);
    // One more than shown, to say what changed in the oldest one shown.
    const wanted = stamps.sort((a, b) => b - a).slice(0, n + 1);
    const read = await Promise.all(
      wanted.map(async (stamp) => {
        const hash = (await getTextObject(this.s3, this.bucket, `${prefix}${stamp}`))?.trim();
        if (!hash || !isTopHash(hash)) return undefined;
        const text = await getTextObject(this.s3, this.bucket, manifestKey(hash));
        if (text === undefined) return undefined;
        return { stamp, hash, ...parseManifest(text) };
      }),
    );
    const found = read.filter((r) => r !== undefined);
    return found.slice(0, n).map((r, i) => {
      const before = found[i + 1];
      const rev: Revision = {
        topHash: r.hash,
        at: new Date(r.stamp * 1000).toISOString(),
        message: r.meta.message,
        fileCount: r.entries.length,
        totalBytes: r.entries.reduce((sum, e) => sum + e.size, 0),
      };
      if (before) {
        const old = new Map(before.entries.map((e) => [e.logicalKey, e.hash.value]));
        const now = new Set(r.entries.map((e) => e.logicalKey));
        rev.changed = {
          added: r.entries.filter((e) => !old.has(e.logicalKey)).length,
          removed: [...old.keys()].filter((k) => !now.has(k)).length,
          modified: r.entries.filter((e) => old.has(e.logicalKey) && old.get(e.logicalKey) !== e.hash.value).length,
        };
      }
      return rev;
    });
  }

  /** A JSON file of the package (e.g. `entry.json`), or undefined when absent or unreadable. */
  async readJson(revision: LatestRevision, logicalKey: string): Promise<Record<string, unknown> | undefined> {
    const e = revision.entries.find((x) => x.logicalKey === logicalKey);
    if (!e) return undefined;
    const { bucket, key, versionId } = e.physicalKey;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
      const v = JSON.parse((await res.Body?.transformToString('utf-8')) ?? '') as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
}
