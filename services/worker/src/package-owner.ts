import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '@bp/shared';
import { ENTRY_METADATA_KEYS } from '@bp/shared/quilt/reserved-keys';

/**
 * Refuses to write under a package prefix that another entry's run has published: its
 * `entry.json` names a different entry. Names are injective and tenants never share a prefix, so
 * this takes two entries of one tenant with the same display id; without the check the second would
 * overwrite the first's files, and queue mode's clean-up would delete the rest. Lists before it
 * reads, so a missing `entry.json` is never an S3 403 (a role without ListBucket on the key sees
 * AccessDenied, not NoSuchKey).
 */
export async function assertPackageOwner(
  s3: S3Client,
  o: { bucket: string; packageName: string; tenantId: string; entryId: string },
): Promise<void> {
  const key = `${o.packageName}/${ENTRY_METADATA_KEYS.entry}`;
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: key, MaxKeys: 1 }));
  if (!(listed.Contents ?? []).some((c) => c.Key === key)) return;
  const res = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: key }));
  let owner: unknown;
  try {
    owner = (JSON.parse((await res.Body?.transformToString('utf-8')) ?? '') as { entryId?: unknown }).entryId;
  } catch {
    return; // not ours to judge: a file we cannot read names no owner
  }
  if (typeof owner === 'string' && owner !== o.entryId) {
    throw new PermanentError(
      `package ${o.packageName} already holds entry ${owner} of tenant ${o.tenantId}; ` +
        `entry ${o.entryId} has the same display id and is not written over it`,
      {
        code: 'PackageNameTaken',
        details: { packageName: o.packageName, owner, entryId: o.entryId, tenantId: o.tenantId },
      },
    );
  }
}
