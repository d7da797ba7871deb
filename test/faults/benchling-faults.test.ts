import { expect } from 'chai';
import type { ExecutionRecord } from '@bp/shared';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { printTable, seconds } from '../support/faults/report.ts';

/** How long Benchling misbehaves. */
const FAULT_WINDOW_MS = 8000;

function durationMs(e: ExecutionRecord): number {
  return Date.parse(e.finishedAt!) - Date.parse(e.createdAt);
}

describe('Benchling answering 429, 500, cut connections and a hung request for a while', function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  before(async function () {
    this.timeout(60_000);
    sys = await startSystem({
      label: 'benchfaults',
      workers: 2,
      sim: { exportDelayMs: 300, rateLimit: { limit: 1_000_000, windowSeconds: 30 } },
    });
  });
  after(async () => sys?.stop());

  it('slows executions down, then every one succeeds; none is lost', async () => {
    // Baseline without faults.
    const baseline = await Promise.all([1, 2, 3].map((i) => sys.send({ type: 'v2.entry.created', entryId: `etr_bf_base${i}` })));
    const baseExecs = await Promise.all(baseline.map((r) => sys.waitForExecution(String(r.json.executionId), { timeoutMs: 30_000 })));
    expect(baseExecs.map((e) => e.status)).to.deep.equal(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const statusesBefore = new Map(sys.sim.state.statusCounts);
    const cutBefore = sys.sim.state.requestLog.filter((l) => l.status === 0).length;

    // Each kind of fault hits its first few requests (so every kind surely happens, whatever the
    // timing), and 429s hit a seeded 40 % of reads for a while. The newest matching rule wins.
    sys.sim.faults.add({
      path: '^/api/v2/(entries|tasks)/',
      status: 429,
      probability: 0.4,
      resetSeconds: 1,
      seed: 11,
      forMs: FAULT_WINDOW_MS,
    });
    sys.sim.faults.add({ path: '^/api/v2/token$', status: 429, resetSeconds: 1, count: 2 });
    sys.sim.faults.add({ path: '^/api/v2/exports$', method: 'POST', status: 500, count: 3 });
    sys.sim.faults.add({ path: '^/api/v2/tasks/', closeSocket: true, count: 3 });
    sys.sim.faults.add({ path: '^/_sim/downloads/', status: 503, count: 3 });
    // One request hangs past the client's 15 s timeout.
    sys.sim.faults.add({ path: '^/api/v2/entries/', delayMs: 20_000, count: 1 });

    const sent = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((i) => sys.send({ type: 'v2.entry.created', entryId: `etr_bf_fault${i}` })),
    );
    expect(sent.map((r) => r.status)).to.deep.equal(Array(8).fill(202));
    const execs = await Promise.all(sent.map((r) => sys.waitForExecution(String(r.json.executionId), { timeoutMs: 90_000 })));

    const injected = (status: number) => (sys.sim.state.statusCounts.get(status) ?? 0) - (statusesBefore.get(status) ?? 0);
    const cut = sys.sim.state.requestLog.filter((l) => l.status === 0).length - cutBefore;
    const retried = execs.filter((e) => e.attempts > 1 || e.events.some((ev) => ev.type === 'StepFailed'));
    printTable(
      'Benchling faults',
      ['what', 'value'],
      [
        ['injected 429 / 500 / 503 answers', `${injected(429)} / ${injected(500)} / ${injected(503)}`],
        ['connections cut or timed out', cut],
        ['executions', execs.length],
        ['SUCCEEDED', execs.filter((e) => e.status === 'SUCCEEDED').length],
        ['needed a second receive (visibility backoff)', retried.length],
        ['slowest without faults (s)', seconds(Math.max(...baseExecs.map(durationMs)))],
        ['slowest with faults (s)', seconds(Math.max(...execs.map(durationMs)))],
      ],
    );

    expect(execs.map((e) => `${e.entryId} ${e.status}`)).to.deep.equal(sent.map((_, i) => `etr_bf_fault${i + 1} SUCCEEDED`));
    expect(injected(429), '429s injected').to.be.greaterThan(0);
    expect(injected(500), '500s injected').to.be.greaterThan(0);
    expect(injected(503), '503s injected on downloads').to.be.greaterThan(0);
    expect(cut, 'connections cut (closeSocket and the hung request)').to.be.greaterThan(0);
    // The hung request cost one execution at least the client's 15 s timeout.
    expect(Math.max(...execs.map(durationMs))).to.be.greaterThan(15_000);
    expect(Math.max(...execs.map(durationMs))).to.be.greaterThan(Math.max(...baseExecs.map(durationMs)));
    // Injected faults answer before the simulator acts, so each export started exactly once:
    // retries resumed from the checkpoint, they did not start the export again.
    for (let i = 1; i <= 8; i++) expect(sys.sim.state.exportsStartedFor(`etr_bf_fault${i}`), `etr_bf_fault${i}`).to.equal(1);
  });
});
