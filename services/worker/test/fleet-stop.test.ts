import { expect } from 'chai';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { serializeJobMessage } from '@bp/shared';
import { WorkerFleet } from '../src/index.ts';
import { useWorker } from './support/worker-suite.ts';

/**
 * Stopping a worker: sqs-consumer lets a long poll already in flight finish, and it may bring a
 * job after stop() was called. That job must not start (the process is about to exit and would
 * kill it mid-run): the message goes back on the queue at once for another worker.
 * A real fleet (four slots, 20 s long polls) against fauxqs, DynamoDB Local and the simulator.
 */
describe('a worker fleet that is stopping', function () {
  this.timeout(60_000);
  const suite = useWorker('fleetstop', { sim: { exportDelayMs: 0, tenantId: 'ten_fleetstop' } });

  it('hands a job that arrives on a poll still in flight straight back, without starting it', async () => {
    const { deps } = suite;
    const fleet = new WorkerFleet(deps);
    fleet.start();
    // Let every slot's long poll reach the queue.
    await new Promise((r) => setTimeout(r, 500));
    const stopped = fleet.stop(10_000);
    const job = await suite.queuedJob({
      tenantId: 'ten_fleetstop',
      entryId: 'etr_fleet_stop_1',
      trigger: { webhookId: 'wh_fleet_stop_1', type: 'v2.entry.created' },
    });
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.config.names.jobsQueueUrl, MessageBody: serializeJobMessage(job) }));
    await stopped;
    expect(fleet.activeJobs).to.equal(0);

    // The message is back within seconds (not after its 60 s visibility timeout), received before.
    let back: { body?: string; receiveCount: number } | undefined;
    for (let tries = 0; !back && tries < 10; tries++) {
      const res = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.config.names.jobsQueueUrl,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const m = res.Messages?.[0];
      if (!m) continue;
      back = { ...(m.Body ? { body: m.Body } : {}), receiveCount: Number(m.Attributes?.ApproximateReceiveCount) };
      await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.config.names.jobsQueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    expect(back, 'the job is on the queue again').to.not.equal(undefined);
    expect(JSON.parse(back!.body!).executionId).to.equal(job.executionId);
    expect(back!.receiveCount, 'a stopping slot had received it').to.be.at.least(2);
    const execution = (await deps.executions.get(job.executionId))!;
    expect(execution).to.deep.include({ status: 'QUEUED', attempts: 0 });
  });
});
