import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { type SigningKey, signWebhook } from '@bp/benchling-sim/signing';

/** One pre-signed webhook delivery. */
export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * Distinct, signed `v2.entry.updated.fields` deliveries (distinct webhook-ids, so every request
 * is a first delivery that writes and enqueues). Signed before the run so signing cost is not
 * charged to the server under test.
 */
export function presign(key: SigningKey, count: number): Delivery[] {
  const timestamp = Math.floor(Date.now() / 1000);
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      version: '0',
      baseURL: 'https://bench.benchling.com',
      tenantId: 'ten_bench',
      app: { id: 'app_bench' },
      appDefinition: { id: 'appdef_bench', versionNumber: '1.0.0' },
      channel: 'events',
      message: {
        type: 'v2.entry.updated.fields',
        id: `evt_${i}`,
        createdAt: new Date().toISOString(),
        resourceId: `etr_${i % 500}`,
        schema: { id: 'ts_bench', name: 'Experiment' },
        excludedProperties: [],
        updates: ['fields.Status'],
        deprecated: false,
      },
    });
    const headers = signWebhook({ keys: [key], webhookId: `msg_${randomUUID()}`, timestamp, body });
    out.push({ body, headers: { 'content-type': 'application/json', ...headers } });
  }
  return out;
}

export interface LoadResult {
  /** 202 answers: first deliveries durably enqueued. */
  accepted: number;
  acceptedPerSecond: number;
  /** Latency percentiles of all answers, milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /** Answers other than 202, and connection errors/timeouts. */
  other: number;
  errors: number;
  durationSeconds: number;
  /** True when the run needed more deliveries than were signed (the extra ones were duplicates). */
  poolExhausted: boolean;
}

/**
 * Drives `url` with the pool's deliveries: at saturation (no rate) or at `overallRate` req/s.
 * Each request takes the next unused delivery.
 */
export async function runLoad(o: { url: string; pool: Delivery[]; connections: number; durationSeconds: number; overallRate?: number }): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationSeconds,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/event',
        setupRequest: (req) => {
          const d = o.pool[next++ % o.pool.length]!;
          return { ...req, headers: d.headers, body: d.body };
        },
      },
    ],
  });
  const accepted = Number(result.statusCodeStats?.['202']?.count ?? 0);
  const total = Object.values(result.statusCodeStats ?? {}).reduce((s, c) => s + Number(c.count ?? 0), 0);
  return {
    accepted,
    acceptedPerSecond: accepted / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    other: total - accepted,
    errors: result.errors,
    durationSeconds: result.duration,
    poolExhausted: next > o.pool.length,
  };
}
