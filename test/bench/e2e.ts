/**
 * `pnpm bench e2e [--json]`: webhook → revision published for 50 small entries with an instant
 * export, p50 and p95, through the whole system (simulator, ingress, 2 worker fleets × 4 slots,
 * emulators). Target (reported): p50 under 1 s. Then one more entry alone, with the workers' state
 * writes counted by SDK middleware: every write of that packaging is on its critical path.
 */
import { stopSharedLocalAws } from '@bp/local-stack/testing';
import type { ExecutionRecord } from '@bp/shared';
import { countStateWrites, type StateWrite, sequentialRoundTrips } from '../support/state-writes.ts';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { type BenchArgs, BenchInvalidError, printJson } from './report.ts';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runE2eBench(args: BenchArgs): Promise<void> {
  const count = Number(process.env.BENCH_E2E_ENTRIES ?? 50);
  const ratePerSecond = Number(process.env.BENCH_E2E_RATE ?? 5);
  const sys = await startSystem({
    label: 'bench-e2e',
    workers: 2,
    sim: { exportDelayMs: 0, rateLimit: { limit: 100_000, windowSeconds: 30 } },
  });
  try {
    const sent: Array<{ executionId: string; t0: number }> = [];
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / ratePerSecond;
      if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
      const t0 = Date.now();
      const r = await sys.send({ type: 'v2.entry.created', entryId: `etr_bench_e2e_${i}` });
      if (r.status !== 202) throw new BenchInvalidError(`webhook ${i} answered ${r.status}, not 202`);
      sent.push({ executionId: String(r.json.executionId), t0 });
    }
    const latencies: number[] = [];
    const queuedToStart: number[] = [];
    const notSucceeded: string[] = [];
    for (const s of sent) {
      const ex = await sys.waitForExecution(s.executionId, { timeoutMs: 60_000 });
      if (ex.status !== 'SUCCEEDED') notSucceeded.push(`${s.executionId} ${ex.status}`);
      latencies.push(Date.parse(ex.finishedAt!) - s.t0);
      const wait = queuedToFirstAttempt(ex);
      if (wait !== undefined) queuedToStart.push(wait);
    }
    if (notSucceeded.length > 0)
      throw new BenchInvalidError(`${notSucceeded.length} of ${count} executions did not succeed: ${notSucceeded.slice(0, 5).join(', ')}`);
    if (process.env.BENCH_E2E_TRACE) await printSlowest(sys, sent, latencies);
    const writes = await stateWritesOfOnePackaging(sys);
    // Writes sent alongside one another (in flight together) are one round trip on the critical path.
    const sequential = sequentialRoundTrips(writes);
    latencies.sort((a, b) => a - b);
    queuedToStart.sort((a, b) => a - b);
    console.log(`\ne2e: webhook → revision published, ${count} entries at ${ratePerSecond}/s, instant export, 2 workers × 4 slots\n`);
    console.log(
      '| entries | succeeded | p50 | p95 | max | queued → started p50 | worker state writes, sequential / all (one entry alone) | target |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${count} | ${count - notSucceeded.length} | ${pct(latencies, 50)} ms | ${pct(latencies, 95)} ms ` +
        `| ${latencies.at(-1)} ms | ${pct(queuedToStart, 50)} ms | ${sequential} / ${writes.length} | p50 < 1000 ms, ` +
        `sequential writes ≤ 8 |`,
    );
    console.log(`\nstate writes of that packaging, in order: ${writes.map((w) => w.command.replace(/Command$/, '')).join(' → ')}`);
    if (args.json) {
      printJson({
        entries: count,
        succeeded: count - notSucceeded.length,
        p50Ms: pct(latencies, 50),
        p95Ms: pct(latencies, 95),
        criticalPathStateWrites: sequential,
        stateWritesTotal: writes.length,
        queuedToStartP50Ms: pct(queuedToStart, 50),
      });
    }
  } finally {
    await sys.stop();
    await stopSharedLocalAws();
  }
}

/** Milliseconds from the execution's `Queued` event to its first `AttemptStarted`. */
function queuedToFirstAttempt(ex: ExecutionRecord): number | undefined {
  const queued = ex.events.find((e) => e.type === 'Queued');
  const startedAt = ex.events.find((e) => e.type === 'AttemptStarted');
  return queued && startedAt ? Date.parse(startedAt.at) - Date.parse(queued.at) : undefined;
}

/**
 * One more entry, packaged while nothing else runs: every DynamoDB write the workers send from
 * the webhook until the execution has SUCCEEDED belongs to it, in sequence.
 */
async function stateWritesOfOnePackaging(sys: RunningSystem): Promise<ReadonlyArray<StateWrite>> {
  const counter = countStateWrites(sys.workerAws.map((a) => a.ddb));
  try {
    const r = await sys.send({ type: 'v2.entry.created', entryId: 'etr_bench_e2e_alone' });
    if (r.status !== 202) throw new BenchInvalidError(`the counted webhook answered ${r.status}, not 202`);
    const ex = await sys.waitForExecution(String(r.json.executionId), { timeoutMs: 60_000 });
    if (ex.status !== 'SUCCEEDED') throw new BenchInvalidError(`the counted execution ended ${ex.status}`);
    // The last writes (lease release) may land just after the status does.
    await new Promise((res) => setTimeout(res, 500));
    return [...counter.writes];
  } finally {
    counter.stop();
  }
}

async function printSlowest(sys: RunningSystem, sent: Array<{ executionId: string; t0: number }>, latencies: number[]): Promise<void> {
  const slow = sent
    .map((s, i) => ({ s, l: latencies[i]! }))
    .sort((a, b) => b.l - a.l)
    .slice(0, 2);
  for (const { s } of slow) {
    const ex = await sys.executions.get(s.executionId);
    console.log(
      s.executionId,
      ex!.events.map((e) => `${Date.parse(e.at) - s.t0}ms ${e.type} ${e.step ?? ''} ${e.detail ?? ''}`).join('\n  '),
    );
  }
}
