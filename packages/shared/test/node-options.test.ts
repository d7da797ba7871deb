import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { DEFAULT_WORKER_MEMORY_MIB, WORKER_NODE_OPTIONS, oldSpaceMiBFor, workerNodeOptions } from '../src/node-options.ts';

const execFileAsync = promisify(execFile);

/** V8's heap limit, in MiB, of a fresh Node process started with `nodeOptions` in NODE_OPTIONS. */
async function heapLimitMiB(nodeOptions: string): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, ['-e', "console.log(require('v8').getHeapStatistics().heap_size_limit)"], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  return Number(stdout.trim()) / 2 ** 20;
}

describe('workerNodeOptions (the worker outside its container)', () => {
  it("gives the worker the heap its default task gives it: half the task's memory, whatever the machine has", async function () {
    this.timeout(20_000);
    const oldSpace = oldSpaceMiBFor(DEFAULT_WORKER_MEMORY_MIB);
    expect(oldSpace).to.equal(1024);
    const limit = await heapLimitMiB(workerNodeOptions());
    // The old generation's limit plus the young generation's (2 × 4 MiB semi-spaces and their kin).
    expect(limit).to.be.within(oldSpace, oldSpace + 32);
    // The container's own options leave the heap to Node, which sizes it from the task's memory limit.
    expect(WORKER_NODE_OPTIONS.some((o) => o.startsWith('--max-old-space-size'))).to.equal(false);
  });

  it('keeps options it is handed, before its own', () => {
    expect(workerNodeOptions('--enable-source-maps').split(' ')).to.deep.equal([
      '--enable-source-maps',
      ...WORKER_NODE_OPTIONS,
      '--max-old-space-size=1024',
    ]);
  });
});
