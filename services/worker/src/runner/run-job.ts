import { type AnyJobMessage, describeError, KindNotHandledError, parseAnyJobMessage, serializeJobMessage } from '@bp/shared';
import type { WorkerDeps } from '../context.ts';
import { Heartbeat } from '../heartbeat.ts';
import { kindOf } from '../kinds/index.ts';
import { carryOut, failNamedExecution } from './effects.ts';
import type { ResourceHold } from './job-kind.ts';
import { Journal } from './journal.ts';
import { decideOutcome, type JobOutcome } from './outcome.ts';
import { runSteps } from './run-steps.ts';

/** The SQS side of the message being run, for a heartbeat that keeps it invisible (see Heartbeat in runJob). */
export interface MessageLease {
  extendVisibility(seconds: number): Promise<unknown>;
}

/**
 * Runs one SQS message's job through the one lifecycle every kind shares: admit (execution lease,
 * then the kind's resource lease) → its steps, each checkpointing → on an error, decideOutcome →
 * the effects (record, resource lease, canvas). Returns what to do with the message. Never
 * throws for a bad message: an unreadable or unknown one is dead-lettered with its reason.
 */
export async function runJob(
  deps: WorkerDeps,
  body: string | undefined,
  receiveCount: number,
  signal: AbortSignal,
  message?: MessageLease,
): Promise<JobOutcome> {
  let job: AnyJobMessage;
  try {
    job = parseAnyJobMessage(body);
  } catch (err) {
    return deadLetterUnreadable(deps, body, err, receiveCount);
  }
  const { config, executions } = deps;
  const kind = kindOf(job);
  const log = deps.logger.child({ executionId: job.executionId, webhookId: job.trigger.webhookId, kind: job.kind });
  const leaseMs = config.visibilityTimeoutSeconds * 1000;
  const journal = new Journal(executions, job.executionId, config.workerId, deps.clock);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  // A listener added to a signal that has already fired never runs.
  if (signal.aborted) onAbort();
  let hold: ResourceHold | undefined;
  let owned = false;
  /** When the execution's first attempt started (for its processing time). */
  let startedAt: string | undefined;
  const heartbeat = new Heartbeat({
    intervalMs: config.heartbeatSeconds * 1000,
    beat: async () => {
      // The message first: a lease extended past a visibility SQS did not extend would outlive it.
      await message?.extendVisibility(config.visibilityTimeoutSeconds);
      await executions.extendLease(job.executionId, config.workerId, leaseMs);
      await hold?.extend(leaseMs);
    },
    onLost: (err) => {
      log.warn('lease lost: stopping this attempt', { error: describeError(err) });
      controller.abort(err);
    },
  });
  try {
    if (!kind) throw kindNotHandled(job.kind);
    const begun = await executions.beginAttempt(job.executionId, {
      workerId: config.workerId,
      leaseMs,
      firstReceive: receiveCount === 1 && !('poll' in job && job.poll),
    });
    if (begun.alreadyFinished) {
      log.info('execution already finished: message acknowledged', { status: begun.record.status });
      // A crash between finishing and handing the resource on leaves it held: finish that now (a no-op when done).
      await (await kind.resource?.({ job, record: begun.record, deps, log, learn: false }))?.end();
      return { action: 'done' };
    }
    owned = true;
    startedAt = begun.record.startedAt ?? begun.record.createdAt;
    hold = await kind.resource?.({ job, record: begun.record, deps, log, learn: true });
    if (hold) {
      const taken = await hold.acquire({ journal, record: begun.record });
      if (!taken.acquired) return taken.outcome;
    }
    heartbeat.start();
    const admitted = await kind.admit({ job, record: begun.record, deps, log, signal: controller.signal, hold });
    if ('outcome' in admitted) {
      await heartbeat.settle();
      return admitted.outcome;
    }
    const outputs = { ...begun.record.outputs };
    if (Object.keys(outputs).length === 0) await admitted.beforeSteps?.();
    const end = await runSteps({
      steps: kind.steps,
      context: admitted.context,
      outputs,
      journal,
      signal: controller.signal,
      log,
      metrics: deps.metrics,
      ...(admitted.beforeStep ? { beforeStep: admitted.beforeStep } : {}),
    });
    // The leases are set below (released, or held across a wait): no beat may land after that.
    await heartbeat.settle();
    if (!end.finished) {
      // Free the slot: come back later. Keep the resource across the wait.
      await hold?.extend((end.wait.waitSeconds + config.visibilityTimeoutSeconds) * 1000);
      await journal.with((pending) => executions.requeueForPoll(job.executionId, config.workerId, end.wait.waitSeconds, pending));
      log.info('still waiting: re-enqueued', { step: end.step, delaySeconds: end.wait.waitSeconds });
      return { action: 'requeue', body: serializeJobMessage(end.wait.job), delaySeconds: end.wait.waitSeconds };
    }
    const finishing = admitted.finishing?.(outputs);
    await journal.with((pending) => executions.succeed(job.executionId, config.workerId, undefined, pending, finishing));
    deps.metrics.executionFinished(job.kind, 'SUCCEEDED');
    log.info('execution succeeded');
    await hold?.end();
    return { action: 'done' };
  } catch (err) {
    await heartbeat.settle();
    if (journal.current !== 'start') deps.metrics.stepFinished(journal.current, 'failed', (Date.now() - journal.currentSince) / 1000);
    const maxForKind = kind?.maxReceiveCount ? kind.maxReceiveCount(job) : deps.maxReceiveCount;
    const decision = decideOutcome(err, {
      receiveCount,
      maxReceiveCount: Math.min(maxForKind, deps.maxReceiveCount),
      queueMaxReceiveCount: deps.maxReceiveCount,
      shuttingDown: signal.aborted,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    });
    hold ??= kind ? await kind.resource?.({ job, record: undefined, deps, log, learn: false }).catch(() => undefined) : undefined;
    return carryOut(decision, { deps, job, err, journal, hold, owned, log, receiveCount, startedAt });
  } finally {
    heartbeat.stop();
    signal.removeEventListener('abort', onAbort);
  }
}

function kindNotHandled(kind: string): Error {
  return new KindNotHandledError(`job kind ${kind} is not handled by this worker yet`);
}

async function deadLetterUnreadable(deps: WorkerDeps, body: string | undefined, err: unknown, receiveCount: number): Promise<JobOutcome> {
  const decision = decideOutcome(err, {
    receiveCount,
    maxReceiveCount: deps.maxReceiveCount,
    queueMaxReceiveCount: deps.maxReceiveCount,
    shuttingDown: false,
    visibilityTimeoutSeconds: deps.config.visibilityTimeoutSeconds,
  });
  deps.logger.error('unreadable job message: dead-lettering it', { reason: decision.reason });
  await failNamedExecution(deps, body, decision.reason);
  return decision.message;
}
