import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { readLatest } from '@bp/shared/quilt/index';
import type { PartnerStepContext } from '../context.ts';
import { checkSource } from '../source-policy.ts';
import { checkFiles } from './check-sources.ts';

export interface UploadCheck {
  path: string;
  /** `s3://bucket/key` that was checked. */
  location: string;
  exists: boolean;
  size?: number;
  sizeMatches?: boolean;
  sha256Matches?: boolean;
  /** Exists, and every stated size and hash matches. */
  matches: boolean;
}

/**
 * Step `verify-uploads` of upload.complete: each listed file must exist with its stated size and
 * SHA-256. A file is looked for at its `s3://` URL (under the partner's allowed prefixes) or, for
 * any other URL, in the run's package under `data/<path>`. Sizes come from HEAD; a SHA-256 is
 * taken from the package manifest when it recorded one for that file, otherwise the object is
 * streamed once and hashed. The result says which match; the event succeeds either way.
 */
export async function verifyUploads(ctx: PartnerStepContext): Promise<{ files: UploadCheck[]; allMatch: boolean }> {
  const { s3, config } = ctx.deps;
  const bucket = config.names.bucket;
  const files = ctx.job.event.files ?? [];
  const checked = checkFiles(files, 'data/', { ...ctx.job.policy, allowedUrlPatterns: ['.*'] });
  const latest = await readLatest(s3, bucket, ctx.packageName).catch(() => undefined);
  const recorded = new Map((latest?.entries ?? []).map((e) => [e.physicalKey.key, e.meta.sha256]));
  const results: UploadCheck[] = [];
  for (const c of checked) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const where = c.file.url.startsWith('s3:') ? checkSource(c.file.path, c.file.url, ctx.job.policy) : undefined;
    const loc = where?.kind === 's3' ? { bucket: where.bucket, key: where.key } : { bucket, key: `${ctx.prefix}${c.logicalKey}` };
    const location = `s3://${loc.bucket}/${loc.key}`;
    let size: number | undefined;
    try {
      size = (await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }))).ContentLength ?? 0;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404 && (err as { name?: string }).name !== 'NotFound') throw err;
      results.push({ path: c.file.path, location, exists: false, matches: false });
      continue;
    }
    const sizeMatches = c.file.size === undefined ? undefined : c.file.size === size;
    let sha256Matches: boolean | undefined;
    if (c.file.sha256 && sizeMatches !== false) {
      const known = recorded.get(loc.key);
      const actual = typeof known === 'string' ? known : await sha256Of(ctx, loc.bucket, loc.key);
      sha256Matches = actual === c.file.sha256.toLowerCase();
    } else if (c.file.sha256) sha256Matches = false;
    results.push({
      path: c.file.path,
      location,
      exists: true,
      size,
      ...(sizeMatches !== undefined ? { sizeMatches } : {}),
      ...(sha256Matches !== undefined ? { sha256Matches } : {}),
      matches: sizeMatches !== false && sha256Matches !== false,
    });
  }
  const allMatch = results.every((r) => r.matches);
  ctx.log.info('uploads verified', { files: results.length, matching: results.filter((r) => r.matches).length });
  return { files: results, allMatch };
}

async function sha256Of(ctx: PartnerStepContext, bucket: string, key: string): Promise<string> {
  const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal });
  const hash = createHash('sha256');
  for await (const chunk of res.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
