import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { WORKER_NODE_OPTIONS } from '@bp/shared/node-options';
import { DEAD_CHUNK_BYTES, deadChunkCollector } from '../../src/transfer/dead-chunks.ts';

const execFileAsync = promisify(execFile);

describe('deadChunkCollector (a scavenge every few MiB of download)', () => {
  it('runs a minor collection each time the chunks it was told of reach its threshold, and not before', () => {
    const calls: unknown[] = [];
    const collect = deadChunkCollector((o) => calls.push(o), 1000);
    collect(999);
    expect(calls, 'below the threshold').to.have.length(0);
    collect(1);
    expect(calls).to.deep.equal([{ type: 'minor' }]);
    for (let i = 0; i < 25; i++) collect(100);
    expect(calls, '2,500 bytes more: two more thresholds passed').to.have.length(3);
  });

  it('does nothing where Node exposes no collector', () => {
    const collect = deadChunkCollector(undefined);
    for (let i = 0; i < 4; i++) collect(DEAD_CHUNK_BYTES);
  });

  it("is active under the worker's Node options, and what it runs is a minor collection", async function () {
    this.timeout(30_000);
    // A process started as the worker is: its options, the product's module; a GC entry that
    // starts within the call must be there, and be minor.
    const module = fileURLToPath(new URL('../../src/transfer/dead-chunks.ts', import.meta.url));
    const script = `
      import { PerformanceObserver, performance, constants } from 'node:perf_hooks';
      const { collectDeadChunks, DEAD_CHUNK_BYTES } = await import(${JSON.stringify(module)});
      const entries = [];
      const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
      observer.observe({ entryTypes: ['gc'] });
      const t0 = performance.now();
      collectDeadChunks(DEAD_CHUNK_BYTES - 1);
      const t1 = performance.now();
      collectDeadChunks(1);
      const t2 = performance.now();
      await new Promise((r) => setTimeout(r, 100));
      const within = (a, b) => entries.filter((e) => e.startTime >= a && e.startTime <= b);
      const kind = (e) => (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : 'other');
      console.log(JSON.stringify({ below: within(t0, t1).map(kind), at: within(t1, t2).map(kind) }));
    `;
    const { stdout } = await execFileAsync(process.execPath, [
      ...WORKER_NODE_OPTIONS,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as { below: string[]; at: string[] };
    expect(seen.below, 'no collection below the threshold').to.deep.equal([]);
    expect(seen.at, 'one minor collection at the threshold').to.deep.equal(['minor']);
  });
});
