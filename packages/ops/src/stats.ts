import { EXECUTION_STATUSES, type ExecutionRecord, type ExecutionStatus } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { type QueueStats, queueStats } from './queues.ts';
import { msBetween } from './time.ts';

export interface StatsOptions {
  /** Start of the window (executions created at or after it). */
  since: Date;
  /** Most executions read per status; beyond it the figures are marked `truncated`. Default 5000. */
  maxPerStatus?: number;
}

export interface OpsStats {
  window: { since: string; until: string };
  total: number;
  byStatus: Record<ExecutionStatus, number>;
  /** By trigger type (`v2.entry.created`, `ops.repackage`, …) and status. */
  byEventType: Record<string, Partial<Record<ExecutionStatus, number>> & { total: number }>;
  /** SUCCEEDED / (SUCCEEDED + FAILED); SUPERSEDED (coalesced) runs are neither. Null when none finished. */
  successRate: number | null;
  /** Seconds from webhook to package, over SUCCEEDED executions (nearest-rank percentiles). */
  durationSeconds: { count: number; p50: number | null; p95: number | null; max: number | null };
  queues: QueueStats[];
  /** True when a status had more executions in the window than were read. */
  truncated: boolean;
}

/** Counts, success rate and durations of executions created in a window, plus queue depths. */
export async function executionStats(deps: OpsDeps, o: StatsOptions): Promise<OpsStats> {
  const max = o.maxPerStatus ?? 5000;
  const [perStatus, queues] = await Promise.all([
    Promise.all(EXECUTION_STATUSES.map((s) => deps.executions.listByStatus(s, { since: o.since, limit: max }))),
    queueStats(deps),
  ]);
  const all: ExecutionRecord[] = perStatus.flat();
  const byStatus = Object.fromEntries(EXECUTION_STATUSES.map((s, i) => [s, perStatus[i]!.length])) as Record<ExecutionStatus, number>;
  const byEventType: OpsStats['byEventType'] = {};
  for (const r of all) {
    const t = byEventType[r.trigger.type] ?? { total: 0 };
    byEventType[r.trigger.type] = t;
    t.total++;
    t[r.status] = (t[r.status] ?? 0) + 1;
  }
  const finished = byStatus.SUCCEEDED + byStatus.FAILED;
  const durations = all
    .filter((r) => r.status === 'SUCCEEDED')
    .map((r) => msBetween(r.createdAt, r.finishedAt))
    .filter((d): d is number => d !== undefined)
    .map((ms) => ms / 1000)
    .sort((a, b) => a - b);
  return {
    window: { since: o.since.toISOString(), until: deps.clock().toISOString() },
    total: all.length,
    byStatus,
    byEventType,
    successRate: finished === 0 ? null : byStatus.SUCCEEDED / finished,
    durationSeconds: {
      count: durations.length,
      p50: percentile(durations, 50),
      p95: percentile(durations, 95),
      max: durations.at(-1) ?? null,
    },
    queues,
    truncated: perStatus.some((list) => list.length >= max),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
