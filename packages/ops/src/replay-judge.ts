import { entryKey, type ExecutionRecord, type JobMessage } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { type DlqMessage, executionIdOf } from './dlq-messages.ts';
import { OpsUsageError } from './errors.ts';
import type { ReplayMarkers } from './replay-markers.ts';

/*
 * What a replay does with one DLQ message: whether the filter selects it, and then skip it, only
 * finish an earlier run's move, or move it (with why, for a finished execution's job).
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

export type Verdict =
  | { kind: 'nomatch' }
  | { kind: 'skip'; reason: string }
  | { kind: 'finish'; reason: string }
  | { kind: 'move'; execution: ExecutionRecord; reason?: string };

export function assertFilter(f: ReplayFilter): void {
  const narrowed = f.executionId !== undefined || f.entryId !== undefined || f.errorMatches !== undefined;
  if (!narrowed && !f.all) throw new OpsUsageError('say which messages to replay: --execution, --entry, --error-matches, or --all');
  if (narrowed && f.all) throw new OpsUsageError('--all cannot be combined with --execution, --entry or --error-matches');
}

export async function judge(deps: OpsDeps, markers: ReplayMarkers, m: DlqMessage, f: ReplayFilter): Promise<Verdict> {
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
