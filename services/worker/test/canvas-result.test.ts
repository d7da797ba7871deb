import { expect } from 'chai';
import { entryKey, type JobMessage } from '@bp/shared';
import type { Published } from '../src/steps/publish.ts';
import { receiveThroughPolls, useWorker } from './support/worker-suite.ts';

const TENANT = 'ten_canvas_result';
const MAX_RECEIVES = 3;

/**
 * The last step shows the published package on the entry's canvas. The package is the product:
 * what happens to the canvas must not change what the entry's latest package is.
 * Against fauxqs, DynamoDB Local and the Benchling simulator.
 */
describe('showing the result on the canvas, after the package is published', function () {
  this.timeout(60_000);
  // Quick in-process retries: the second test fails every canvas update through every receive.
  const suite = useWorker('canvasresult', {
    sim: { exportDelayMs: 0, tenantId: TENANT },
    maxReceiveCount: MAX_RECEIVES,
    benchlingRetry: { retries: 1, minTimeoutMs: 20, maxTimeoutMs: 50 },
  });
  let n = 0;

  afterEach(() => suite.sim.faults.clear());

  /** A button click on a new canvas of a new entry: the job, and the entry's key. */
  async function click(): Promise<{ job: JobMessage; key: string; canvasId: string }> {
    const entryId = `etr_canvas_result_${++n}`;
    const { job, canvasId } = await suite.buttonJob(TENANT, entryId);
    return { job, key: entryKey(TENANT, entryId), canvasId };
  }

  /** Runs a job's receive as the worker would, through export polls. */
  const receive = async (job: JobMessage, receiveCount: number) =>
    (await receiveThroughPolls(suite.deps, JSON.stringify(job), receiveCount)).outcome;

  it('succeeds when the scientist removed the canvas meanwhile, and the entry’s latest package is recorded', async () => {
    const { job, key, canvasId } = await click();
    // Every update of the canvas now answers 404, as for a canvas that was deleted.
    suite.sim.faults.add({ path: `^/api/v2/app-canvases/${canvasId}$`, method: 'PATCH', status: 404 });
    expect(await receive(job, 1)).to.deep.equal({ action: 'done' });
    const done = (await suite.deps.executions.get(job.executionId))!;
    expect(done.status).to.equal('SUCCEEDED');
    expect(done.outputs['update-canvas']).to.deep.equal({ canvasId, skipped: 'the canvas no longer exists' });
    expect((await suite.deps.entries.get(key))?.lastPublished?.executionId).to.equal(job.executionId);
  });

  it('records the entry’s latest package even when showing it fails for good on the last receive', async () => {
    const { job, key, canvasId } = await click();
    // Benchling refuses every canvas update (503) through every receive.
    suite.sim.faults.add({ path: `^/api/v2/app-canvases/${canvasId}$`, method: 'PATCH', status: 503 });
    for (let receiveCount = 1; receiveCount < MAX_RECEIVES; receiveCount++)
      expect((await receive(job, receiveCount)).action).to.equal('retry');
    expect(await receive(job, MAX_RECEIVES), 'on to the DLQ').to.deep.equal({ action: 'retry', delaySeconds: 0 });
    const failed = (await suite.deps.executions.get(job.executionId))!;
    expect(failed).to.deep.include({ status: 'FAILED' });
    expect(failed.lastError).to.include({ step: 'update-canvas' });
    const published = failed.outputs.publish as Published;
    expect((await suite.deps.entries.get(key))?.lastPublished, 'the package exists: it is the entry’s latest').to.deep.include({
      executionId: job.executionId,
      packageName: published.packageName,
    });
  });
});
