import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PermanentError } from '../errors.ts';
import { awsFailure } from '../aws-errors.ts';
import { parsePackageName } from './package-name.ts';

/** The packaging engine's message, field names as the engine reads them. */
export interface PackagerMessage {
  /** `s3://BUCKET/<packageName>/`: every latest object version under it becomes an entry. */
  source_prefix: string;
  /** Registry bucket name (no `s3://`). */
  registry: string;
  package_name: string;
  /** Metadata object key, relative to `source_prefix`. */
  metadata_uri?: string;
  /** Inline metadata, instead of `metadata_uri`. */
  metadata?: object;
  commit_message: string;
  /** Workflow id; `""` means none. */
  workflow?: string;
}

export interface PackagerMessageOptions {
  /** Bucket holding both the files and the registry. */
  bucket: string;
  /** `namespace/name`; the files live under `s3://bucket/<packageName>/`. */
  packageName: string;
  /** Key of a JSON metadata object relative to the package prefix, e.g. `entry.json`. Default: none. */
  metadataKey?: string;
  /** Inline metadata; exclusive with `metadataKey`. Default: none. */
  metadata?: object;
  commitMessage: string;
  /** Quilt workflow id; `""` selects none explicitly. Default: left out (the bucket's default). */
  workflow?: string;
}

/** Builds the engine's message. Field order follows the contract so logs read like its example. */
export function buildPackagerMessage(o: PackagerMessageOptions): PackagerMessage {
  parsePackageName(o.packageName);
  if (!o.bucket || /[/:]/.test(o.bucket))
    throw new PermanentError(`bad bucket name ${JSON.stringify(o.bucket)}`, { code: 'QuiltBadBucket' });
  if (o.metadataKey !== undefined && o.metadata !== undefined) {
    throw new PermanentError('give metadataKey or metadata, not both', {
      code: 'QuiltBadPackagerMessage',
      details: { packageName: o.packageName },
    });
  }
  if (o.metadataKey !== undefined && (o.metadataKey === '' || o.metadataKey.startsWith('/'))) {
    throw new PermanentError(`metadataKey must be relative to the package prefix: ${JSON.stringify(o.metadataKey)}`, {
      code: 'QuiltBadPackagerMessage',
    });
  }
  return {
    source_prefix: `s3://${o.bucket}/${o.packageName}/`,
    registry: o.bucket,
    package_name: o.packageName,
    ...(o.metadataKey === undefined ? {} : { metadata_uri: o.metadataKey }),
    ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
    commit_message: o.commitMessage,
    ...(o.workflow === undefined ? {} : { workflow: o.workflow }),
  };
}

/**
 * Sends the message to the engine's queue. On a FIFO queue the package name is the group (one
 * revision at a time per package) and the body's hash deduplicates resends.
 */
export async function publishViaQueue(sqs: SQSClient, queueUrl: string, msg: PackagerMessage): Promise<{ messageId: string }> {
  const body = JSON.stringify(msg);
  const fifo = queueUrl.endsWith('.fifo')
    ? { MessageGroupId: msg.package_name, MessageDeduplicationId: createHash('sha256').update(body).digest('hex') }
    : {};
  try {
    const res = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...fifo }));
    return { messageId: res.MessageId ?? '' };
  } catch (err) {
    throw awsFailure(err, `sending the packager message for ${msg.package_name}`, 'QuiltPackagerQueue', {
      queueUrl,
      packageName: msg.package_name,
    });
  }
}
