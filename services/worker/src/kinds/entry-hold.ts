import { type ExecutionRecord, entryKey, type Logger, newExecutionId } from '@bp/shared';
import type { EntryJob, WorkerDeps } from '../context.ts';
import { enqueueFollowUp } from '../follow-up.ts';
import type { ResourceHold } from '../runner/job-kind.ts';
import type { Journal } from '../runner/journal.ts';
import { retryDelaySeconds } from '../runner/outcome.ts';
import { type ExecutionError, TransientError } from '@bp/shared';
import { PackagingCanvas } from '../canvas/worker-canvas.ts';

/**
 * An entry packaging's hold on its entry: one packaging per entry at a time. A trigger for an
 * entry that is being packaged is coalesced into one follow-up run, which the holder starts when
 * it lets go (EntryStore.handOffEntryLease: release and hand-off in one conditional write).
 */
export class EntryHold implements ResourceHold {
  readonly key: string;
  readonly entryId: string;
  /** The entry's canvas, to tell about a failure: the job's, or the entry's once admission read it. */
  canvasId: string | undefined;
  private readonly leaseMs: number;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly job: EntryJob,
    private readonly log: Logger,
  ) {
    this.entryId = job.entryId;
    this.canvasId = job.canvasId;
    this.key = entryKey(job.tenantId, job.entryId);
    this.leaseMs = deps.config.visibilityTimeoutSeconds * 1000;
  }

  async acquire(a: {
    journal: Journal;
    record: ExecutionRecord;
  }): Promise<{ acquired: true } | { acquired: false; outcome: { action: 'done' } }> {
    const { entries, executions, config } = this.deps;
    const { job } = this;
    const lease = await entries.acquireEntryLease(this.key, job.executionId, this.leaseMs);
    if (!lease.acquired) {
      // A click of the update button while a packaging runs (the button is disabled then, but a
      // stale page or a double click still sends one) starts nothing: the running one reads the entry anyway.
      if (job.trigger.buttonId) {
        await executions.supersede(job.executionId, `entry ${job.entryId} is already being packaged by ${lease.heldBy}`);
        this.deps.metrics.executionFinished(job.kind, 'SUPERSEDED');
        this.log.info('update button clicked while packaging runs: nothing started', { runningExecutionId: lease.heldBy });
        return { acquired: false, outcome: { action: 'done' } };
      }
      const rerun = await entries.requestRerun(this.key, job.trigger, job.executionId);
      if (rerun.leaseHeld) {
        await executions.supersede(
          job.executionId,
          `entry ${job.entryId} is being packaged by ${lease.heldBy}; one follow-up run will pick up this change`,
        );
        this.deps.metrics.executionFinished(job.kind, 'SUPERSEDED');
        this.log.info('coalesced into the running execution', { runningExecutionId: lease.heldBy });
        return { acquired: false, outcome: { action: 'done' } };
      }
      // The holder released between our two calls: our request may now start a follow-up, and we may
      // also run ourselves — take the lease again (the follow-up, if any, will find current state).
      const again = await entries.acquireEntryLease(this.key, job.executionId, this.leaseMs);
      if (!again.acquired)
        throw new TransientError(`entry ${job.entryId} is busy`, { code: 'EntryBusy', retryAfterMs: retryDelaySeconds(1) * 1000 });
    }
    // Marks when this attempt holds the entry: the fault suite's no-two-runs-at-once check starts
    // here. The record already names the entry when the job did; then the mark goes out with the
    // next write. A job that learnt its entry from its canvas records it at once, so a redelivered
    // message can still hand that entry on.
    if (a.record.entryId === job.entryId) a.journal.note({ type: 'StepStarted', step: 'acquire-entry' });
    else
      await executions.recordStepStart(job.executionId, config.workerId, 'acquire-entry', { tenantId: job.tenantId, entryId: job.entryId });
    return { acquired: true };
  }

  extend(ms: number): Promise<number> {
    return this.deps.entries.extendEntryLease(this.key, this.job.executionId, ms);
  }

  /**
   * Releases the entry, or hands its lease to the single follow-up run that coalesced triggers asked
   * for and starts it. Safe to repeat: a redelivered message completes a hand-off a crash cut short.
   * A no-op when this execution no longer holds the entry (and has no hand-off left to complete).
   */
  async end(): Promise<void> {
    const end = await this.deps.entries.handOffEntryLease(this.key, this.job.executionId, newExecutionId(this.deps.clock()), this.leaseMs);
    const handoff = end.outcome === 'handedOff' ? end : end.outcome === 'notHeld' ? end.pendingHandoff : undefined;
    if (!handoff) return;
    const followUp = await enqueueFollowUp(this.deps, this.job, handoff.trigger, handoff.to);
    this.log.info('started the follow-up run for changes made while packaging', {
      followUpExecutionId: followUp,
      resumedHandoff: end.outcome === 'notHeld',
    });
  }

  async showFailure(error: ExecutionError): Promise<void> {
    const canvasId = this.canvasId;
    if (!canvasId) return;
    try {
      await new PackagingCanvas(this.deps, this.deps.benchlingFor(this.job), this.job, canvasId).failed(error);
    } catch (err) {
      this.log.warn('could not show the failure on the canvas', { canvasId, error: String(err) });
    }
  }
}
