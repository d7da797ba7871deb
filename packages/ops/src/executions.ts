import { EXECUTION_STATUSES, type ExecutionRecord, type ExecutionStatus } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { OpsUsageError } from './errors.ts';
import { msBetween } from './time.ts';

/** Which executions `executions list` and GET /ops/executions return. */
export interface ExecutionFilter {
  /** Only this status. Default: every status. */
  status?: ExecutionStatus;
  /** Only this entry. With `tenantId` it reads the byEntry index; without, it filters recent executions. */
  entryId?: string;
  /** Tenant of `entryId`. Default: any tenant (slower: scans the window's executions). */
  tenantId?: string;
  /** Only executions created at or after this time. Default: 24 hours ago (7 days when filtering by entry). */
  since?: Date;
  /** Most executions returned, newest first. Default 20. */
  limit?: number;
}

/** One line of `executions list`. */
export interface ExecutionSummary {
  executionId: string;
  status: ExecutionStatus;
  kind: string;
  tenantId: string;
  entryId?: string;
  step?: string;
  attempts: number;
  trigger: string;
  createdAt: string;
  finishedAt?: string;
  /** Milliseconds from creation to finish (or to now while unfinished). */
  durationMs?: number;
  /** `Class: message` of the last error, if any. */
  lastError?: string;
}

const DAY_MS = 86_400_000;
/** How many recent executions an entry filter without tenant looks through. */
const ENTRY_SCAN_LIMIT = 2000;

export function parseStatus(text: string | undefined): ExecutionStatus | undefined {
  if (text === undefined || text === '') return undefined;
  const s = text.toUpperCase();
  if (!(EXECUTION_STATUSES as readonly string[]).includes(s))
    throw new OpsUsageError(`status must be one of ${EXECUTION_STATUSES.join(', ')}, got "${text}"`);
  return s as ExecutionStatus;
}

export function parseLimit(text: string | number | undefined, fallback: number, max = 1000): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new OpsUsageError(`limit must be an integer from 1 to ${max}, got "${text}"`);
  return n;
}

export async function listExecutions(deps: OpsDeps, f: ExecutionFilter = {}): Promise<ExecutionSummary[]> {
  const now = deps.clock();
  const limit = f.limit ?? 20;
  const keep = (r: ExecutionRecord) =>
    (!f.status || r.status === f.status) && (!f.since || r.createdAt >= f.since.toISOString()) && (!f.entryId || r.entryId === f.entryId);
  let records: ExecutionRecord[];
  if (f.entryId && f.tenantId) {
    records = (await deps.executions.listByEntry(f.tenantId, f.entryId, { limit: Math.max(limit, 200) })).filter(keep);
  } else if (f.entryId) {
    const since = f.since ?? new Date(now.getTime() - 7 * DAY_MS);
    records = (await deps.executions.listRecent({ since, limit: ENTRY_SCAN_LIMIT, ...(f.status ? { status: f.status } : {}) })).filter(
      keep,
    );
  } else if (f.status) {
    records = await deps.executions.listByStatus(f.status, { limit, since: f.since ?? new Date(now.getTime() - DAY_MS) });
  } else {
    records = await deps.executions.listRecent({ since: f.since ?? new Date(now.getTime() - DAY_MS), limit });
  }
  return records.slice(0, limit).map((r) => summarise(r, now));
}

export function summarise(r: ExecutionRecord, now: Date): ExecutionSummary {
  return {
    executionId: r.executionId,
    status: r.status,
    kind: r.kind,
    tenantId: r.tenantId,
    ...(r.entryId ? { entryId: r.entryId } : {}),
    ...(r.step || r.lastError?.step ? { step: r.step ?? r.lastError!.step } : {}),
    attempts: r.attempts,
    trigger: r.trigger.type,
    createdAt: r.createdAt,
    ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
    durationMs: msBetween(r.createdAt, r.finishedAt ?? now.toISOString()),
    ...(r.lastError ? { lastError: `${r.lastError.class}: ${r.lastError.message}` } : {}),
  };
}
