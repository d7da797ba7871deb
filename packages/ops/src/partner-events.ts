import { type ExecutionRecord, partnerTenantId } from '@bp/shared';
import { PARTNER_EVENT_TYPES } from '@bp/shared/partners/event';
import { partnerView, type PartnerRecord, type PartnerRegistry, type PartnerView } from '@bp/shared/partners/registry';
import type { OpsDeps } from './deps.ts';
import { OpsNotFoundError, OpsUsageError } from './errors.ts';
import { type PackageView, packageView } from './execution-detail.ts';
import { type QueueStats, queueStats } from './queues.ts';
import { percentile } from './stats.ts';
import { msBetween } from './time.ts';

/**
 * The read side of partner events (issue item 6): each event is the execution record of its
 * event id (the ingress creates it QUEUED with partnerId, eventType and runId), listed per
 * partner through the byEntry index under `partner:<id>#-`. Statuses are the partner
 * lifecycle's, mapped from the execution's.
 */

export const PARTNER_EVENT_STATUSES = ['received', 'processing', 'retrying', 'completed', 'failed', 'superseded'] as const;
export type PartnerEventStatus = (typeof PARTNER_EVENT_STATUSES)[number];

/**
 * QUEUED = received; RUNNING with a lease = processing; QUEUED or RUNNING without a lease after
 * an attempt = retrying (waiting for its next delivery); SUCCEEDED = completed; FAILED = failed;
 * SUPERSEDED = superseded (a newer event covered it).
 */
export function partnerEventStatus(r: Pick<ExecutionRecord, 'status' | 'attempts' | 'leaseOwner'>): PartnerEventStatus {
  switch (r.status) {
    case 'SUCCEEDED':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'SUPERSEDED':
      return 'superseded';
    case 'RUNNING':
      return r.leaseOwner ? 'processing' : 'retrying';
    case 'QUEUED':
      return r.attempts > 0 ? 'retrying' : 'received';
  }
}

export interface PartnerEventView {
  eventId: string;
  partnerId: string;
  type: string;
  runId?: string;
  status: PartnerEventStatus;
  executionStatus: ExecutionRecord['status'];
  /** Attempts after the first. */
  retries: number;
  attempts: number;
  maxRetries?: number;
  nextRetryAt?: string;
  step?: string;
  error?: { class: string; message: string; step: string; at: string };
  webhookId: string;
  receivedAt: string;
  startedAt?: string;
  processedAt?: string;
  /** Milliseconds from the first attempt's start to the finish. */
  processingMs?: number;
  /** Milliseconds from receipt to the finish. */
  totalMs?: number;
  package?: PackageView;
}

export function partnerEventView(r: ExecutionRecord, o: { bucket: string; catalogUrl?: string; maxRetries?: number }): PartnerEventView {
  const published = (r.outputs as Record<string, unknown>).publish as { packageName?: string; name?: string; topHash?: string } | undefined;
  const name = published?.packageName ?? published?.name;
  return {
    eventId: r.executionId,
    partnerId: r.partnerId ?? r.tenantId.replace(/^partner:/, ''),
    type: r.eventType ?? r.trigger.type,
    ...(r.runId ? { runId: r.runId } : {}),
    status: partnerEventStatus(r),
    executionStatus: r.status,
    retries: Math.max(0, r.attempts - 1),
    attempts: r.attempts,
    ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
    ...(r.nextAttemptAt && (r.status === 'QUEUED' || r.status === 'RUNNING') ? { nextRetryAt: r.nextAttemptAt } : {}),
    ...(r.step ? { step: r.step } : {}),
    ...(r.lastError
      ? { error: { class: r.lastError.class, message: r.lastError.message, step: r.lastError.step, at: r.lastError.at } }
      : {}),
    webhookId: r.trigger.webhookId,
    receivedAt: r.createdAt,
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.finishedAt ? { processedAt: r.finishedAt } : {}),
    ...(r.finishedAt && r.startedAt ? { processingMs: msBetween(r.startedAt, r.finishedAt) } : {}),
    ...(r.finishedAt ? { totalMs: msBetween(r.createdAt, r.finishedAt) } : {}),
    ...(r.status === 'SUCCEEDED' && name ? { package: packageView(o.bucket, name, published?.topHash, o.catalogUrl) } : {}),
  };
}

export interface PartnerEventFilter {
  partnerId?: string;
  status?: PartnerEventStatus;
  type?: string;
  since?: Date;
  /** Most events, newest first. Default 50. */
  limit?: number;
}

const DAY_MS = 86_400_000;
/** Events read per partner for a filtered listing or the stats before the figures say `truncated`. */
const READ_LIMIT = 5000;

export function registryOf(deps: OpsDeps): PartnerRegistry {
  if (!deps.partners) throw new OpsUsageError('the partner registry is not configured');
  return deps.partners;
}

export function parseEventStatus(text: string | undefined): PartnerEventStatus | undefined {
  if (text === undefined || text === '') return undefined;
  if (!(PARTNER_EVENT_STATUSES as readonly string[]).includes(text))
    throw new OpsUsageError(`status must be one of ${PARTNER_EVENT_STATUSES.join(', ')}, got "${text}"`);
  return text as PartnerEventStatus;
}

export function parseEventType(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!(PARTNER_EVENT_TYPES as readonly string[]).includes(text))
    throw new OpsUsageError(`type must be one of ${PARTNER_EVENT_TYPES.join(', ')}, got "${text}"`);
  return text;
}

async function recordsOf(
  deps: OpsDeps,
  partnerIds: string[],
  since: Date,
  limit: number,
): Promise<{ records: ExecutionRecord[]; truncated: boolean }> {
  const per = await Promise.all(partnerIds.map((id) => deps.executions.listByEntry(partnerTenantId(id), '-', { since, limit })));
  return {
    records: per
      .flat()
      .sort((a, b) => (a.createdAt === b.createdAt ? b.executionId.localeCompare(a.executionId) : b.createdAt.localeCompare(a.createdAt))),
    truncated: per.some((l) => l.length >= limit),
  };
}

/** Events newest first, filtered; without `since`, the last 24 hours. */
export async function listPartnerEvents(deps: OpsDeps, f: PartnerEventFilter = {}): Promise<PartnerEventView[]> {
  const registry = registryOf(deps);
  const partners = f.partnerId ? [await requirePartner(registry, f.partnerId)] : await registry.list();
  const limit = f.limit ?? 50;
  const since = f.since ?? new Date(deps.clock().getTime() - DAY_MS);
  const filtered = Boolean(f.status || f.type);
  const { records } = await recordsOf(
    deps,
    partners.map((p) => p.partnerId),
    since,
    filtered ? READ_LIMIT : limit,
  );
  const maxRetries = new Map(partners.map((p) => [p.partnerId, p.maxRetries]));
  return records
    .map((r) =>
      partnerEventView(r, {
        bucket: deps.names.bucket,
        ...(deps.catalogUrl ? { catalogUrl: deps.catalogUrl } : {}),
        maxRetries: maxRetries.get(r.partnerId ?? ''),
      }),
    )
    .filter((e) => (!f.status || e.status === f.status) && (!f.type || e.type === f.type))
    .slice(0, limit);
}

export async function showPartnerEvent(deps: OpsDeps, eventId: string): Promise<PartnerEventView> {
  const r = await deps.executions.get(eventId);
  if (!r?.partnerId) throw new OpsNotFoundError(`no partner event ${eventId}`, { eventId });
  const partner = await deps.partners?.get(r.partnerId);
  return partnerEventView(r, {
    bucket: deps.names.bucket,
    ...(deps.catalogUrl ? { catalogUrl: deps.catalogUrl } : {}),
    ...(partner ? { maxRetries: partner.maxRetries } : {}),
  });
}

async function requirePartner(registry: PartnerRegistry, id: string): Promise<PartnerRecord> {
  const p = await registry.get(id);
  if (!p) throw new OpsNotFoundError(`no partner ${id}`, { partnerId: id });
  return p;
}

export async function listPartners(deps: OpsDeps): Promise<PartnerView[]> {
  return (await registryOf(deps).list()).map(partnerView);
}

type Tally = Record<PartnerEventStatus, number>;
const emptyTally = (): Tally => Object.fromEntries(PARTNER_EVENT_STATUSES.map((s) => [s, 0])) as Tally;

export interface PartnerEventStats {
  window: { since: string; until: string };
  total: number;
  byStatus: Tally;
  byPartner: Record<string, { total: number; byStatus: Tally; successRate: number | null; retries: number }>;
  byType: Record<string, { total: number; byStatus: Tally }>;
  /** completed / (completed + failed), null when none finished. */
  successRate: number | null;
  /** Milliseconds from the first attempt's start to the finish, over completed events (nearest rank). */
  processingMs: { count: number; p50: number | null; p95: number | null; max: number | null };
  /** Retries (attempts after the first) over all events, and events that needed any. */
  retries: { total: number; events: number };
  queues: QueueStats[];
  truncated: boolean;
}

/** Totals by status, partner and type; processing percentiles; retries; queue depths; per-partner success rate. */
export async function partnerEventStats(deps: OpsDeps, o: { since: Date; partnerId?: string }): Promise<PartnerEventStats> {
  const registry = registryOf(deps);
  const partners = o.partnerId ? [await requirePartner(registry, o.partnerId)] : await registry.list();
  const [{ records, truncated }, queues] = await Promise.all([
    recordsOf(
      deps,
      partners.map((p) => p.partnerId),
      o.since,
      READ_LIMIT,
    ),
    queueStats(deps),
  ]);
  const byStatus = emptyTally();
  const byPartner: PartnerEventStats['byPartner'] = Object.fromEntries(
    partners.map((p) => [p.partnerId, { total: 0, byStatus: emptyTally(), successRate: null, retries: 0 }]),
  );
  const byType: PartnerEventStats['byType'] = {};
  const processing: number[] = [];
  let retries = 0;
  let retried = 0;
  for (const r of records) {
    const e = partnerEventView(r, { bucket: deps.names.bucket });
    byStatus[e.status]++;
    const p = byPartner[e.partnerId] ?? { total: 0, byStatus: emptyTally(), successRate: null, retries: 0 };
    byPartner[e.partnerId] = p;
    p.total++;
    p.byStatus[e.status]++;
    p.retries += e.retries;
    const t = byType[e.type] ?? { total: 0, byStatus: emptyTally() };
    byType[e.type] = t;
    t.total++;
    t.byStatus[e.status]++;
    retries += e.retries;
    if (e.retries > 0) retried++;
    if (e.status === 'completed' && e.processingMs !== undefined) processing.push(e.processingMs);
  }
  for (const p of Object.values(byPartner)) p.successRate = rate(p.byStatus);
  processing.sort((a, b) => a - b);
  return {
    window: { since: o.since.toISOString(), until: deps.clock().toISOString() },
    total: records.length,
    byStatus,
    byPartner,
    byType,
    successRate: rate(byStatus),
    processingMs: {
      count: processing.length,
      p50: percentile(processing, 50),
      p95: percentile(processing, 95),
      max: processing.at(-1) ?? null,
    },
    retries: { total: retries, events: retried },
    queues,
    truncated,
  };
}

function rate(t: Tally): number | null {
  const finished = t.completed + t.failed;
  return finished === 0 ? null : t.completed / finished;
}
