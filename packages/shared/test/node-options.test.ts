import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  DEFAULT_WORKER_MEMORY_MIB,
  WORKER_NODE_OPTIONS,
  oldSpaceMiBFor,
  semiSpaceMiBFor,
  taskHeapOptions,
  taskNodeOptions,
  workerNodeOptions,
} from '../src/node-options.ts';

const execFileAsync = promisify(execFile);

/** V8's heap limit, in MiB, of a fresh Node process started with `nodeOptions` in NODE_OPTIONS. */
async function heapLimitMiB(nodeOptions: string): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, ['-e', "console.log(require('v8').getHeapStatistics().heap_size_limit)"], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  return Number(stdout.trim()) / 2 ** 20;
}

describe('taskHeapOptions (a process outside its task, on the heap its task gives it)', () => {
  it("gives the default task's heap: 1,024 MiB old generation and 8 MiB semi-spaces, whatever the machine has", async function () {
    this.timeout(20_000);
    expect(oldSpaceMiBFor(DEFAULT_WORKER_MEMORY_MIB)).to.equal(1024);
    expect(taskHeapOptions()).to.deep.equal(['--max-old-space-size=1024', '--max-semi-space-size=8']);
    // What a bare `node` reports in a 2 GiB memory cgroup (Node 20.20.2): 1,024 old + 3 × 8 young.
    expect(await heapLimitMiB(taskHeapOptions().join(' '))).to.equal(1048);
  });

  it('taskNodeOptions keeps options it is handed, before the heap, so the heap wins', () => {
    expect(taskNodeOptions('--enable-source-maps --max-old-space-size=4096').split(' ')).to.deep.equal([
      '--enable-source-maps',
      '--max-old-space-size=4096',
      ...taskHeapOptions(),
    ]);
    expect(taskNodeOptions()).to.equal(taskHeapOptions().join(' '));
  });

  it("follows Node's own sizing in tasks of other sizes (measured in memory cgroups)", () => {
    // heap_size_limit of a bare `node` in a cgroup of 512 MiB, 1, 2, 4 and 8 GiB: 259, 524, 1,048, 2,096, 2,096 MiB.
    const tasks = [512, 1024, 2048, 4096, 8192];
    expect(tasks.map(oldSpaceMiBFor)).to.deep.equal([256, 512, 1024, 2048, 2048]);
    expect(tasks.map((m) => semiSpaceMiBFor(oldSpaceMiBFor(m)))).to.deep.equal([1, 4, 8, 16, 16]);
    expect(oldSpaceMiBFor(24 * 1024)).to.equal(4096);
  });
});

describe('workerNodeOptions (the worker outside its container)', () => {
  it("gives the worker the heap its default task gives it: half the task's memory, whatever the machine has", async function () {
    this.timeout(20_000);
    const limit = await heapLimitMiB(workerNodeOptions());
    // The old generation's limit plus the young generation's (3 × 8 MiB: two semi-spaces and new large objects).
    expect(limit).to.equal(1048);
    // The container's own options leave the old generation to Node, which sizes it from the task's memory limit.
    expect(WORKER_NODE_OPTIONS.some((o) => o.startsWith('--max-old-space-size'))).to.equal(false);
  });

  it('keeps options it is handed, before the heap and its own, so the heap wins', () => {
    expect(workerNodeOptions('--enable-source-maps --max-old-space-size=4096').split(' ')).to.deep.equal([
      '--enable-source-maps',
      '--max-old-space-size=4096',
      ...taskHeapOptions(),
      ...WORKER_NODE_OPTIONS,
    ]);
  });
});
