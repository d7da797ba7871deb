import { expect } from 'chai';
import { FaultController } from '../src/index.ts';
import { sleep, useSimulator } from './helpers.ts';

describe('fault injection', function () {
  this.timeout(30_000);
  const suite = useSimulator({ rateLimit: { limit: 10_000, windowSeconds: 30 } });
  afterEach(() => suite.sim.faults.clear());

  it('answers the given status to the next `count` matching requests, then behaves again', async () => {
    suite.sim.faults.add({ path: '^/api/v2/entries/', status: 503, count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await suite.call('GET', '/entries/etr_f1')).status);
    expect(statuses).to.deep.equal([503, 503, 200]);
    expect(suite.sim.state.faultsInjected).to.be.at.least(2);
  });

  it('matches on method and path, leaving other requests alone', async () => {
    suite.sim.faults.add({ path: '^/api/v2/exports$', method: 'POST', status: 500 });
    expect((await suite.call('POST', '/exports', { id: 'etr_f2' })).status).to.equal(500);
    expect((await suite.call('GET', '/entries/etr_f2')).status).to.equal(200);
  });

  it('sends rate-limit headers with an injected 429', async () => {
    suite.sim.faults.add({ path: '^/api/v2/exports$', status: 429, resetSeconds: 7, count: 1 });
    const r = await suite.call('POST', '/exports', { id: 'etr_f3' });
    expect(r.status).to.equal(429);
    expect(r.headers.get('x-rate-limit-reset')).to.equal('7');
    expect(r.headers.get('x-rate-limit-remaining')).to.equal('0');
    expect(r.body.error.message).to.equal('Rate limit exceeded.');
  });

  it('stops after forMs', async () => {
    suite.sim.faults.add({ path: '^/api/v2/entries/', status: 500, forMs: 300 });
    expect((await suite.call('GET', '/entries/etr_f4')).status).to.equal(500);
    await sleep(350);
    expect((await suite.call('GET', '/entries/etr_f4')).status).to.equal(200);
    expect(suite.sim.faults.list()).to.deep.equal([]);
  });

  it('holds a request for delayMs, so a client with a shorter timeout gives up', async () => {
    suite.sim.faults.add({ path: '^/api/v2/entries/', delayMs: 1500, count: 1 });
    const t0 = Date.now();
    const err = await fetch(`${suite.sim.url}/api/v2/entries/etr_f5`, { signal: AbortSignal.timeout(200) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.name).to.equal('TimeoutError');
    expect(Date.now() - t0).to.be.below(1000);
    // Without a status the held request is answered normally after the delay.
    suite.sim.faults.add({ path: '^/api/v2/entries/', delayMs: 300, count: 1 });
    const t1 = Date.now();
    expect((await suite.call('GET', '/entries/etr_f5')).status).to.equal(200);
    expect(Date.now() - t1).to.be.at.least(290);
  });

  it('closes the socket without an answer', async () => {
    suite.sim.faults.add({ path: '^/_sim/downloads/', closeSocket: true, count: 1 });
    const err = await fetch(`${suite.sim.url}/_sim/downloads/x.zip`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, 'fetch should fail').to.be.instanceOf(Error);
    expect(suite.sim.state.requestLog.at(-1)).to.include({ path: '/_sim/downloads/x.zip', status: 0 });
  });

  it('is controllable over HTTP: POST /_sim/faults adds, GET lists, DELETE clears', async () => {
    const add = await fetch(`${suite.sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '^/api/v2/tasks/', status: 503 }),
    });
    expect(add.status).to.equal(201);
    expect((await suite.call('GET', '/tasks/t1')).status).to.equal(503);
    const listed = (await (await fetch(`${suite.sim.url}/_sim/faults`)).json()) as { faults: unknown[] };
    expect(listed.faults).to.have.length(1);
    expect((await fetch(`${suite.sim.url}/_sim/faults`, { method: 'DELETE' })).status).to.equal(204);
    expect((await suite.call('GET', '/tasks/t1')).status).to.equal(404);
    const bad = await fetch(`${suite.sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 200 }),
    });
    expect(bad.status).to.equal(400);
  });

  it('flips a seeded coin when probability < 1: same seed, same sequence', () => {
    const run = () => {
      const f = new FaultController();
      f.add({ status: 500, probability: 0.5, seed: 42 });
      return Array.from({ length: 40 }, () => (f.take('GET', '/api/v2/entries/x') ? 1 : 0));
    };
    const a = run();
    expect(a).to.deep.equal(run());
    const hits = a.reduce<number>((s, x) => s + x, 0);
    expect(hits).to.be.within(8, 32);
  });
});
