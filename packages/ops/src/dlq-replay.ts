import { DeleteMessageCommand, type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { awsMayHaveSucceeded, describeError, entryKey, type ExecutionRecord, type JobMessage } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { type DlqMessage, executionIdOf, receiveDlq, releaseMessages } from './dlq-messages.ts';
import { OpsUsageError, SendOutcomeUnknownError } from './errors.ts';
import { RatePacer } from './rate-pacer.ts';
import { ReplayMarkers } from './replay-markers.ts';

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
 * reported as failed and rolls nothing back: the job may be on the queue. A rerun finds the marker of a message an
 * interrupted run already sent and only deletes it. The remaining window: killed after the send
 * and before the marker write, a rerun sends the job once more. The worker absorbs that copy
 * like any SQS redelivery: one execution, its lease, and "already finished" acknowledgement.
 */
export interface ReplayFilter {
  /** Only the message of this execution. */
  executionId?: string;
  /** Only messages for this entry. */
  entryId?: string;
  /** Only messages whose execution's last error (`Class: message`) or DLQ reason matches. */
  errorMatches?: RegExp;
  /** Every message. Required when no other filter is given, so "replay everything" is never an accident. */
  all?: boolean;
}

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

type Verdict =
  | { kind: 'nomatch' }
  | { kind: 'skip'; reason: string }
  | { kind: 'finish'; reason: string }
  | { kind: 'move'; execution: ExecutionRecord; reason?: string };

export function assertFilter(f: ReplayFilter): void {
  const narrowed = f.executionId !== undefined || f.entryId !== undefined || f.errorMatches !== undefined;
  if (!narrowed && !f.all) throw new OpsUsageError('say which messages to replay: --execution, --entry, --error-matches, or --all');
  if (narrowed && f.all) throw new OpsUsageError('--all cannot be combined with --execution, --entry or --error-matches');
}

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

async function judge(deps: OpsDeps, markers: ReplayMarkers, m: DlqMessage, f: ReplayFilter): Promise<Verdict> {
  const executionId = executionIdOf(m);
  const execution = executionId ? await deps.executions.get(executionId) : undefined;
  if (!matches(f, m, execution)) return { kind: 'nomatch' };
  const marker = await markers.get(m.messageId);
  if (marker)
    return {
      kind: 'finish',
      reason: `sent to the jobs queue at ${marker.replayedAt} by ${marker.replayedBy} (as ${marker.jobsMessageId}); deleting the DLQ copy`,
    };
  if (m.unreadable) return { kind: 'skip', reason: `not a valid job message: ${m.unreadable}` };
  if (!execution) return { kind: 'skip', reason: 'its execution does not exist (expired or never written)' };
  if (execution.status === 'SUCCEEDED' || execution.status === 'SUPERSEDED') {
    // Partner jobs hold no entry: a finished one has nothing left to do.
    const holding = m.job ? await stillHoldsEntry(deps, m.job, execution) : undefined;
    if (!holding) return { kind: 'skip', reason: `its execution already ${execution.status}` };
    return { kind: 'move', execution, reason: holding };
  }
  return { kind: 'move', execution };
}

/** Why a finished execution's job still has work to do, or undefined when its entry is no longer its to hand on. */
async function stillHoldsEntry(deps: OpsDeps, job: JobMessage, execution: ExecutionRecord): Promise<string | undefined> {
  const entryId = job.entryId ?? execution.entryId;
  if (!entryId) return undefined;
  const entry = await deps.entries.get(entryKey(job.tenantId, entryId));
  const id = execution.executionId;
  if (entry?.leaseExecutionId === id) {
    return (
      `its execution ${execution.status} but still holds entry ` +
      `${entryId}${entry.rerunRequested ? ', with a change made meanwhile waiting for a follow-up run' : ''}: the worker hands it on`
    );
  }
  if (entry?.handoffFrom === id && entry.handoffTo)
    return (
      `its execution ${execution.status} and handed entry ${entryId} to ` +
      `${entry.handoffTo}, which may not have been started: the worker starts it`
    );
  return undefined;
}

function matches(f: ReplayFilter, m: DlqMessage, e: ExecutionRecord | undefined): boolean {
  if (f.all) return true;
  if (f.executionId !== undefined && executionIdOf(m) !== f.executionId) return false;
  if (f.entryId !== undefined && m.job?.entryId !== f.entryId) return false;
  if (f.errorMatches) {
    const texts = [e?.lastError ? `${e.lastError.class}: ${e.lastError.message}` : undefined, m.dlqReason, m.unreadable].filter(
      (t): t is string => t !== undefined,
    );
    if (!texts.some((t) => f.errorMatches!.test(t))) return false;
  }
  return true;
}

/** Reopen → send → marker → delete. Returns the jobs-queue MessageId. */
async function move(deps: OpsDeps, markers: ReplayMarkers, m: DlqMessage, execution: ExecutionRecord, who: string): Promise<string> {
  const id = execution.executionId;
  const finished = execution.status === 'SUCCEEDED' || execution.status === 'SUPERSEDED';
  const reopened =
    execution.status === 'FAILED' ? await deps.executions.reopen(id, `DLQ replay by ${who} (DLQ message ${m.messageId})`) : execution;
  if (!finished && (reopened.status === 'SUCCEEDED' || reopened.status === 'SUPERSEDED'))
    throw new Error(`execution ${id} finished (${reopened.status}) while being replayed`);
  let jobsMessageId: string;
  try {
    const sent = await deps.sqs.send(
      new SendMessageCommand({ QueueUrl: deps.names.jobsQueueUrl, MessageBody: m.body, MessageAttributes: resendable(m) }),
    );
    jobsMessageId = sent.MessageId ?? 'unknown';
  } catch (err) {
    if (awsMayHaveSucceeded(err)) {
      // The job may be on the jobs queue: failing the execution again could mark FAILED a job the
      // worker then runs. It stays as it is, and so does the DLQ copy (released at the end of the
      // run): the worker absorbs a second copy, and a later replay finds what the first one did.
      const e = describeError(err);
      throw new SendOutcomeUnknownError(
        `outcome unknown: the send may or may not have reached the jobs queue (${e.class}: ${e.message}); ` +
          `execution left ${reopened.status}, DLQ message kept`,
        { cause: err, details: { executionId: id, dlqMessageId: m.messageId } },
      );
    }
    // Nothing was sent: put the execution back as it was, so it does not sit QUEUED with no job.
    if (execution.status === 'FAILED' && execution.lastError) {
      await deps.executions.fail(id, undefined, execution.lastError).catch(() => undefined);
    }
    throw err;
  }
  // The marker lets a run killed before the delete below finish the move without sending again.
  // Sent, we go on to the delete even if it cannot be written: a DLQ copy left behind would be sent again.
  const fresh = await markers
    .put({ dlqMessageId: m.messageId, ...(id ? { executionId: id } : {}), jobsMessageId, replayedBy: who })
    .catch((err: unknown) => {
      deps.logger?.warn('replay marker not written; deleting the DLQ copy all the same', {
        messageId: m.messageId,
        error: describeError(err),
      });
      return true;
    });
  if (!fresh)
    deps.logger?.warn('another replay had also sent this DLQ message; the worker absorbs the duplicate', {
      messageId: m.messageId,
      executionId: id,
    });
  try {
    await deleteFromDlq(deps, m);
  } catch (err) {
    // Sent and marked: the next run deletes it without sending again.
    deps.logger?.warn('replayed message not deleted from the DLQ; a rerun will delete it', {
      messageId: m.messageId,
      error: describeError(err),
    });
  }
  deps.logger?.info('DLQ message replayed', { messageId: m.messageId, executionId: id, jobsMessageId, replayedBy: who });
  return jobsMessageId;
}

async function deleteFromDlq(deps: OpsDeps, m: DlqMessage): Promise<void> {
  await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.names.dlqUrl, ReceiptHandle: m.receiptHandle }));
}

/** The original attributes (as SendMessage wants them) plus where the copy came from. */
function resendable(m: DlqMessage): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(m.attributes ?? {})) {
    if (k === 'replayedFrom' || !v.DataType) continue;
    out[k] = {
      DataType: v.DataType,
      ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { BinaryValue: v.BinaryValue } : {}),
    };
  }
  out.replayedFrom = { DataType: 'String', StringValue: m.messageId };
  return out;
}
