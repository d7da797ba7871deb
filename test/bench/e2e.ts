/**
 * `pnpm bench e2e`: webhook → revision published for 50 small entries with an instant export,
 * p50 and p95, through the whole system (simulator, ingress, 2 worker fleets × 4 slots, emulators).
 * Target (reported): p50 under 2 s — the export polling, not a fixed wait, decides.
 */
import { stopSharedLocalAws } from '@bp/local-stack/testing';
import { startSystem } from '../support/system.ts';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runE2eBench(): Promise<void> {
  const count = Number(process.env.BENCH_E2E_ENTRIES ?? 50);
  const ratePerSecond = Number(process.env.BENCH_E2E_RATE ?? 5);
  const sys = await startSystem({ label: 'bench-e2e', workers: 2, sim: { exportDelayMs: 0, rateLimit: { limit: 100_000, windowSeconds: 30 } } });
  try {
    const sent: Array<{ executionId: string; t0: number }> = [];
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / ratePerSecond;
      if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
      const t0 = Date.now();
      const r = await sys.send({ type: 'v2.entry.created', entryId: `etr_bench_e2e_${i}` });
      if (r.status !== 202) throw new Error(`webhook ${i} answered ${r.status}`);
      sent.push({ executionId: String(r.json.executionId), t0 });
    }
    const latencies: number[] = [];
    let failed = 0;
    for (const s of sent) {
      const ex = await sys.waitForExecution(s.executionId, { timeoutMs: 60_000 });
      if (ex.status !== 'SUCCEEDED') failed++;
      latencies.push(Date.parse(ex.finishedAt!) - s.t0);
    }
    if (process.env.BENCH_E2E_TRACE) {
      const slow = [...sent].map((s, i) => ({ s, l: latencies[i]! })).sort((a, b) => b.l - a.l).slice(0, 2);
      for (const { s } of slow) {
        const ex = await sys.executions.get(s.executionId);
        console.log(s.executionId, ex!.events.map((e) => `${Date.parse(e.at) - s.t0}ms ${e.type} ${e.step ?? ''} ${e.detail ?? ''}`).join('\n  '));
      }
    }
    latencies.sort((a, b) => a - b);
    console.log(`\ne2e: webhook → revision published, ${count} entries at ${ratePerSecond}/s, instant export, 2 workers × 4 slots\n`);
    console.log('| entries | succeeded | p50 | p95 | max | target p50 |');
    console.log('|---|---|---|---|---|---|');
    console.log(`| ${count} | ${count - failed} | ${pct(latencies, 50)} ms | ${pct(latencies, 95)} ms | ${latencies.at(-1)} ms | < 2000 ms |`);
  } finally {
    await sys.stop();
    await stopSharedLocalAws();
  }
}
