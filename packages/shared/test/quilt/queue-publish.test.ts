import { expect } from 'chai';
import { CreateQueueCommand, DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClients, awsOptionsFromEnv, createAwsClients } from '../../src/aws.ts';
import { PermanentError, TransientError } from '../../src/errors.ts';
import { buildPackagerMessage, publishViaQueue } from '../../src/quilt/queue-publish.ts';
// @bp/local-stack depends on @bp/shared, so @bp/shared cannot list it; the real path is the same module the root hook stops.
import { isolatedEnv } from '../../../local-stack/src/testing.ts';

const COMMIT = 'Benchling v2.entry.updated.fields at 2026-01-02T03:04:05Z';

/** Receives and deletes until `expected` messages came (a FIFO group releases the next only then), plus one more poll. */
async function receiveAll(sqs: SQSClient, queueUrl: string, expected: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 5000;
  const poll = async () => {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of res.Messages ?? []) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  };
  while (got.length < expected && Date.now() < deadline) await poll();
  // One more poll proves nothing beyond the expected count is waiting.
  await poll();
  return got;
}

describe('buildPackagerMessage', () => {
  it('builds exactly the contract message, field for field and in the contract order', () => {
    const msg = buildPackagerMessage({
      bucket: 'BUCKET',
      packageName: 'benchling/EXP00001234',
      metadataKey: 'entry.json',
      commitMessage: COMMIT,
    });
    expect(JSON.stringify(msg)).to.equal(
      '{"source_prefix":"s3://BUCKET/benchling/EXP00001234/","registry":"BUCKET","package_name":"benchling/EXP00001234",' +
        '"metadata_uri":"entry.json","commit_message":"Benchling v2.entry.updated.fields at 2026-01-02T03:04:05Z"}',
    );
  });

  it('carries inline metadata instead of a metadata key, and a workflow when given (even "")', () => {
    const msg = buildPackagerMessage({ bucket: 'b', packageName: 'n/p', metadata: { a: [1] }, commitMessage: 'c', workflow: '' });
    expect(msg).to.deep.equal({
      source_prefix: 's3://b/n/p/',
      registry: 'b',
      package_name: 'n/p',
      metadata: { a: [1] },
      commit_message: 'c',
      workflow: '',
    });
    expect(buildPackagerMessage({ bucket: 'b', packageName: 'n/p', commitMessage: 'c' })).to.not.have.any.keys(
      'metadata',
      'metadata_uri',
      'workflow',
    );
  });

  it('rejects both metadata forms at once, an absolute metadata key, a bad package name or bucket', () => {
    const base = { bucket: 'b', packageName: 'n/p', commitMessage: 'c' };
    const bad = [
      { ...base, metadataKey: 'entry.json', metadata: {} },
      { ...base, metadataKey: '/entry.json' },
      { ...base, packageName: 'n/p/q' },
      { ...base, bucket: 's3://b' },
    ];
    for (const o of bad) expect(() => buildPackagerMessage(o), JSON.stringify(o)).to.throw(PermanentError);
  });
});

describe('publishViaQueue against the local SQS', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let aws: AwsClients;

  before(async () => {
    env = await isolatedEnv('quilt-queue');
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
  });
  after(() => aws?.destroy());

  it('delivers the contract message to the packager queue', async () => {
    const msg = buildPackagerMessage({
      bucket: env.PACKAGE_BUCKET!,
      packageName: 'benchling/EXP00001234',
      metadataKey: 'entry.json',
      commitMessage: COMMIT,
    });
    const { messageId } = await publishViaQueue(aws.sqs, env.PACKAGER_QUEUE_URL!, msg);
    const got = await receiveAll(aws.sqs, env.PACKAGER_QUEUE_URL!, 1);
    expect(got).to.have.length(1);
    expect(got[0]!.MessageId).to.equal(messageId);
    expect(JSON.parse(got[0]!.Body!)).to.deep.equal({
      source_prefix: `s3://${env.PACKAGE_BUCKET}/benchling/EXP00001234/`,
      registry: env.PACKAGE_BUCKET,
      package_name: 'benchling/EXP00001234',
      metadata_uri: 'entry.json',
      commit_message: COMMIT,
    });
  });

  it('groups by package and deduplicates identical resends on a FIFO queue', async () => {
    const fifo = await aws.sqs.send(
      new CreateQueueCommand({ QueueName: `${env.TABLE_PREFIX}packager.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const msg = buildPackagerMessage({ bucket: 'b', packageName: 'benchling/EXP1', metadataKey: 'entry.json', commitMessage: COMMIT });
    await publishViaQueue(aws.sqs, fifo.QueueUrl!, msg);
    await publishViaQueue(aws.sqs, fifo.QueueUrl!, msg);
    await publishViaQueue(aws.sqs, fifo.QueueUrl!, { ...msg, commit_message: 'another trigger' });
    const got = await receiveAll(aws.sqs, fifo.QueueUrl!, 2);
    expect(got.map((m) => JSON.parse(m.Body!).commit_message)).to.deep.equal([COMMIT, 'another trigger']);
  });

  it('reports a missing queue as permanent and an unreachable SQS as transient', async () => {
    const msg = buildPackagerMessage({ bucket: 'b', packageName: 'n/p', commitMessage: 'c' });
    let missing: unknown;
    try {
      await publishViaQueue(aws.sqs, `${env.PACKAGER_QUEUE_URL}-absent`, msg);
    } catch (e) {
      missing = e;
    }
    expect(missing).to.be.instanceOf(PermanentError);
    expect((missing as PermanentError).code).to.equal('QuiltPackagerQueue');

    const down = createAwsClients(
      awsOptionsFromEnv({ ...env, AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9' }, { requestTimeoutMs: 2000, maxAttempts: 1 }),
    );
    let unreachable: unknown;
    try {
      await publishViaQueue(down.sqs, env.PACKAGER_QUEUE_URL!, msg);
    } catch (e) {
      unreachable = e;
    } finally {
      down.destroy();
    }
    expect(unreachable).to.be.instanceOf(TransientError);
  });
});
