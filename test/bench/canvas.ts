/**
 * `pnpm bench canvas [--json]`: how quickly a click on the entry canvas is answered — from the
 * signed `v2.canvas.userInteracted` webhook leaving the simulator to the canvas PATCH the worker
 * sends back arriving in it — through the real ingress, queue and 2 worker fleets. One scientist
 * clicks through main → browse → folder → pages → metadata → versions, one click at a time.
 * The bench checks its own workload: every click must be answered 202 and lead to the view it
 * asks for; otherwise it prints INVALID and exits non-zero. Target: p95 under 1 s locally.
 */
import { stopSharedLocalAws } from '@bp/local-stack/testing';
import { startSystem } from '../support/system.ts';
import { CanvasDriver } from '../support/canvas.ts';

/** The click cycle and what each click must show (view, page). */
const CYCLE: Array<[string, { view: string; page?: number; dir?: string }]> = [
  ['nav:files', { view: 'files', page: 1, dir: '' }],
  ['nav:dir:0', { view: 'files', page: 1, dir: 'attachments/' }],
  ['nav:files:2', { view: 'files', page: 2, dir: 'attachments/' }],
  ['nav:files:3', { view: 'files', page: 3, dir: 'attachments/' }],
  ['nav:files:4', { view: 'files', page: 4, dir: 'attachments/' }],
  ['nav:main', { view: 'main' }],
  ['nav:metadata', { view: 'metadata' }],
  ['nav:main', { view: 'main' }],
  ['nav:versions', { view: 'versions' }],
  ['nav:main', { view: 'main' }],
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runCanvasBench(): Promise<void> {
  const json = process.argv.includes('--json');
  const clicks = Number(process.env.BENCH_CANVAS_CLICKS ?? 60);
  const warmup = CYCLE.length;
  const sys = await startSystem({
    label: 'bench-canvas',
    workers: 2,
    sim: { exportDelayMs: 0, rateLimit: { limit: 100_000, windowSeconds: 30 } },
  });
  const problems: string[] = [];
  const latencies: number[] = [];
  try {
    const c = new CanvasDriver(sys, 'etr_files57_bench');
    const canvasId = await c.init();
    const run = await c.update();
    if (run.status !== 'SUCCEEDED')
      throw new Error(`the packaging the bench browses ended ${run.status}: ${JSON.stringify(run.lastError)}`);
    const versions = () => sys.sim.state.canvases.get(canvasId)!.history.length;
    for (let i = 0; i < warmup + clicks; i++) {
      const [buttonId, want] = CYCLE[i % CYCLE.length]!;
      const before = versions();
      const t0 = performance.now();
      const r = await c.send({ type: 'v2.canvas.userInteracted', canvasId, buttonId, featureId: 'quilt_entry', userId: 'ent_bench' });
      if (r.status !== 202) {
        problems.push(`click ${i} (${buttonId}) answered ${r.status}`);
        continue;
      }
      const deadline = Date.now() + 15_000;
      while (versions() === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 2));
      const ms = performance.now() - t0;
      if (versions() === before) {
        problems.push(`click ${i} (${buttonId}): the canvas was not updated within 15 s`);
        continue;
      }
      const shown = JSON.parse(c.now().data ?? '{}') as { view?: string; page?: number; dir?: string };
      const wrong = Object.entries(want).filter(([k, v]) => shown[k as keyof typeof shown] !== v);
      if (wrong.length > 0) problems.push(`click ${i} (${buttonId}) showed ${JSON.stringify(shown)}, expected ${JSON.stringify(want)}`);
      if (i >= warmup) latencies.push(ms);
      // Let the execution record settle so the next click is not queued behind this one's bookkeeping.
      await sys.waitForExecution(String(r.json.executionId));
    }
  } finally {
    await sys.stop();
    await stopSharedLocalAws();
  }
  if (problems.length > 0) {
    console.log(`INVALID: ${problems.length} clicks were not answered as expected:\n  ${problems.slice(0, 10).join('\n  ')}`);
    if (json) console.log(JSON.stringify({ clickToUpdateP95Ms: null, invalid: problems.length }));
    process.exit(1);
  }
  latencies.sort((a, b) => a - b);
  const p50 = Math.round(pct(latencies, 50));
  const p95 = Math.round(pct(latencies, 95));
  console.log(`\ncanvas: click → canvas updated, ${latencies.length} clicks (after ${warmup} warm-up), 2 workers × 4 slots\n`);
  console.log('| clicks | p50 | p95 | max | target p95 |');
  console.log('|---|---|---|---|---|');
  console.log(`| ${latencies.length} | ${p50} ms | ${p95} ms | ${Math.round(latencies.at(-1)!)} ms | < 1000 ms |`);
  if (json) console.log(JSON.stringify({ clickToUpdateP95Ms: p95, clickToUpdateP50Ms: p50, clicks: latencies.length }));
}
