import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { type SigningKey, signWebhook } from '@bp/benchling-sim/signing';
import { buildWebhookPayload } from '@bp/benchling-sim/webhook-payloads';

/** One pre-signed webhook delivery. */
export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * Distinct, signed `v2.entry.updated.fields` deliveries: distinct webhook-ids AND distinct event
 * ids (the ingress dedupes entry events by `message.id` too), so every request is a first delivery
 * that writes and enqueues, across every phase and every pool. Signed before the run so signing
 * cost is not charged to the server under test.
 */
export function presign(key: SigningKey, count: number): Delivery[] {
  const timestamp = Math.floor(Date.now() / 1000);
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify(
      buildWebhookPayload('v2.entry.updated.fields', {
        baseURL: 'https://bench.benchling.com',
        tenantId: 'ten_bench',
        appId: 'app_bench',
        appDefinitionId: 'appdef_bench',
        appVersion: '1.0.0',
        entryId: `etr_${i % 500}`,
        eventId: `evt_${randomUUID()}`,
        schema: { id: 'ts_bench', name: 'Experiment' },
        updates: ['fields.Status'],
      }),
    );
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
 * Drives `url` with the pool's deliveries at saturation: `connections` closed-loop connections
 * (autocannon), each sending its next request as soon as the last is answered. Each request
 * takes the next unused delivery.
 *
 * Not for fixed rates: autocannon's `overallRate` lets every connection send its whole
 * per-second quota back to back when the second starts, then pause; 100 req/s over 10
 * connections is a burst of 10 concurrent requests each second, not one every 10 ms. Use
 * `runPacedLoad` for a fixed rate.
 */
export async function runLoad(o: { url: string; pool: Delivery[]; connections: number; durationSeconds: number }): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationSeconds,
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

/**
 * Open-loop load at a fixed rate: request i is due at start + i / rate, sent then whether or
 * not earlier ones were answered (over keep-alive connections, as many as are needed), and its
 * latency is counted from when it was DUE, not when it was sent — so a stalled server, or a timer
 * in this process firing late, is charged in full (no coordinated omission).
 */
export async function runPacedLoad(o: {
  url: string;
  pool: Delivery[];
  rate: number;
  durationSeconds: number;
  timeoutMs?: number;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL('/event', o.url);
  const total = Math.round(o.rate * o.durationSeconds);
  const intervalMs = 1000 / o.rate;
  const latencies: number[] = [];
  let accepted = 0;
  let other = 0;
  let errors = 0;
  const inFlight: Promise<void>[] = [];

  const send = (d: Delivery, dueAt: number) =>
    new Promise<void>((resolve) => {
      const req = http.request(
        target,
        { method: 'POST', agent, headers: { ...d.headers, 'content-length': Buffer.byteLength(d.body) }, timeout: o.timeoutMs ?? 10_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - dueAt);
            if (res.statusCode === 202) accepted++;
            else other++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(d.body);
    });

  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const dueAt = start + i * intervalMs;
    const wait = dueAt - performance.now();
    // A timer firing late makes the request late, and that lateness is counted in its latency.
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send(o.pool[i % o.pool.length]!, dueAt));
  }
  await Promise.all(inFlight);
  agent.destroy();
  const durationSeconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]! : Number.NaN;
  return {
    accepted,
    acceptedPerSecond: accepted / durationSeconds,
    p50: pct(0.5),
    p99: pct(0.99),
    max: latencies.at(-1) ?? Number.NaN,
    other,
    errors,
    durationSeconds,
    poolExhausted: total > o.pool.length,
  };
}
