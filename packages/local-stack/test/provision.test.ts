import { expect } from 'chai';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { awsOptionsFromEnv, createAwsClients, EXPIRES_AT } from '@bp/shared';
import { isolatedEnv, sharedLocalAws } from '../src/testing.ts';

describe('local stack provisioning', () => {
  it('creates the jobs queue with a redrive policy to the DLQ, the tables with TTL, and the bucket', async () => {
    const env = await isolatedEnv('prov', { maxReceiveCount: 3 });
    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    try {
      const jobs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.JOBS_QUEUE_URL, AttributeNames: ['All'] }));
      const dlq = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.DLQ_URL, AttributeNames: ['QueueArn'] }));
      const redrive = JSON.parse(jobs.Attributes!.RedrivePolicy!);
      expect(redrive).to.deep.equal({ deadLetterTargetArn: dlq.Attributes!.QueueArn, maxReceiveCount: 3 });
      const executions = await aws.ddb.send(new DescribeTableCommand({ TableName: `${env.TABLE_PREFIX}executions` }));
      expect(executions.Table!.GlobalSecondaryIndexes!.map((i) => i.IndexName).sort()).to.deep.equal(['byEntry', 'byStatus']);
      const ttl = await aws.ddb.send(new DescribeTimeToLiveCommand({ TableName: `${env.TABLE_PREFIX}dedupe` }));
      expect(ttl.TimeToLiveDescription?.AttributeName).to.equal(EXPIRES_AT);
      await aws.s3.send(new HeadBucketCommand({ Bucket: env.PACKAGE_BUCKET }));
    } finally {
      aws.destroy();
    }
  });

  it('is idempotent: provisioning the same prefix again returns the same queues', async () => {
    const l = await sharedLocalAws();
    const a = await l.provision({ prefix: 'idem-' });
    const b = await l.provision({ prefix: 'idem-', maxReceiveCount: 7 });
    expect(b.JOBS_QUEUE_URL).to.equal(a.JOBS_QUEUE_URL);
  });
});
