import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type AwsClients, resourceNamesFromEnv } from '@bp/shared';
import { generateSigningKey } from '@bp/benchling-sim/signing';
import { freePort } from '@bp/local-stack';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type JwksServer, startJwksServer } from './support/jwks-server.ts';
import { inspectionClients, type RunningIngress, startIngress } from './support/ingress.ts';
import { drainJobs, enqueuedRecord, getItem, scanAll } from './support/queue.ts';
import { dedupeKeyOf, deliver, entryUpdated, type SignedDelivery, signed } from './support/webhooks.ts';

/** A TCP server that accepts connections and never answers: the worst kind of outage. */
async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('ingress: when a dependency is down it answers 503 in time and leaves nothing behind', () => {
  const key = generateSigningKey('kid-1');
  let env: Record<string, string>;
  let names: ReturnType<typeof resourceNamesFromEnv>;
  let jwks: JwksServer;
  let healthy: RunningIngress;
  let inspect: AwsClients;
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>;
  const started: RunningIngress[] = [];

  const ingressWith = async (overrides: Record<string, string>): Promise<RunningIngress> => {
    const i = await startIngress({ ...env, BENCHLING_JWKS_URL: jwks.url, ...overrides });
    started.push(i);
    return i;
  };

  before(async function () {
    this.timeout(120_000);
    env = await isolatedEnv('failures');
    names = resourceNamesFromEnv(env);
    jwks = await startJwksServer([key]);
    blackhole = await startBlackhole();
    healthy = await ingressWith({});
    inspect = inspectionClients(env);
    await deliver(healthy.url, signed([key], entryUpdated())); // warm DynamoDB Local up
    await drainJobs(inspect, names.jobsQueueUrl);
  });
  after(async () => {
    for (const i of started) await i.close();
    await jwks?.close();
    await blackhole?.close();
    inspect?.destroy();
  });

  async function expectNothingLeftFor(d: SignedDelivery): Promise<void> {
    const { webhookId } = d;
    expect(await getItem(inspect, names.dedupeTable, { webhookId: dedupeKeyOf(d) })).to.equal(undefined);
    const executions = await scanAll(inspect, names.executionsTable);
    expect(executions.filter((e) => (e.trigger as { webhookId: string }).webhookId === webhookId)).to.deep.equal([]);
    expect((await drainJobs(inspect, names.jobsQueueUrl)).filter((j) => j.trigger.webhookId === webhookId)).to.deep.equal([]);
  }

  it('answers 503 when the jobs queue does not exist, removes its records, and the retry starts clean', async () => {
    const broken = await ingressWith({ JOBS_QUEUE_URL: `${env.JOBS_QUEUE_URL}-missing` });
    const d = signed([key], entryUpdated());
    const res = await deliver(broken.url, d);
    expect(res.status).to.equal(503);
    expect(res.json).to.deep.include({ error: 'unavailable', code: 'QueueUnavailable' });
    expect(Number(res.headers.get('retry-after'))).to.be.at.least(1);
    expect(res.ms).to.be.below(3000);
    await expectNothingLeftFor(d);

    const retry = await deliver(healthy.url, d);
    expect(retry.status).to.equal(202);
    const jobs = await drainJobs(inspect, names.jobsQueueUrl);
    expect(jobs.map((j) => j.executionId)).to.deep.equal([retry.json.executionId]);
  });

  it('answers 503 when nothing listens on the SQS endpoint, leaving no dedupe or execution item', async () => {
    const broken = await ingressWith({ AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${await freePort()}` });
    const d = signed([key], entryUpdated());
    const res = await deliver(broken.url, d);
    expect(res.status).to.equal(503);
    expect(res.ms).to.be.below(3000);
    await expectNothingLeftFor(d);
  });

  it('answers 503 within 3 s when SQS hangs, and the retry re-sends under the same executionId', async () => {
    const broken = await ingressWith({ AWS_ENDPOINT_URL_SQS: blackhole.url });
    const d = signed([key], entryUpdated());
    const res = await deliver(broken.url, d);
    expect(res.status).to.equal(503);
    expect(res.ms).to.be.below(3000);
    // SQS may have taken the message before going silent, so the records stay, ready for takeover.
    const pending = await getItem(inspect, names.dedupeTable, { webhookId: dedupeKeyOf(d) });
    expect(pending).to.deep.include({ state: 'PENDING', pendingUntil: 0 });

    const retry = await deliver(healthy.url, d);
    expect(retry.status).to.equal(202);
    expect(retry.json.executionId).to.equal(pending!.executionId);
    expect(await enqueuedRecord(inspect, names.dedupeTable, dedupeKeyOf(d))).to.deep.include({ state: 'ENQUEUED' });
    const jobs = await drainJobs(inspect, names.jobsQueueUrl);
    expect(jobs.map((j) => j.executionId)).to.deep.equal([pending!.executionId]);
  });

  it('answers 503 quickly when nothing listens on the DynamoDB endpoint, enqueuing nothing', async () => {
    const broken = await ingressWith({ AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}` });
    const d = signed([key], entryUpdated());
    const res = await deliver(broken.url, d);
    expect(res.status).to.equal(503);
    expect(res.json).to.deep.include({ code: 'DedupeUnavailable' });
    expect(res.ms).to.be.below(3000);
    await expectNothingLeftFor(d);
  });

  it('answers 503 within 3 s when DynamoDB hangs', async () => {
    const broken = await ingressWith({ AWS_ENDPOINT_URL_DYNAMODB: blackhole.url });
    const d = signed([key], entryUpdated());
    const res = await deliver(broken.url, d);
    expect(res.status).to.equal(503);
    expect(res.ms).to.be.below(3000);
    await expectNothingLeftFor(d);
  });

  it('reports ready with every check passing while the dependencies are up', async () => {
    const res = await fetch(`${healthy.url}/health/ready`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ready', failing: [] });
    expect((await fetch(`${healthy.url}/health/live`)).status).to.equal(200);
  });

  it('reports not ready, naming the failed checks, when DynamoDB hangs or SQS is missing', async () => {
    const noDb = await ingressWith({ AWS_ENDPOINT_URL_DYNAMODB: blackhole.url });
    const noQueue = await ingressWith({ JOBS_QUEUE_URL: `${env.JOBS_QUEUE_URL}-missing` });
    const started = performance.now();
    const [dbRes, queueRes] = await Promise.all([fetch(`${noDb.url}/health/ready`), fetch(`${noQueue.url}/health/ready`)]);
    expect(performance.now() - started).to.be.below(3000);
    // Strangers learn which checks failed, by name, and nothing else (details: /health/ready/details).
    expect(dbRes.status).to.equal(503);
    expect(await dbRes.json()).to.deep.equal({ status: 'not_ready', failing: ['dedupeTable', 'executionsTable'] });
    expect(queueRes.status).to.equal(503);
    expect(await queueRes.json()).to.deep.equal({ status: 'not_ready', failing: ['jobsQueue'] });
    // Liveness is about the process, not its dependencies.
    expect((await fetch(`${noDb.url}/health/live`)).status).to.equal(200);
  });

  it('answers 503 (not 401) and reports not ready while no signing key could be fetched', async () => {
    const noKeys = await ingressWith({ BENCHLING_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks` });
    const res = await deliver(noKeys.url, signed([key], entryUpdated()));
    expect(res.status).to.equal(503);
    expect(res.json.reason).to.equal('no_keys');
    expect(res.ms).to.be.below(3000);
    const ready = await fetch(`${noKeys.url}/health/ready`);
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.deep.equal({ status: 'not_ready', failing: ['jwks'] });
  });

  it('does not wait on a slow JWKS: an unknown signature is rejected within the budget', async () => {
    const i = await ingressWith({});
    jwks.setDelay(5000);
    try {
      const res = await deliver(i.url, signed([generateSigningKey('rotated')], entryUpdated()));
      expect(res.status).to.equal(401);
      expect(res.ms).to.be.below(1500);
      // Cached keys still work while the JWKS is slow.
      expect((await deliver(i.url, signed([key], entryUpdated()))).status).to.equal(202);
    } finally {
      jwks.setDelay(0);
    }
  });
});
