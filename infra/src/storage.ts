import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The package bucket: versioned (Quilt manifests pin object versions), encrypted, private, TLS only.
 * Or an existing bucket, e.g. a Quilt registry bucket, which this stack then never changes.
 */
export function packageBucket(scope: Construct, o: { existingBucketName: string | undefined; retain: boolean }): s3.IBucket {
  if (o.existingBucketName) return s3.Bucket.fromBucketName(scope, 'PackageBucket', o.existingBucketName);
  return new s3.Bucket(scope, 'PackageBucket', {
    versioned: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    // A crashed multipart upload leaves parts that are billed but invisible.
    lifecycleRules: [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) }],
    removalPolicy: o.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
}

export interface JobQueues {
  jobs: sqs.Queue;
  deadLetters: sqs.Queue;
}

/**
 * The jobs queue and its DLQ. Visibility equals the worker's VISIBILITY_TIMEOUT_SECONDS, which its
 * heartbeat extends every third of it. A message keeps its original enqueue time in the DLQ, so the
 * DLQ keeps messages for the maximum 14 days, well past the jobs queue's 4.
 */
export function jobQueues(scope: Construct, o: { visibilityTimeoutSeconds: number; maxReceiveCount: number }): JobQueues {
  const deadLetters = new sqs.Queue(scope, 'DeadLetterQueue', {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  const jobs = new sqs.Queue(scope, 'JobsQueue', {
    visibilityTimeout: Duration.seconds(o.visibilityTimeoutSeconds),
    retentionPeriod: Duration.days(4),
    receiveMessageWaitTime: Duration.seconds(20),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: o.maxReceiveCount },
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  return { jobs, deadLetters };
}
