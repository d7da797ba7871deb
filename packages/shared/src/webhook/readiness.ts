import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JwksStatus } from './jwks.ts';

/**
 * Readiness probes for everything a webhook receiver needs to accept a delivery: the dedupe
 * and executions tables, the jobs queue and the signing keys. Each probe is bounded by its own
 * timeout and reports why it failed, so `/health/ready` says which dependency is down.
 */

export interface CheckResult {
  ok: boolean;
  /** Milliseconds the probe took. */
  ms: number;
  /** What was seen, e.g. table status or queue depth. */
  detail?: Record<string, unknown>;
  /** Why it failed; AWS error name and message, never credentials. */
  error?: string;
}

export type Probe = () => Promise<CheckResult>;

/** Runs probes in parallel; `ok` only when every one is. */
export async function runProbes(probes: Record<string, Probe>): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
  const names = Object.keys(probes);
  const results = await Promise.all(names.map((n) => probes[n]!()));
  const checks = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
  return { ok: results.every((r) => r.ok), checks };
}

/** DescribeTable: the table exists and is ACTIVE. */
export function tableProbe(ddb: DynamoDBClient, tableName: string, timeoutMs: number): Probe {
  return () =>
    timed(async (signal) => {
      const res = await ddb.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal });
      const status = res.Table?.TableStatus ?? 'UNKNOWN';
      return { ok: status === 'ACTIVE', detail: { table: tableName, status } };
    }, timeoutMs);
}

/** GetQueueAttributes: the queue answers; reports its depth. */
export function queueProbe(sqs: SQSClient, queueUrl: string, timeoutMs: number): Probe {
  return () =>
    timed(async (signal) => {
      const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }), {
        abortSignal: signal,
      });
      return { ok: true, detail: { messages: Number(res.Attributes?.ApproximateNumberOfMessages ?? Number.NaN) } };
    }, timeoutMs);
}

/** The key cache holds at least one key (a stale cache still verifies; an empty one cannot). */
export function jwksProbe(status: () => JwksStatus): Probe {
  return async () => {
    const s = status();
    const detail = {
      keyCount: s.keyCount,
      kids: s.kids,
      ...(s.lastSuccessAt !== undefined ? { lastSuccessAt: new Date(s.lastSuccessAt).toISOString() } : {}),
    };
    return s.keyCount > 0 ? { ok: true, ms: 0, detail } : { ok: false, ms: 0, detail, error: s.lastError ?? 'no keys fetched yet' };
  };
}

async function timed(run: (signal: AbortSignal) => Promise<Omit<CheckResult, 'ms'>>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const r = await run(AbortSignal.timeout(timeoutMs));
    return { ...r, ms: ms() };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    const error =
      e.name === 'AbortError' || e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
    return { ok: false, ms: ms(), error };
  }
}
