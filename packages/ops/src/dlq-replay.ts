import { describeError } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { executionIdOf, receiveDlq, releaseMessages } from './dlq-messages.ts';
import { RatePacer } from './rate-pacer.ts';
import { assertFilter, judge, type ReplayFilter } from './replay-judge.ts';
import { ReplayMarkers } from './replay-markers.ts';
import { deleteFromDlq, move } from './replay-move.ts';

export { assertFilter, type ReplayFilter } from './replay-judge.ts';

export interface ReplayOptions {
  filter: ReplayFilter;
  /** Messages moved per second, at most. Default 5. */
  ratePerSecond?: number;
  /** Decide and list, move nothing. Default false. */
  dryRun?: boolean;
  /** Stop after moving this many. Default: no limit. */
  maxMessages?: number;
  /** Seconds a message this run looked at but did not move stays hidden from other readers; all are released at the end. Default 120. */
  holdSeconds?: number;
  /** Who asked: recorded in the execution history and the marker. Default `ops`. */
  requestedBy?: string;
  /** Aborting stops the run between two messages; the result says `interrupted`. */
  signal?: AbortSignal;
  /** Called after each matching message is decided. */
  onProgress?: (event: ReplayEvent, totals: ReplayTotals) => void;
  /** Injectable clock for the pacer, epoch ms. Default Date.now. */
  now?: () => number;
}

export type ReplayOutcome = 'moved' | 'would-move' | 'already-moved' | 'skipped' | 'failed';

export interface ReplayEvent {
  outcome: ReplayOutcome;
  messageId: string;
  executionId?: string;
  entryId?: string;
  /**
   * Why it was skipped or failed; for `already-moved`, which earlier run sent it; for a finished execution's job that is (or would be)
   * moved, what it has left to do.
   */
  reason?: string;
  /** MessageId of the copy on the jobs queue. */
  jobsMessageId?: string;
}

export interface ReplayTotals {
  /** Distinct DLQ messages looked at. */
  scanned: number;
  /** Of those, the ones the filter selected. */
  matched: number;
  moved: number;
  wouldMove: number;
  /** Sent by an earlier, interrupted run: this run only deleted them from the DLQ. */
  alreadyMoved: number;
  skipped: number;
  failed: number;
}

export interface ReplayResult {
  dryRun: boolean;
  interrupted: boolean;
  totals: ReplayTotals;
  /** One per matching message, in the order decided. */
  events: ReplayEvent[];
}

/**
 * Moves dead-lettered jobs back to the jobs queue, one message at a time, so filters apply
 * (the emulator has no StartMessageMoveTask, and that task moves everything anyway).
 *
 * Per message: reopen the FAILED execution (→ QUEUED, or the worker would acknowledge the job
 * of a finished execution without running it) → SendMessage to the jobs queue → write the
 * replay marker (dedupe table, keyed by the DLQ message id) → DeleteMessage from the DLQ.
 * The message of an execution that finished (SUCCEEDED or SUPERSEDED) is sent as it is when the
 * execution still holds its entry: handing the entry on (releasing it, or starting the follow-up
 * run for changes made meanwhile) is what failed on every receive, and the worker completes that
 * for a finished execution's job. Any other finished execution's message is skipped.
 * Nothing is deleted before the send succeeded. A send whose outcome is unknown (a timeout) is
 * reported as failed and rolls nothing back: the job may be on the queue. A rerun finds the
 * marker of a message an interrupted run already sent and only deletes it. The remaining
 * window: killed after the send and before the marker write, a rerun sends the job once more.
 * The worker absorbs that copy like any SQS redelivery: one execution, its lease, and "already
 * finished" acknowledgement.
 */
export async function replayDlq(deps: OpsDeps, o: ReplayOptions): Promise<ReplayResult> {
  assertFilter(o.filter);
  const dryRun = o.dryRun ?? false;
  const holdSeconds = o.holdSeconds ?? 120;
  const who = o.requestedBy ?? 'ops';
  const pacer = new RatePacer(o.ratePerSecond ?? 5, o.now);
  const markers = new ReplayMarkers({ doc: deps.doc, tableName: deps.names.dedupeTable, clock: deps.clock });
  const totals: ReplayTotals = { scanned: 0, matched: 0, moved: 0, wouldMove: 0, alreadyMoved: 0, skipped: 0, failed: 0 };
  const events: ReplayEvent[] = [];
  const seen = new Set<string>();
  /** Received, not deleted: released (visible again) when the run ends. */
  const held = new Map<string, string>();
  const stopped = () => o.signal?.aborted === true;
  const full = () => o.maxMessages !== undefined && totals.moved >= o.maxMessages;
  const report = (e: ReplayEvent) => {
    events.push(e);
    o.onProgress?.(e, { ...totals });
  };

  let staleRounds = 0;
  try {
    while (!stopped() && !full()) {
      // Receive only what can be moved right away: a kill never leaves a message hidden mid-wait.
      if (!dryRun && !(await pacer.waitForToken(o.signal))) break;
      const want = dryRun ? 10 : Math.max(1, Math.min(pacer.available(), o.maxMessages === undefined ? 10 : o.maxMessages - totals.moved));
      const batch = await receiveDlq(deps, { max: want, holdSeconds, waitSeconds: 1 });
      if (batch.length === 0) break;
      let fresh = 0;
      for (const m of batch) {
        held.set(m.messageId, m.receiptHandle);
        if (seen.has(m.messageId)) continue; // back after its hold ran out: hide it again, decided already
        seen.add(m.messageId);
        fresh++;
        totals.scanned++;
        const verdict = await judge(deps, markers, m, o.filter);
        if (verdict.kind === 'nomatch') continue;
        totals.matched++;
        const executionId = executionIdOf(m);
        const base = {
          messageId: m.messageId,
          ...(executionId ? { executionId } : {}),
          ...(m.job?.entryId ? { entryId: m.job.entryId } : {}),
        };
        if (verdict.kind === 'skip') {
          totals.skipped++;
          report({ ...base, outcome: 'skipped', reason: verdict.reason });
          continue;
        }
        if (dryRun) {
          totals.wouldMove++;
          report({ ...base, outcome: 'would-move', ...(verdict.reason ? { reason: verdict.reason } : {}) });
          continue;
        }
        if (stopped() || full()) continue; // stays held, released below
        if (verdict.kind === 'finish') {
          try {
            await deleteFromDlq(deps, m);
          } catch (err) {
            // Marked as sent: the next run deletes it. One failed delete does not end this run.
            totals.failed++;
            report({ ...base, outcome: 'failed', reason: `already sent, but not deleted from the DLQ: ${describeError(err).message}` });
            continue;
          }
          held.delete(m.messageId);
          totals.alreadyMoved++;
          report({ ...base, outcome: 'already-moved', reason: verdict.reason });
          continue;
        }
        if (!(await pacer.waitForToken(o.signal))) continue;
        pacer.take();
        try {
          const jobsMessageId = await move(deps, markers, m, verdict.execution, who);
          held.delete(m.messageId);
          totals.moved++;
          deps.metrics?.dlqMoved('replayed', 'ops');
          report({ ...base, outcome: 'moved', jobsMessageId, ...(verdict.reason ? { reason: verdict.reason } : {}) });
        } catch (err) {
          totals.failed++;
          report({ ...base, outcome: 'failed', reason: describeError(err).message });
        }
      }
      // Only messages seen before came back: once we have cycled through all of them, stop.
      staleRounds = fresh === 0 ? staleRounds + 1 : 0;
      if (staleRounds > seen.size / 10 + 2) break;
    }
  } finally {
    await releaseMessages(deps, [...held.values()]);
  }
  return { dryRun, interrupted: stopped(), totals, events };
}
