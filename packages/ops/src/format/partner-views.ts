import type { PartnerView } from '@bp/shared/partners/registry';
import type { PartnerEventStats, PartnerEventView } from '../partner-events.ts';
import { formatDuration, shortTime } from '../time.ts';
import { clip, fields, table } from './table.ts';

/** Human output of `partners …` and `events …`; secrets are not in these views at all. */

export function partnerList(rows: PartnerView[]): string {
  if (rows.length === 0) return 'no partners';
  return table(
    ['partner', 'name', 'active', 'format', 'events', 'retries', 'rotation'],
    rows.map((p) => [
      p.partnerId,
      p.name,
      p.active ? 'yes' : 'NO',
      p.format,
      p.eventTypes.join(','),
      p.maxRetries,
      p.secrets.previous ? 'in progress' : '',
    ]),
  );
}

export function partnerDetail(p: PartnerView): string {
  return fields([
    ['partner', p.partnerId],
    ['name', p.name],
    ['active', p.active ? 'yes' : 'no'],
    ['format', p.format],
    ['event types', p.eventTypes.join(', ')],
    ['allowed URLs', p.allowedUrlPatterns.join('  ')],
    ['allowed S3', p.allowedS3Prefixes.join('  ')],
    ['namespace', p.namespace],
    ['max retries / timeout', `${p.maxRetries} / ${p.timeoutSeconds}s`],
    ['callback URL', p.callbackUrl],
    ['secret', `current since ${shortTime(p.secrets.current.addedAt)} (${p.secrets.current.store})`],
    [
      'rotation',
      p.secrets.previous
        ? `previous secret still verifies until ${
            p.secrets.previous.validUntil ? shortTime(p.secrets.previous.validUntil) : 'rotate-secret --finish'
          }`
        : undefined,
    ],
    ['updated', shortTime(p.updatedAt)],
  ]);
}

export function eventList(rows: PartnerEventView[]): string {
  if (rows.length === 0) return 'no events match';
  return table(
    ['event', 'partner', 'type', 'run', 'status', 'retries', 'received', 'took', 'error'],
    rows.map((e) => [
      e.eventId,
      e.partnerId,
      e.type,
      clip(e.runId, 30),
      e.status,
      e.retries,
      shortTime(e.receivedAt),
      formatDuration(e.totalMs),
      clip(e.error ? `${e.error.class}: ${e.error.message}` : '', 120),
    ]),
    { wrapLast: 50 },
  );
}

export function eventDetail(e: PartnerEventView): string {
  const head = fields([
    ['event', e.eventId],
    ['partner / type', `${e.partnerId} / ${e.type}`],
    ['run', e.runId],
    ['status', `${e.status} (execution ${e.executionStatus})`],
    ['retries', `${e.retries}${e.maxRetries !== undefined ? ` of at most ${e.maxRetries}` : ''}`],
    ['next retry', e.nextRetryAt ? shortTime(e.nextRetryAt) : undefined],
    ['webhook-id', e.webhookId],
    ['received', shortTime(e.receivedAt)],
    ['started', shortTime(e.startedAt)],
    ['processed', shortTime(e.processedAt)],
    ['processing / total', e.processedAt ? `${formatDuration(e.processingMs) || '-'} / ${formatDuration(e.totalMs) || '-'}` : undefined],
    ['error', e.error ? `[${e.error.step}] ${e.error.class}: ${e.error.message}` : undefined],
    ['package', e.package ? `${e.package.name}${e.package.topHash ? `@${e.package.topHash.slice(0, 12)}` : ''}` : undefined],
  ]);
  return e.package ? `${head}\npackage uri:  ${e.package.uri}` : head;
}

export function eventStats(s: PartnerEventStats): string {
  const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const byPartner = table(
    ['partner', 'total', 'received', 'processing', 'retrying', 'completed', 'failed', 'retries', 'success'],
    Object.entries(s.byPartner).map(([id, p]) => [
      id,
      p.total,
      p.byStatus.received,
      p.byStatus.processing,
      p.byStatus.retrying,
      p.byStatus.completed,
      p.byStatus.failed,
      p.retries,
      pct(p.successRate),
    ]),
  );
  const byType = table(
    ['type', 'total', 'completed', 'failed'],
    Object.entries(s.byType).map(([t, v]) => [t, v.total, v.byStatus.completed, v.byStatus.failed]),
  );
  const queues = s.queues.map((q) => `${q.queue}: ${q.visible} waiting, ${q.inFlight} in flight`).join('; ');
  return [
    `partner events since ${shortTime(s.window.since)}: ${s.total} (success ${pct(s.successRate)}; ` +
      `retries ${s.retries.total} over ${s.retries.events} events)${s.truncated ? ' — truncated' : ''}`,
    `processing p50 ${formatDuration(s.processingMs.p50 ?? undefined) || '-'}, ` +
      `p95 ${formatDuration(s.processingMs.p95 ?? undefined) || '-'} over ${s.processingMs.count} completed`,
    `queues: ${queues}`,
    byPartner,
    byType,
  ].join('\n');
}
