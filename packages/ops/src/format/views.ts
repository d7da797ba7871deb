import type { PeekedMessage } from '../dlq-peek.ts';
import type { ReplayResult } from '../dlq-replay.ts';
import type { ExecutionDetail } from '../execution-detail.ts';
import type { ExecutionSummary } from '../executions.ts';
import type { QueueStats } from '../queues.ts';
import type { RepackageResult } from '../repackage.ts';
import type { OpsStats } from '../stats.ts';
import { formatDuration, shortTime } from '../time.ts';
import { clip, fields, table } from './table.ts';

/** Human output of each command; `--json` prints the objects themselves instead. */

export function executionList(rows: ExecutionSummary[]): string {
  if (rows.length === 0) return 'no executions match';
  return table(
    ['execution', 'status', 'entry', 'step', 'att', 'created', 'took', 'last error'],
    rows.map((r) => [
      r.executionId,
      r.status,
      r.entryId ?? `(${r.kind})`,
      r.step,
      r.attempts,
      shortTime(r.createdAt),
      formatDuration(r.durationMs),
      r.status === 'SUCCEEDED' ? '' : clip(r.lastError, 160),
    ]),
    { wrapLast: 50 },
  );
}

export function executionDetail(d: ExecutionDetail): string {
  const e = d.execution;
  const head = fields([
    ['execution', e.executionId],
    ['status', e.status],
    ['kind', e.kind],
    ['tenant / entry', `${e.tenantId} / ${e.entryId ?? '-'}`],
    ['trigger', `${e.trigger.type} (${e.trigger.webhookId})`],
    ['attempts', e.attempts],
    ['created', shortTime(d.timings.createdAt)],
    ['started', shortTime(d.timings.startedAt)],
    ['finished', shortTime(d.timings.finishedAt)],
    [
      'queued / ran / total',
      `${formatDuration(d.timings.queuedMs) || '-'} / ` +
        `${formatDuration(d.timings.runMs) || '-'} / ` +
        `${formatDuration(d.timings.totalMs) || '-'}`,
    ],
    ['last error', e.lastError ? `[${e.lastError.step}] ${e.lastError.class}: ${e.lastError.message}` : undefined],
    ['package', d.package ? `${d.package.name}${d.package.topHash ? `@${d.package.topHash.slice(0, 12)}` : ''}` : undefined],
  ]);
  // URIs go below the table, whole, so they can be copied (a cell would cut them).
  const links = d.package ? `\npackage uri:  ${d.package.uri}\npackage link: ${d.package.link}` : '';
  const steps = table(
    ['step', 'state', 'runs', 'started', 'took', 'error'],
    d.steps.map((s) => [s.step, s.state, s.starts || '', shortTime(s.startedAt), formatDuration(s.durationMs), clip(s.lastError, 300)]),
    { wrapLast: 60 },
  );
  const history = table(
    ['at', 'event', 'step', 'attempt', 'detail'],
    e.events.map((ev) => [shortTime(ev.at), ev.type, ev.step, ev.attempt, clip(ev.detail, 300)]),
    { wrapLast: 60 },
  );
  return `${head}${links}\n\nsteps\n${steps}\n\nhistory (newest ${e.events.length})\n${history}`;
}

export function queues(rows: QueueStats[]): string {
  return table(
    ['queue', 'visible', 'in flight', 'delayed', 'oldest'],
    rows.map((q) => [
      q.queue,
      q.visible,
      q.inFlight,
      q.delayed,
      q.oldestAgeSeconds === null ? (q.ageNote ?? '-') : formatDuration(q.oldestAgeSeconds * 1000),
    ]),
  );
}

export function peek(rows: PeekedMessage[]): string {
  if (rows.length === 0) return 'the DLQ is empty';
  return table(
    ['message', 'age', 'recv', 'execution', 'entry', 'status', 'last error'],
    rows.map((m) => [
      clip(m.messageId, 13),
      m.ageSeconds === undefined ? '' : formatDuration(m.ageSeconds * 1000),
      m.receiveCount,
      m.executionId ?? '(unreadable)',
      m.entryId,
      m.executionStatus ?? (m.executionId ? 'gone' : ''),
      clip(m.lastError ? `[${m.lastError.step}] ${m.lastError.class}: ${m.lastError.message}` : (m.dlqReason ?? m.unreadable), 300),
    ]),
    { wrapLast: 60 },
  );
}

export function replaySummary(r: ReplayResult): string {
  const t = r.totals;
  const lines = r.events.filter((e) => e.outcome !== 'moved' || e.reason);
  const detail = lines.length
    ? `\n${table(
        ['message', 'outcome', 'execution', 'why'],
        lines.map((e) => [clip(e.messageId, 13), e.outcome, e.executionId, clip(e.reason, 80)]),
      )}`
    : '';
  const verb = r.dryRun ? `dry run: would move ${t.wouldMove}` : `moved ${t.moved}`;
  const tail = r.dryRun ? 'nothing was moved' : `${t.alreadyMoved} finished from an earlier run, ${t.failed} failed`;
  const stop = r.interrupted ? '\ninterrupted: run the same command again to continue (moved messages are not moved twice)' : '';
  return `${verb} of ${t.matched} matching (${t.scanned} scanned, ${t.skipped} skipped); ${tail}${detail}${stop}`;
}

export function repackaged(r: RepackageResult): string {
  return (
    `queued ${r.executionId} for ${r.job.tenantId}/${r.job.entryId} (job message ${r.jobsMessageId})\n` +
    `follow it: pnpm ops executions show ${r.executionId}`
  );
}

export function stats(s: OpsStats): string {
  const head = fields([
    ['window', `${shortTime(s.window.since)} → ${shortTime(s.window.until)}`],
    ['executions', `${s.total}${s.truncated ? ' (truncated)' : ''}`],
    [
      'by status',
      Object.entries(s.byStatus)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || '-',
    ],
    ['success rate', s.successRate === null ? '-' : `${(s.successRate * 100).toFixed(1)}%`],
    [
      'duration p50 / p95 / max',
      s.durationSeconds.count
        ? [s.durationSeconds.p50, s.durationSeconds.p95, s.durationSeconds.max].map((v) => formatDuration((v ?? 0) * 1000)).join(' / ')
        : '-',
    ],
  ]);
  const types = table(
    ['event type', 'total', 'succeeded', 'failed', 'other'],
    Object.entries(s.byEventType).map(([type, c]) => [
      type,
      c.total,
      c.SUCCEEDED ?? 0,
      c.FAILED ?? 0,
      c.total - (c.SUCCEEDED ?? 0) - (c.FAILED ?? 0),
    ]),
  );
  return `${head}\n${types}\n${queues(s.queues)}`;
}
