import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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

/** Writes a small UTF-8 object in one request. */
export async function putTextObject(s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<void> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  } catch (err) {
    throw awsFailure(err, `writing s3://${bucket}/${key}`, 'QuiltRegistryWrite', { bucket, key });
  }
}
