import { expect } from 'chai';
// Test-only reach into the simulator package (it depends on @bp/shared, not the other way round).
import { type Simulator, type SimulatorOptions, startSimulator } from '../../../benchling-sim/src/index.ts';
import { BenchlingClient, BenchlingNotFoundError, TenantBudget } from '../../src/benchling/index.ts';
import { captureLogger } from './helpers.ts';

/** The simulator books a request when its response closes, which can trail the client by a moment. */
const simSettled = () => new Promise((r) => setTimeout(r, 50));

describe('BenchlingClient against the Benchling simulator', function () {
  this.timeout(30_000);
  let sim: Simulator;

  async function start(options: SimulatorOptions = {}): Promise<BenchlingClient> {
    sim = await startSimulator({ exportDelayMs: 200, ...options });
    return new BenchlingClient({
      baseURL: sim.url,
      clientId: sim.options.clientId,
      clientSecret: sim.options.clientSecret,
      budget: new TenantBudget(),
      logger: captureLogger().logger,
      requestTimeoutMs: 5000,
      retry: { retries: 4, minTimeoutMs: 20, maxTimeoutMs: 200 },
    });
  }

  afterEach(async () => {
    await sim?.close();
  });

  it('reads an entry, exports it, polls the task to SUCCEEDED and gets a downloadable ZIP', async () => {
    const client = await start();
    const entry = await client.getEntry('etr_sim_1');
    expect(entry.id).to.equal('etr_sim_1');
    expect(entry.displayId).to.be.a('string').and.not.equal('');

    const taskId = await client.startExport('etr_sim_1');
    let task = await client.getTask(taskId);
    for (let polls = 0; task.status === 'RUNNING' && polls < 100; polls++) {
      await new Promise((r) => setTimeout(r, 100));
      task = await client.getTask(taskId);
    }
    expect(task.status).to.equal('SUCCEEDED');
    expect(task.downloadURL).to.be.a('string');
    const zip = await fetch(task.downloadURL!);
    expect(zip.status).to.equal(200);
    expect(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 2)
        .toString('latin1'),
    ).to.equal('PK');
  });

  it('reports a failed export task with its message', async () => {
    const client = await start();
    const taskId = await client.startExport('etr_fail_1', 'html');
    let task = await client.getTask(taskId);
    for (let polls = 0; task.status === 'RUNNING' && polls < 100; polls++) {
      await new Promise((r) => setTimeout(r, 100));
      task = await client.getTask(taskId);
    }
    expect(task.status).to.equal('FAILED');
    expect(task.message).to.be.a('string').and.not.equal('');
  });

  it('creates an app session, a canvas showing it, patches the canvas and completes the session', async () => {
    const client = await start();
    const appId = sim.options.appId;
    const session = await client.createAppSession({ appId, name: 'Quilt packaging', timeoutSeconds: 600 });
    const blocks = [
      { type: 'MARKDOWN' as const, id: 'status', value: 'Packaging…' },
      { type: 'BUTTON' as const, id: 'update', text: 'Update package', enabled: false },
    ];
    const canvas = await client.createCanvas({ appId, featureId: 'quilt_entry', resourceId: 'etr_sim_2', blocks, sessionId: session.id });
    expect(canvas.id).to.match(/^cnvs_/);

    const done = [{ type: 'MARKDOWN' as const, id: 'status', value: 'Published **acme/etr_sim_2**' }];
    await client.updateCanvas(canvas.id, { blocks: done, enabled: true });
    expect((await client.getCanvas(canvas.id)).blocks).to.deep.equal(done);

    await client.updateAppSession(session.id, { messages: [{ content: 'Package published', style: 'SUCCESS' }], status: 'SUCCEEDED' });
    expect(sim.state.sessions.get(session.id)?.current.status).to.equal('SUCCEEDED');
    expect(sim.state.canvases.get(canvas.id)?.history).to.have.length(2);
  });

  it('gets a new token by itself when the simulator expires every token', async () => {
    const client = await start();
    await client.getEntry('etr_sim_3');
    sim.expireTokens();
    await client.getEntry('etr_sim_3');
    expect(sim.state.tokensIssued).to.equal(2);
  });

  it('fails at once with BenchlingNotFound for a missing entry', async () => {
    const client = await start();
    const err = await client.getEntry('etr_missing_1').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BenchlingNotFoundError);
    await simSettled();
    expect(sim.state.requestsTo('GET /api/v2/entries/{id}')).to.equal(1);
  });

  it('retries injected 503s and a 429, waiting out its x-rate-limit-reset', async () => {
    const client = await start();
    sim.faults.add({ path: '^/api/v2/entries', status: 503, count: 2 });
    await client.getEntry('etr_sim_4');
    await simSettled();
    expect(sim.state.requestsTo('GET /api/v2/entries/{id}')).to.equal(3);

    sim.faults.add({ path: '^/api/v2/exports', status: 429, count: 1, resetSeconds: 1 });
    const started = Date.now();
    await client.startExport('etr_sim_4');
    expect(Date.now() - started).to.be.at.least(1000);
    await simSettled();
    expect(sim.state.requestsTo('POST /api/v2/exports')).to.equal(2);
  });

  it('keeps 12 concurrent calls inside a budget of 5 per 2 s instead of collecting 429s', async () => {
    const client = await start({ rateLimit: { limit: 5, windowSeconds: 2 } });
    const started = Date.now();
    const entries = await Promise.all(Array.from({ length: 12 }, (_, i) => client.getEntry(`etr_sim_burst_${i}`)));
    expect(entries).to.have.length(12);
    expect(sim.state.rateLimited).to.equal(0);
    // 1 token + 12 entries = 13 requests: three windows, so about two resets of ≤ 2 s each, not more.
    expect(Date.now() - started).to.be.within(3000, 7000);
  });
});
