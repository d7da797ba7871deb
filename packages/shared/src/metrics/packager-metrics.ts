import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { EmfPublisher } from './emf.ts';

/**
 * The counters and histograms operators alarm on, in one place so the ingress, the worker and
 * the ops API agree on names and labels. Every observation goes to a prom-client registry
 * (scraped at GET /metrics) and, when an EmfPublisher is attached, to CloudWatch EMF lines.
 *
 * Label values must come from small fixed sets (outcomes, step names, error codes, job kinds):
 * never ids, tenants or messages, which would create a time series per value.
 */
export interface PackagerMetricsOptions {
  /** Registry to register in. Default: a new Registry (never prom-client's global one). */
  registry?: Registry;
  /** Prefix of every Prometheus metric name. Default `bp_`. */
  prefix?: string;
  /** Also collect Node process metrics (CPU, memory, event-loop lag, GC). Default false. */
  processMetrics?: boolean;
  /** Seconds: histogram buckets of step durations. Default 0.05 s … 30 min. */
  durationBuckets?: number[];
}

/** Outcome of one step attempt. `requeued`: await-export put the job back to poll later. */
export type StepOutcome = 'succeeded' | 'failed' | 'requeued';
/** Why a message moved: `dead_lettered` into the DLQ, `replayed` back to the jobs queue by ops. */
export type DlqDirection = 'dead_lettered' | 'replayed';

const DEFAULT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export class PackagerMetrics {
  readonly registry: Registry;
  private emf: EmfPublisher | undefined;
  private readonly webhooks: Counter<'outcome'>;
  private readonly executions: Counter<'kind' | 'status'>;
  private readonly steps: Counter<'step' | 'outcome'>;
  private readonly stepSeconds: Histogram<'step' | 'outcome'>;
  private readonly retries: Counter<'step' | 'error_class'>;
  private readonly dlqMoves: Counter<'direction' | 'reason'>;
  private readonly rateLimited: Counter;
  private readonly partnerErrors: Counter<'severity'>;
  private readonly warehouseFailures: Counter<'kind'>;

  constructor(o: PackagerMetricsOptions = {}) {
    this.registry = o.registry ?? new Registry();
    const p = o.prefix ?? 'bp_';
    const registers = [this.registry];
    this.webhooks = new Counter({
      name: `${p}webhooks_total`,
      help:
        'Webhook deliveries answered by the ingress, by outcome (accepted, ' +
        'duplicate, ignored, unauthorized, malformed, unavailable, …).',
      labelNames: ['outcome'],
      registers,
    });
    this.executions = new Counter({
      name: `${p}executions_finished_total`,
      help: 'Executions that reached a final status, by job kind and status.',
      labelNames: ['kind', 'status'],
      registers,
    });
    this.steps = new Counter({
      name: `${p}steps_total`,
      help: 'Pipeline step attempts, by step and outcome.',
      labelNames: ['step', 'outcome'],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: `${p}step_duration_seconds`,
      help: 'Wall time of one step attempt, by step and outcome.',
      labelNames: ['step', 'outcome'],
      buckets: o.durationBuckets ?? DEFAULT_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: `${p}retries_total`,
      help: 'Attempts handed back to the queue for a retry, by step and error class.',
      labelNames: ['step', 'error_class'],
      registers,
    });
    this.dlqMoves = new Counter({
      name: `${p}dlq_messages_total`,
      help: 'Job messages moved into the DLQ (dead_lettered) or back out of it (replayed).',
      labelNames: ['direction', 'reason'],
      registers,
    });
    this.partnerErrors = new Counter({
      name: `${p}partner_error_notifications_total`,
      help: 'error.notification events received from sequencing partners, by severity.',
      labelNames: ['severity'],
      registers,
    });
    this.rateLimited = new Counter({
      name: `${p}benchling_rate_limited_total`,
      help: 'HTTP 429 answers received from Benchling.',
      registers,
    });
    this.warehouseFailures = new Counter({
      name: `${p}warehouse_failures_total`,
      help: 'Warehouse lookups a job saw fail, by kind (connection, query_timeout, access_denied, other).',
      labelNames: ['kind'],
      registers,
    });
    if (o.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** Sends every later observation to CloudWatch EMF lines as well. */
  emitTo(emf: EmfPublisher): this {
    this.emf = emf;
    return this;
  }

  webhookAnswered(outcome: string): void {
    this.webhooks.inc({ outcome });
    this.emf?.count('Webhooks', { Outcome: outcome });
  }

  executionFinished(kind: string, status: 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED'): void {
    this.executions.inc({ kind, status });
    this.emf?.count('ExecutionsFinished', { Status: status });
  }

  stepFinished(step: string, outcome: StepOutcome, seconds: number): void {
    this.steps.inc({ step, outcome });
    this.stepSeconds.observe({ step, outcome }, seconds);
    this.emf?.observe('StepDuration', { Step: step, Outcome: outcome }, seconds, 'Seconds');
  }

  retryScheduled(step: string, errorClass: string): void {
    this.retries.inc({ step, error_class: errorClass });
    this.emf?.count('Retries', { Step: step });
  }

  dlqMoved(direction: DlqDirection, reason: string, n = 1): void {
    this.dlqMoves.inc({ direction, reason }, n);
    this.emf?.count(direction === 'replayed' ? 'DlqReplayed' : 'DeadLettered', { Reason: reason }, n);
  }

  /** A partner reported an error (event error.notification); CloudWatch alarms on `PartnerErrorNotifications` (no dimensions). */
  partnerErrorNotification(severity: string): void {
    this.partnerErrors.inc({ severity });
    this.emf?.count('PartnerErrorNotifications', {});
  }

  benchlingRateLimited(): void {
    this.rateLimited.inc();
    this.emf?.count('BenchlingRateLimited', {});
  }

  /** A warehouse lookup failed for a job; `access_denied` feeds the DBA alarm (metric WarehouseFailures, Kind=access_denied). */
  warehouseFailed(kind: string): void {
    this.warehouseFailures.inc({ kind });
    this.emf?.count('WarehouseFailures', { Kind: kind });
  }

  /** The registry in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

let shared: PackagerMetrics | undefined;

/**
 * The process-wide instance the services instrument (like prom-client's own global registry,
 * but ours): one per process, so the worker's steps and its /metrics server see the same counts.
 */
export function processMetrics(): PackagerMetrics {
  shared ??= new PackagerMetrics({ processMetrics: true });
  return shared;
}
