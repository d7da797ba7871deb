import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClients, EXPIRES_AT, tableDefinitions } from '@bp/shared';
import { seedLocalPartners } from '@bp/shared/partners/local-partners';
import { PartnerRegistry } from '@bp/shared/partners/registry';

export interface ProvisionOptions {
  /** Prefix of every queue and table name, e.g. `bp-`. */
  prefix: string;
  bucket: string;
  /** Receives before a job moves to the DLQ. */
  maxReceiveCount: number;
  /** Jobs queue visibility timeout, seconds. */
  visibilityTimeoutSeconds: number;
}

export interface ProvisionedNames {
  JOBS_QUEUE_URL: string;
  DLQ_URL: string;
  PACKAGER_QUEUE_URL: string;
  TABLE_PREFIX: string;
  PACKAGE_BUCKET: string;
}

/** Creates queues (jobs + DLQ with redrive, packager), tables and the bucket. Safe to run again. */
export async function provision(aws: AwsClients, o: ProvisionOptions): Promise<ProvisionedNames> {
  const dlq = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: `${o.prefix}jobs-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const dlqArn = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
    ?.QueueArn;
  const attributes = {
    VisibilityTimeout: String(o.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount }),
  };
  const jobs = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${o.prefix}jobs` }));
  // Set after creation so a changed maxReceiveCount applies to an existing queue too.
  await aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl: jobs.QueueUrl, Attributes: attributes }));
  const packager = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${o.prefix}packager` }));

  const names = {
    dedupeTable: `${o.prefix}dedupe`,
    executionsTable: `${o.prefix}executions`,
    entriesTable: `${o.prefix}entries`,
    installationsTable: `${o.prefix}installations`,
    partnersTable: `${o.prefix}partners`,
  };
  for (const def of tableDefinitions(names)) {
    try {
      await aws.ddb.send(new CreateTableCommand(def));
      await aws.ddb.send(
        new UpdateTimeToLiveCommand({ TableName: def.TableName, TimeToLiveSpecification: { AttributeName: EXPIRES_AT, Enabled: true } }),
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await aws.ddb.send(new DescribeTableCommand({ TableName: def.TableName }));
  }
  // The documented local partners (README), secrets in the table: no secrets manager runs locally.
  await seedLocalPartners(new PartnerRegistry({ doc: aws.doc, tableName: names.partnersTable }), o.bucket);
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: o.bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  return {
    JOBS_QUEUE_URL: jobs.QueueUrl!,
    DLQ_URL: dlq.QueueUrl!,
    PACKAGER_QUEUE_URL: packager.QueueUrl!,
    TABLE_PREFIX: o.prefix,
    PACKAGE_BUCKET: o.bucket,
  };
}
