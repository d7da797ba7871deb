import { type ExecutionRecord, type Logger, serializeJobMessage, TransientError } from '@bp/shared';
import { PARTNER_JOB_KINDS, type PartnerJobKind, type PartnerJobMessage } from '@bp/shared/partners/event';
import type { WorkerDeps } from '../context.ts';
import type { PartnerStep, PartnerStepContext } from '../partner/context.ts';
import { PARTNER_STEPS, RESULT_STEPS } from '../partner/kinds.ts';
import { type ObjectWriter, pooledWriter } from '../partner/object-writer.ts';
import { runPackageName, runResourceKey } from '../partner/run-names.ts';
import type { JobKind, ResourceHold } from '../runner/job-kind.ts';
import { type StepOptions, Steps } from '../runner/steps.ts';

/** Longest wait before a job whose run is busy (another event of the run is processing) looks again. */
const RUN_BUSY_MAX_DELAY_SECONDS = 30;

/** What a partner step runs with, besides the outputs the runner hands it. */
interface PartnerRun {
  base: Omit<PartnerStepContext, 'outputs' | 'log'>;
  log: Logger;
}

/**
 * The run's transfer steps are long (operators see them running) and durable (a transfer or a
 * publish repeated would cost); the rest checkpoint with the next write.
 */
const STEP_OPTIONS: Record<string, StepOptions<PartnerRun, unknown>> = {
  'fetch-files': { long: true, durable: true },
  publish: { durable: true },
};

/** One partner kind's steps as the runner declares them, from PARTNER_STEPS (partner/kinds.ts). */
function declare(steps: readonly PartnerStep[]): Steps<PartnerRun, object> {
  let declared = Steps.for<PartnerRun>() as Steps<PartnerRun, Record<string, unknown>>;
  for (const step of steps) {
    declared = declared.step(
      step.name as never,
      async (r, outputs) => ({ output: (await step.run({ ...r.base, outputs, log: r.log.child({ step: step.name }) })) ?? null }),
      STEP_OPTIONS[step.name] ?? {},
    ) as Steps<PartnerRun, Record<string, unknown>>;
  }
  return declared;
}

/**
 * A partner event's hold on its run: one event of a run at a time (events of a run add up to its
 * package's revisions, in order). Leased in the entries table under the run's key. A busy run is
 * no failure: the job is re-enqueued as new, so waiting does not use up the partner's retries.
 */
class RunHold implements ResourceHold {
  readonly key: string;
  private readonly leaseMs: number;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly job: PartnerJobMessage,
  ) {
    this.key = runResourceKey(job.partnerId, job.event.run.id);
    this.leaseMs = deps.config.visibilityTimeoutSeconds * 1000;
  }

  async acquire() {
    const { entries, executions, config } = this.deps;
    const lease = await entries.acquireEntryLease(this.key, this.job.executionId, this.leaseMs);
    if (lease.acquired) return { acquired: true } as const;
    const delaySeconds = Math.max(1, Math.min(RUN_BUSY_MAX_DELAY_SECONDS, Math.ceil((lease.expiresAt - Date.now()) / 1000)));
    await executions.requeueForPoll(this.job.executionId, config.workerId, delaySeconds);
    return { acquired: false, outcome: { action: 'requeue', body: serializeJobMessage(this.job), delaySeconds } } as const;
  }

  extend(ms: number): Promise<unknown> {
    return this.deps.entries.extendEntryLease(this.key, this.job.executionId, ms);
  }

  /** Partner events do not coalesce: a plain release. */
  async end(): Promise<void> {
    await this.deps.entries.handOffEntryLease(this.key, this.job.executionId, 'none', this.leaseMs);
  }
}

/** Milliseconds since the event's first attempt started. */
function processingMs(record: ExecutionRecord, now: Date): number {
  return Math.max(0, now.getTime() - Date.parse(record.startedAt ?? record.createdAt));
}

/**
 * The job kind of one partner event type. Receives are limited by the partner's `maxRetries`
 * (retries after the first attempt, within the queue's redrive limit); one attempt may run for the
 * partner's `timeoutSeconds`.
 */
function partnerKind(kind: PartnerJobKind, writer?: (deps: WorkerDeps) => ObjectWriter): JobKind<PartnerJobMessage, PartnerRun> {
  return {
    steps: declare(PARTNER_STEPS[kind]),
    maxReceiveCount: (job) => Math.max(1, job.policy.maxRetries + 1),
    async resource({ job, deps }) {
      return new RunHold(deps, job);
    },
    async admit({ job, record, deps, log, signal }) {
      // The partner's per-attempt timeout, on top of shutdown and a lost lease.
      const attempt = new AbortController();
      signal.addEventListener('abort', () => attempt.abort(signal.reason), { once: true });
      const timeoutError = new TransientError(`attempt exceeded the partner's timeout of ${job.policy.timeoutSeconds} s`, {
        code: 'PartnerTimeout',
      });
      setTimeout(() => attempt.abort(timeoutError), job.policy.timeoutSeconds * 1000).unref();
      const packageName = runPackageName(job.policy.namespace, job.event.run.id);
      const runLog = log.child({ partnerId: job.partnerId, runId: job.event.run.id });
      return {
        context: {
          base: {
            job,
            execution: record,
            deps,
            writer: (writer ?? ((d) => pooledWriter(d.s3)))(deps),
            signal: attempt.signal,
            packageName,
            prefix: `${packageName}/`,
          },
          log: runLog,
        },
        finishing(outputs) {
          const resultStep = PARTNER_STEPS[kind].find((s) => RESULT_STEPS.has(s.name));
          const published = outputs.publish as { packageName: string; topHash?: string } | undefined;
          const result = resultStep
            ? outputs[resultStep.name]
            : published
              ? { package: { name: published.packageName, ...(published.topHash ? { topHash: published.topHash } : {}) } }
              : undefined;
          return { processingMs: processingMs(record, deps.clock()), ...(result !== undefined ? { result } : {}) };
        },
      };
    },
  };
}

/** Every partner kind, by job kind. */
export const PARTNER_KINDS = Object.fromEntries(Object.values(PARTNER_JOB_KINDS).map((k) => [k, partnerKind(k)])) as Record<
  PartnerJobKind,
  JobKind<PartnerJobMessage, PartnerRun>
>;
