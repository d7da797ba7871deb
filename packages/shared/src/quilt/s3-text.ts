import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsFailure, classifyAwsError } from '../aws-errors.ts';

/** Reads a small UTF-8 object (manifest, pointer); undefined when the key does not exist. */
export async function getTextObject(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await res.Body?.transformToString('utf-8')) ?? '';
  } catch (err) {
    // A missing bucket is also a 404, but a configuration fault, not an absent object.
    const { name, status } = classifyAwsError(err);
    if (err instanceof NoSuchKey || (status === 404 && name !== 'NoSuchBucket')) return undefined;
    throw awsFailure(err, `reading s3://${bucket}/${key}`, 'QuiltRegistryRead', { bucket, key });
  }
}

/**
 * Like getTextObject for a key that may well be missing (a pointer not written yet): lists the key
 * first, and reads it only when it is there. In AWS a GET of a missing key answers 404 only to a
 * role allowed to list the bucket without a prefix condition; to the worker's role, whose
 * ListBucket is limited to its own prefixes, it answers 403 AccessDenied. A listing under the key
 * is within that grant.
 */
export async function getListedTextObject(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  let listed: ListObjectsV2CommandOutput;
  try {
    listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
  } catch (err) {
    throw awsFailure(err, `listing s3://${bucket}/${key}`, 'QuiltRegistryRead', { bucket, key });
  }
  if (!(listed.Contents ?? []).some((o) => o.Key === key)) return undefined;
  return getTextObject(s3, bucket, key);
}

/** Writes a small UTF-8 object in one request. */
export async function putTextObject(s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<void> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  } catch (err) {
    throw awsFailure(err, `writing s3://${bucket}/${key}`, 'QuiltRegistryWrite', { bucket, key });
  }
}
