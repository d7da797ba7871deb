import { ChangeMessageVisibilityCommand, type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { describeError } from '@bp/shared';
import type { WorkerDeps } from './context.ts';
import type { JobOutcome } from './runner/outcome.ts';
import { runJob } from './runner/run-job.ts';
import type { ActiveJobsListener } from './task-protection.ts';

/** Part of the shutdown grace kept for handing in-flight jobs back (abort, roll back, record, release). */
const HAND_BACK_RESERVE_MS = 2000;

/**
 * `concurrency` sqs-consumer instances with batchSize 1, so each is one job slot: a slow job never
 * holds back polling for the others. The runner's heartbeat extends the message's visibility and
 * then the job's leases, in that order, so a lease never outlives the message's invisibility
 * (sqs-consumer's own heartbeat would extend them independently).
 */
export class WorkerFleet {
  private readonly consumers: Consumer[] = [];
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly startedAt = new Map<string, number>();
  private readonly shutdown = new AbortController();
  /** Set by stop(): a receive still in flight then may deliver a message, which goes straight back. */
  private stopping = false;

  /** `activeJobs` hears every job start and end (ECS scale-in protection in AWS). */
  constructor(
    private readonly deps: WorkerDeps,
    private readonly opts: { activeJobs?: ActiveJobsListener } = {},
  ) {
    const { config } = deps;
    for (let slot = 0; slot < config.concurrency; slot++) {
      const consumer = Consumer.create({
        queueUrl: config.names.jobsQueueUrl,
        sqs: deps.sqs,
        batchSize: 1,
        waitTimeSeconds: 20,
        visibilityTimeout: config.visibilityTimeoutSeconds,
        messageSystemAttributeNames: ['ApproximateReceiveCount'],
        handleMessage: (m) => this.track(m),
      });
      consumer.on('error', (err) => deps.logger.error('SQS error', { slot, error: describeError(err) }));
      consumer.on('processing_error', (err) =>
        deps.logger.error('could not settle a message; it will come back', { slot, error: describeError(err) }),
      );
      this.consumers.push(consumer);
    }
  }

  /** For /health/live: slots whose consumer runs, and when each job running now started (epoch ms). */
  liveness(): { slots: number; running: number; stopping: boolean; jobStartedAt: number[] } {
    return {
      slots: this.consumers.length,
      running: this.consumers.filter((c) => c.status.isRunning).length,
      stopping: this.stopping,
      jobStartedAt: [...this.startedAt.values()],
    };
  }

  /** Jobs running now. */
  get activeJobs(): number {
    return this.inFlight.size;
  }

  start(): void {
    for (const c of this.consumers) c.start();
    this.deps.logger.info('worker started', { workerId: this.deps.config.workerId, concurrency: this.consumers.length });
  }

  /**
   * Stops receiving, lets in-flight jobs finish for `graceMs`, then aborts the rest: they
   * checkpoint, release their leases and make their messages visible again at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const c of this.consumers) c.stop();
    const all = () => Promise.allSettled([...this.inFlight.values()]);
    // The grace period is the whole budget: jobs may finish in it, less the time a hand-back takes.
    const finishMs = graceMs - Math.min(HAND_BACK_RESERVE_MS, graceMs / 2);
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), finishMs).unref()),
    ]);
    if (timedOut && this.inFlight.size > 0) {
      this.deps.logger.warn('grace period over: handing in-flight jobs back', { jobs: this.inFlight.size, reserveMs: graceMs - finishMs });
      this.shutdown.abort(new Error('worker shutting down'));
      await all();
    }
    await this.opts.activeJobs?.close();
  }

  private async track(message: Message): Promise<Message | undefined> {
    // sqs-consumer's stop() lets a long poll in flight finish, and hands us what it brings. A job
    // started now would be killed when the process exits: make the message visible again at once
    // for another worker instead, and run nothing.
    if (this.stopping) {
      // A failed hand-back reaches sqs-consumer's processing_error: the message then comes back after its visibility timeout.
      await this.settle(message, { action: 'retry', delaySeconds: 0 });
      this.deps.logger.info('received while stopping: message handed back', { messageId: message.MessageId });
      return undefined;
    }
    const id = message.MessageId ?? String(Math.random());
    this.opts.activeJobs?.jobStarted();
    const run = this.process(message);
    this.inFlight.set(id, run);
    this.startedAt.set(id, Date.now());
    try {
      return await run;
    } finally {
      this.inFlight.delete(id);
      this.startedAt.delete(id);
      this.opts.activeJobs?.jobFinished();
    }
  }

  private async process(message: Message): Promise<Message | undefined> {
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const { sqs, config } = this.deps;
    const visibility = {
      extendVisibility: (seconds: number) =>
        sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: config.names.jobsQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: seconds,
          }),
        ),
    };
    const outcome = await runJob(this.deps, message.Body, receiveCount, this.shutdown.signal, visibility);
    await this.settle(message, outcome);
    // Returning the message makes sqs-consumer delete it; undefined leaves it on the queue.
    return outcome.action === 'retry' ? undefined : message;
  }

  /** Performs the SQS side of an outcome. Sends happen before the delete sqs-consumer does after us. */
  private async settle(message: Message, outcome: JobOutcome): Promise<void> {
    const { sqs, config } = this.deps;
    switch (outcome.action) {
      case 'done':
        return;
      case 'retry':
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: config.names.jobsQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: outcome.delaySeconds,
          }),
        );
        return;
      case 'requeue':
        await sqs.send(
          new SendMessageCommand({ QueueUrl: config.names.jobsQueueUrl, MessageBody: outcome.body, DelaySeconds: outcome.delaySeconds }),
        );
        return;
      case 'deadLetter':
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: config.names.dlqUrl,
            MessageBody: message.Body ?? '',
            MessageAttributes: {
              error: { DataType: 'String', StringValue: outcome.reason.slice(0, 1000) },
              sourceMessageId: { DataType: 'String', StringValue: message.MessageId ?? 'unknown' },
            },
          }),
        );
        this.deps.logger.warn('message moved to the DLQ', { messageId: message.MessageId, reason: outcome.reason });
        this.deps.metrics.dlqMoved('dead_lettered', 'rejected');
        return;
    }
  }
}
