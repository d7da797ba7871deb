import { expect } from 'chai';
import { awaitTask, sleep, useSimulator } from './helpers.ts';

describe('simulated export tasks', function () {
  this.timeout(30_000);
  const suite = useSimulator({ exportDelayMs: 400, slowExportDelayMs: 3000, rateLimit: { limit: 10_000, windowSeconds: 30 } }, 'exports');

  it('answers 202 with a task that is RUNNING for exportDelayMs, then SUCCEEDED with a download URL that needs no auth', async () => {
    const t0 = Date.now();
    const started = await suite.call('POST', '/exports', { id: 'etr_life1', format: 'pdf' });
    expect(started.status).to.equal(202);
    expect(started.body.taskId).to.be.a('string');
    expect((await suite.call('GET', `/tasks/${started.body.taskId}`)).body).to.deep.equal({ status: 'RUNNING' });

    const done = await awaitTask(suite.call, started.body.taskId);
    expect(Date.now() - t0).to.be.at.least(400);
    expect(done.body.status).to.equal('SUCCEEDED');
    const url = new URL(done.body.response.downloadURL);
    expect(url.origin).to.equal(suite.sim.url);
    expect(url.searchParams.get('X-Amz-Expires')).to.equal('86400');
    const download = await fetch(url); // no Authorization header, like a presigned S3 URL
    expect(download.status).to.equal(200);
    expect(download.headers.get('content-type')).to.match(/application\/zip/);
    expect(Number(download.headers.get('content-length'))).to.be.above(1000);
  });

  it('keeps etr_slow… tasks RUNNING for slowExportDelayMs', async () => {
    const started = await suite.call('POST', '/exports', { id: 'etr_slow_1' });
    await sleep(900); // well past exportDelayMs
    expect((await suite.call('GET', `/tasks/${started.body.taskId}`)).body.status).to.equal('RUNNING');
    const done = await awaitTask(suite.call, started.body.taskId);
    expect(done.body.status).to.equal('SUCCEEDED');
  });

  it('ends etr_fail… tasks FAILED with a message and no download', async () => {
    const started = await suite.call('POST', '/exports', { id: 'etr_fail_1', format: 'html' });
    const done = await awaitTask(suite.call, started.body.taskId);
    expect(done.body.status).to.equal('FAILED');
    expect(done.body.message).to.match(/etr_fail_1/);
    expect(done.body).to.not.have.property('response');
  });

  it('answers 404 for an unknown task and 400 for bad export requests', async () => {
    expect((await suite.call('GET', '/tasks/00000000-0000-0000-0000-000000000000')).status).to.equal(404);
    expect((await suite.call('POST', '/exports', { format: 'pdf' })).status).to.equal(400);
    expect((await suite.call('POST', '/exports', { id: 'etr_x', format: 'docx' })).status).to.equal(400);
    expect((await suite.call('POST', '/exports', { id: 'etr_x', extra: true })).status).to.equal(400);
    const missing = await suite.call('POST', '/exports', { id: 'etr_missing_9' });
    expect(missing.status).to.equal(400);
    expect(missing.body.error.invalidId).to.equal('etr_missing_9');
  });

  it('counts exports started per entry, and only accepted ones', async () => {
    for (let i = 0; i < 3; i++) await suite.call('POST', '/exports', { id: 'etr_counted' });
    await suite.call('POST', '/exports', { id: 'etr_counted', format: 'docx' });
    expect(suite.sim.state.exportsStartedFor('etr_counted')).to.equal(3);
    expect(suite.sim.state.exportsStartedFor('etr_never')).to.equal(0);
  });

  it('refuses a download URL with an unknown token like S3 does', async () => {
    const res = await fetch(`${suite.sim.url}/_sim/downloads/nope.zip?X-Amz-Expires=86400`);
    expect(res.status).to.equal(404);
    expect(await res.text()).to.match(/NoSuchKey/);
  });
});
