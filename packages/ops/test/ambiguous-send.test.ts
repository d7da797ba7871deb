import { expect } from 'chai';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsOptionsFromEnv, createAwsClients, type JobMessage } from '@bp/shared';
import { type OpsDeps, repackage, replayDlq, SendOutcomeUnknownError } from '../src/index.ts';
import { deadLetteredJob, drain, opsStack } from './support.ts';

/**
 * A SendMessage whose answer never arrives: the job reaches fauxqs, then SDK middleware throws a
 * timeout as if the socket had timed out before the answer. Only SendMessage is affected.
 */
function timesOutAfterSending(env: Record<string, string>): { sqs: SQSClient; destroy(): void } {
  const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 1 }));
  aws.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'SendMessageCommand') return result;
      throw Object.assign(new Error('socket timed out before the answer'), { name: 'TimeoutError' });
    },
    { step: 'initialize', name: 'timeoutAfterSend' },
  );
  return { sqs: aws.sqs, destroy: () => aws.destroy() };
}

async function depth(deps: OpsDeps, url: string): Promise<number> {
  const res = await deps.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages) + Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

describe('ops: a send whose outcome is unknown rolls nothing back', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let deps: OpsDeps & { destroy(): void };
  let ambiguous: { sqs: SQSClient; destroy(): void };

  beforeEach(async () => {
    ({ env, deps } = await opsStack('ambiguous'));
    ambiguous = timesOutAfterSending(env);
  });
  afterEach(() => {
    ambiguous.destroy();
    deps.destroy();
  });

  it('repackage: leaves the execution QUEUED (its job was delivered) and names it, instead of marking it FAILED', async () => {
    const err = await repackage(
      { ...deps, sqs: ambiguous.sqs },
      { tenantId: 'ten_ops', entryId: 'etr_ambiguous', baseURL: 'https://acme.benchling.com' },
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SendOutcomeUnknownError);
    const executionId = (err as SendOutcomeUnknownError).details.executionId as string;
    expect((err as Error).message)
      .to.include(executionId)
      .and.to.match(/may or may not have been sent/);
    const [body] = await drain(deps.sqs, deps.names.jobsQueueUrl);
    expect((JSON.parse(body!) as JobMessage).executionId, 'the job did reach the queue').to.equal(executionId);
    expect((await deps.executions.get(executionId))!.status, 'not rolled back').to.equal('QUEUED');
  });

  it('repackage: still marks the execution FAILED when the send certainly failed (SQS refused it)', async () => {
    const broken = { ...deps, names: { ...deps.names, jobsQueueUrl: `${deps.names.jobsQueueUrl}-missing` } };
    const before = new Date(Date.now() - 1000);
    const err = await repackage(broken, { tenantId: 'ten_ops', entryId: 'etr_refused', baseURL: 'https://acme.benchling.com' }).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error).and.not.to.be.instanceOf(SendOutcomeUnknownError);
    const failed = await deps.executions.listByStatus('FAILED', { since: before, limit: 10 });
    expect(failed.map((e) => e.entryId)).to.include('etr_refused');
  });

  it('replay: keeps the DLQ message and leaves the reopened execution as it is, reporting the outcome unknown', async () => {
    const id = await deadLetteredJob(deps, { entryId: 'etr_replay_ambiguous' });
    const r = await replayDlq({ ...deps, sqs: ambiguous.sqs }, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ moved: 0, failed: 1 });
    expect(r.events[0]).to.deep.include({ outcome: 'failed', executionId: id });
    expect(r.events[0]!.reason).to.match(/outcome unknown/);
    const [body] = await drain(deps.sqs, deps.names.jobsQueueUrl);
    expect((JSON.parse(body!) as JobMessage).executionId, 'the job did reach the queue').to.equal(id);
    // Forcing it FAILED would make the worker acknowledge the delivered job without running it.
    expect((await deps.executions.get(id))!.status).to.equal('QUEUED');
    expect(await depth(deps, deps.names.dlqUrl), 'the DLQ copy stays').to.equal(1);
  });
});
