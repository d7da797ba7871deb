import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { canonicalJson } from './canonical-json.ts';
import { type ManifestEntry, type PackageMeta, parseManifest, serializeManifest, topHash as computeTopHash } from './manifest.ts';
import { parsePackageName } from './package-name.ts';
import { isTopHash, latestPointerKey, manifestKey, namedPackagePrefix, timestampPointerKey } from './registry-layout.ts';
import { getListedTextObject, getTextObject, putTextObject } from './s3-text.ts';

export interface DirectPublishDeps {
  s3: S3Client;
  /** Receives one line per revision written. Default: silent. */
  logger?: Pick<Logger, 'info'>;
}

export interface DirectPublishOptions {
  /** Registry bucket; the manifest and pointers go under its `.quilt/`. */
  bucket: string;
  /** `namespace/name`, e.g. `benchling/EXP00001234`. */
  packageName: string;
  /** Commit message, `null` for none. Part of the top hash but not of the "unchanged" comparison. */
  message: string | null;
  /** Package metadata (`user_meta`). Default: none (left out of the manifest). */
  userMeta?: object;
  /** Quilt workflow record. Default: none. */
  workflow?: object;
  /** The revision's files, in any order. */
  entries: readonly ManifestEntry[];
  /** Revision time; names the timestamp pointer. Pass a checkpointed time so a retry reuses the same pointer. */
  now: Date;
}

export interface DirectPublishResult {
  /** The revision published: the new one, or the existing `latest` when content was unchanged. */
  topHash: string;
  /** False when `latest` already had the same entries and user_meta, so nothing was written. */
  created: boolean;
  /**
   * False when a revision with a later time was already published: this one joins the history
   * under its own timestamp, and `latest` stays on the later one.
   */
  latest: boolean;
  manifestKey: string;
  /** Pointer keys this call wrote or found already written (timestamp, then `latest`); empty when unchanged. */
  pointerKeys: string[];
}

/** A revision as read back from the registry. */
export interface LatestRevision {
  topHash: string;
  meta: PackageMeta;
  entries: ManifestEntry[];
}

// How far a timestamp pointer may move past `now` when that second already names another revision.
const MAX_POINTER_SECONDS_AHEAD = 60;

/**
 * Publishes a revision as native Quilt objects: manifest, then timestamp pointer, then `latest`
 * last, so readers never see a pointer to a missing manifest. Every write is idempotent, so a
 * rerun after a crash between writes completes the same revision. When `latest` already holds
 * the same content (message aside), nothing is written. `latest` never moves back in time: a
 * revision older than one already published is written to the history only.
 */
export async function publishDirect(deps: DirectPublishDeps, o: DirectPublishOptions): Promise<DirectPublishResult> {
  parsePackageName(o.packageName);
  const meta: PackageMeta = {
    message: o.message,
    ...(o.userMeta === undefined ? {} : { userMeta: o.userMeta }),
    ...(o.workflow === undefined ? {} : { workflow: o.workflow }),
  };
  // Both validate entries and line sizes before anything is written.
  const hash = computeTopHash(meta, o.entries);
  const manifest = serializeManifest(meta, o.entries);

  const latest = await readLatest(deps.s3, o.bucket, o.packageName);
  if (latest && (latest.topHash === hash || sameContent(latest, meta, o.entries))) {
    deps.logger?.info('quilt package unchanged: no new revision', { packageName: o.packageName, topHash: latest.topHash });
    return { topHash: latest.topHash, created: false, latest: true, manifestKey: manifestKey(latest.topHash), pointerKeys: [] };
  }

  const key = manifestKey(hash);
  await putTextObject(deps.s3, o.bucket, key, manifest, 'application/jsonl; charset=utf-8');
  const { key: stampKey, seconds: stampSeconds } = await writeTimestampPointer(
    deps.s3,
    o.bucket,
    o.packageName,
    Math.floor(o.now.getTime() / 1000),
    hash,
  );
  // A run that resumes after a later one has published (a worker died mid-publish, its lease lapsed
  // and a newer trigger ran meanwhile) holds an older snapshot: history, not `latest`.
  const newest = await newestPointerSeconds(deps.s3, o.bucket, o.packageName);
  if (newest !== undefined && newest > stampSeconds) {
    deps.logger?.info('quilt package revision written to the history: a later revision stays latest', {
      packageName: o.packageName,
      topHash: hash,
      revisionTime: stampSeconds,
      latestTime: newest,
    });
    return { topHash: hash, created: true, latest: false, manifestKey: key, pointerKeys: [stampKey] };
  }
  const latestKey = latestPointerKey(o.packageName);
  await putTextObject(deps.s3, o.bucket, latestKey, hash, 'text/plain');
  deps.logger?.info('quilt package revision written', {
    packageName: o.packageName,
    topHash: hash,
    previousTopHash: latest?.topHash,
    entryCount: o.entries.length,
  });
  return { topHash: hash, created: true, latest: true, manifestKey: key, pointerKeys: [stampKey, latestKey] };
}

/** The latest time among a package's timestamp pointers (whole Unix seconds), if it has any. */
async function newestPointerSeconds(s3: S3Client, bucket: string, packageName: string): Promise<number | undefined> {
  const prefix = namedPackagePrefix(packageName);
  let newest: number | undefined;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const name = o.Key!.slice(prefix.length);
      if (/^\d+$/.test(name)) newest = Math.max(newest ?? 0, Number(name));
    }
    token = page.NextContinuationToken;
  } while (token);
  return newest;
}

/**
 * Writes `<unix-seconds>` → hash. If that second already names another revision (two revisions
 * within one second), moves to the next free second rather than orphan the earlier one.
 * Returns the pointer's key and the second it names.
 */
async function writeTimestampPointer(
  s3: S3Client,
  bucket: string,
  packageName: string,
  seconds: number,
  hash: string,
): Promise<{ key: string; seconds: number }> {
  for (let s = seconds; s <= seconds + MAX_POINTER_SECONDS_AHEAD; s++) {
    const key = timestampPointerKey(packageName, s);
    const existing = await getListedTextObject(s3, bucket, key);
    if (existing === hash) return { key, seconds: s }; // written by an attempt that crashed before `latest`
    if (existing === undefined) {
      await putTextObject(s3, bucket, key, hash, 'text/plain');
      return { key, seconds: s };
    }
  }
  throw new PermanentError(`no free timestamp pointer for ${packageName} within ${MAX_POINTER_SECONDS_AHEAD} s of ${seconds}`, {
    code: 'QuiltPointerCollision',
    details: { bucket, packageName, seconds },
  });
}

/** Same entries (logical key, hash, size, meta), same user_meta and workflow. Physical keys and message do not count. */
function sameContent(latest: LatestRevision, meta: PackageMeta, entries: readonly ManifestEntry[]): boolean {
  const canon = (v: unknown): string | undefined => (v === undefined ? undefined : canonicalJson(v));
  if (canon(latest.meta.userMeta) !== canon(meta.userMeta) || canon(latest.meta.workflow) !== canon(meta.workflow)) return false;
  if (latest.entries.length !== entries.length) return false;
  const before = new Map(latest.entries.map((e) => [e.logicalKey, e]));
  return entries.every((e) => {
    const b = before.get(e.logicalKey);
    return (
      b !== undefined &&
      b.size === e.size &&
      b.hash.type === e.hash.type &&
      b.hash.value === e.hash.value &&
      canonicalJson(b.meta) === canonicalJson(e.meta)
    );
  });
}

/** The revision `latest` points to, or undefined when the package has none yet. */
export async function readLatest(s3: S3Client, bucket: string, packageName: string): Promise<LatestRevision | undefined> {
  const pointerKey = latestPointerKey(packageName);
  const pointer = await getListedTextObject(s3, bucket, pointerKey);
  if (pointer === undefined) return undefined;
  const hash = pointer.trim();
  if (!isTopHash(hash)) {
    throw new PermanentError(`s3://${bucket}/${pointerKey} does not hold a top hash`, {
      code: 'QuiltBadPointer',
      details: { bucket, key: pointerKey },
    });
  }
  const key = manifestKey(hash);
  const text = await getTextObject(s3, bucket, key);
  if (text === undefined) {
    throw new PermanentError(`s3://${bucket}/${pointerKey} points to missing manifest ${key}`, {
      code: 'QuiltManifestMissing',
      details: { bucket, key },
    });
  }
  return { topHash: hash, ...parseManifest(text) };
}
