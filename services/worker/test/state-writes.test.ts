import { expect } from 'chai';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, awsOptionsFromEnv, createAwsClients, serializeJobMessage } from '@bp/shared';
import { buildWorkerDeps, ENTRY_PACKAGE_STEPS, WorkerFleet, workerConfigFromEnv } from '../src/index.ts';
import { useWorker } from './support/worker-suite.ts';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/**
 * Counts DynamoDB writes as the SDK sends them (middleware on the worker's own client): all of
 * them, and the sequential ones — a write started while another is still in flight runs beside
 * it and adds nothing to the critical path.
 */
function countWrites(aws: AwsClients): { total: number; sequential: number; log: string[] } {
  const c = { total: 0, sequential: 0, log: [] as string[] };
  let inFlight = 0;
  aws.ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      c.total++;
      if (inFlight === 0) c.sequential++;
      const input = args.input as { TableName?: string; UpdateExpression?: string };
      c.log.push(`${context.commandName} ${input.TableName ?? ''}${inFlight > 0 ? ' (beside the one before)' : ''}`);
      inFlight++;
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: 'countStateWrites' },
  );
  return c;
}

/**
 * A small entry's packaging through the real worker (its SQS consumer, the Benchling simulator,
 * DynamoDB Local): its state writes are counted as they go out, not estimated.
 */
describe('state round trips of a small entry’s packaging', function () {
  this.timeout(60_000);
  // The export is ready before the first poll comes back: no re-enqueue. No heartbeat lands in so short a run.
  const suite = useWorker('writes', { sim: { exportDelayMs: 50, tenantId: 'ten_writes' }, visibilityTimeoutSeconds: 60 });

  it('makes at most 8 sequential DynamoDB writes, and the history still shows every step', async () => {
    const countingAws = createAwsClients(awsOptionsFromEnv(suite.env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
    const writes = countWrites(countingAws);
    const deps = await buildWorkerDeps(workerConfigFromEnv({ ...suite.env, HEARTBEAT_SECONDS: '50' }), countingAws, suite.deps.logger);
    const job = await suite.queuedJob({
      tenantId: 'ten_writes',
      entryId: 'etr_writes_small1',
      trigger: { webhookId: 'wh_writes_1', type: 'v2.entry.created' },
    });
    const fleet = new WorkerFleet(deps);
    try {
      await suite.aws.sqs.send(new SendMessageCommand({ QueueUrl: suite.env.JOBS_QUEUE_URL, MessageBody: serializeJobMessage(job) }));
      fleet.start();
      const deadline = Date.now() + 30_000;
      let status: string | undefined;
      while (Date.now() < deadline) {
        status = (await suite.deps.executions.get(job.executionId))?.status;
        if (status === 'SUCCEEDED' || status === 'FAILED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).to.equal('SUCCEEDED');
      // The hand-off of the entry comes after SUCCEEDED: wait for the entry to be free.
      while (Date.now() < deadline && (await suite.deps.entries.get('ten_writes#etr_writes_small1'))?.leaseExecutionId)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      await fleet.stop(5000);
      countingAws.destroy();
    }
    console.log(`      state writes: ${writes.total} in all, ${writes.sequential} sequential\n        ${writes.log.join('\n        ')}`);
    expect(writes.sequential, writes.log.join('\n')).to.be.at.most(8);
    const record = (await suite.deps.executions.get(job.executionId))!;
    const steps = ENTRY_PACKAGE_STEPS.names;
    for (const step of steps) {
      const started = record.events.find((e) => e.type === 'StepStarted' && e.step === step);
      const succeeded = record.events.find((e) => e.type === 'StepSucceeded' && e.step === step);
      expect(started, `${step} started`).to.not.equal(undefined);
      expect(succeeded, `${step} succeeded`).to.not.equal(undefined);
      expect(Date.parse(succeeded!.at)).to.be.at.least(Date.parse(started!.at));
    }
    expect(Object.keys(record.outputs)).to.have.members(steps);
    expect(
      record.events.some((e) => e.type === 'StepStarted' && e.step === 'acquire-entry'),
      'the entry-lease mark the fault suite reads',
    ).to.equal(true);
  });
});
