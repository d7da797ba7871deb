import { expect } from 'chai';
import { type Simulator, startSimulator } from '@bp/benchling-sim';
import { type AwsClients, awsOptionsFromEnv, createAwsClients, resourceNamesFromEnv } from '@bp/shared';
import { readDedupeRecord } from '@bp/shared/dedupe';
import { ExecutionStore } from '@bp/shared/executions/index';
import { dedupeKeyOfDelivery, isolatedEnv, takeQueuedJobs } from '@bp/local-stack/testing';
import { allExecutions } from '../support/faults/invariants.ts';
import { eventually } from '../support/faults/queues.ts';
import { printTable } from '../support/faults/report.ts';
import { type IngressProcess, spawnIngress } from '../support/faults/service-processes.ts';
import { post, signedDelivery } from '../support/faults/signed-webhooks.ts';
import { type ProxyMode, TcpProxy } from '../support/faults/tcp-proxy.ts';

/**
 * What the accept protocol leaves behind after a 503 (services/ingress/src/accept.ts):
 * - `nothing`: the failure happened before anything was written, or the send certainly did not
 *   happen (connection refused), so both items were removed;
 * - `takeover`: SendMessage failed ambiguously (reset, timeout: SQS may have taken the job), so the
 *   dedupe record stays PENDING, already expired, with its QUEUED execution, and Benchling's retry
 *   takes it over under the same executionId. A 2xx never came before a durable enqueue either way.
 */
type Leftover = 'nothing' | 'takeover';

const CASES: Array<{ dependency: 'SQS' | 'DynamoDB'; mode: ProxyMode; code: string; leftover: Leftover }> = [
  { dependency: 'SQS', mode: 'refuse', code: 'QueueUnavailable', leftover: 'nothing' },
  { dependency: 'SQS', mode: 'reset', code: 'QueueUnavailable', leftover: 'takeover' },
  { dependency: 'SQS', mode: 'blackhole', code: 'QueueUnavailable', leftover: 'takeover' },
  { dependency: 'SQS', mode: 'slow', code: 'QueueUnavailable', leftover: 'takeover' },
  { dependency: 'DynamoDB', mode: 'refuse', code: 'DedupeUnavailable', leftover: 'nothing' },
  { dependency: 'DynamoDB', mode: 'reset', code: 'DedupeUnavailable', leftover: 'nothing' },
  { dependency: 'DynamoDB', mode: 'blackhole', code: 'DedupeUnavailable', leftover: 'nothing' },
  { dependency: 'DynamoDB', mode: 'slow', code: 'DedupeUnavailable', leftover: 'nothing' },
];

describe('ingress process with its queue or table behind a failing network (TCP proxy)', function () {
  this.timeout(90_000);
  let env: Record<string, string>;
  let names: ReturnType<typeof resourceNamesFromEnv>;
  let sim: Simulator;
  let proxies: Record<'SQS' | 'DynamoDB', TcpProxy>;
  let ingress: IngressProcess;
  let inspect: AwsClients;
  let executions: ExecutionStore;
  const table: Array<Array<string | number>> = [];

  /** Receives and deletes every job on the queue; returns them parsed. */
  const takeJobs = () => takeQueuedJobs(inspect.sqs, names.jobsQueueUrl, 60);

  async function executionsOf(webhookId: string) {
    return (await allExecutions(executions)).filter((e) => e.trigger.webhookId === webhookId);
  }

  before(async function () {
    this.timeout(60_000);
    const base = await isolatedEnv('ingressfaults');
    names = resourceNamesFromEnv(base);
    sim = await startSimulator({});
    proxies = {
      SQS: await TcpProxy.start({ target: base.AWS_ENDPOINT_URL_SQS! }),
      DynamoDB: await TcpProxy.start({ target: base.AWS_ENDPOINT_URL_DYNAMODB! }),
    };
    env = {
      ...base,
      AWS_ENDPOINT_URL_SQS: proxies.SQS.url,
      AWS_ENDPOINT_URL_DYNAMODB: proxies.DynamoDB.url,
      BENCHLING_APP_DEFINITION_ID: sim.options.appDefinitionId,
      BENCHLING_JWKS_URL: sim.jwksUrl,
      // Each case asks /health/ready right after breaking the network: no cached answer from before.
      READY_CACHE_MS: '0',
    };
    ingress = await spawnIngress({ label: 'ingressfaults', env });
    inspect = createAwsClients(awsOptionsFromEnv(base, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    executions = new ExecutionStore({ doc: inspect.doc, tableName: names.executionsTable });
    // Warm DynamoDB Local and the ingress's connections with one good delivery.
    expect((await post(ingress.url, signedDelivery(sim, { type: 'v2.entry.created', entryId: 'etr_if_warm' }))).status).to.equal(202);
    await takeJobs();
  });
  after(async function () {
    this.timeout(30_000);
    if (table.length)
      printTable('ingress under network faults', ['dependency', 'mode', 'answer', 'ms', 'left behind', 'retry after heal'], table);
    await ingress?.kill('SIGTERM', 10_000);
    for (const p of Object.values(proxies ?? {})) await p.close();
    await sim?.close();
    inspect?.destroy();
  });

  for (const c of CASES) {
    const leftover = c.leftover === 'nothing' ? 'nothing' : 'only a record the retry takes over';
    it(`${c.dependency} ${c.mode}: answers 503 within 3 s, leaves ${leftover}, accepts the redelivery once the network heals`, async () => {
      const d = signedDelivery(sim, { type: 'v2.entry.updated.fields', entryId: `etr_if_${c.dependency}_${c.mode}` });
      await proxies[c.dependency].setMode(c.mode);
      const failed = await post(ingress.url, d);
      const [ready, live] = await Promise.all([fetch(`${ingress.url}/health/ready`), fetch(`${ingress.url}/health/live`)]);
      const readyBody = (await ready.json()) as { failing: string[] };

      expect(failed.status, JSON.stringify(failed.json)).to.equal(503);
      expect(failed.ms).to.be.below(3000);
      expect(failed.json).to.deep.include({ error: 'unavailable', code: c.code });
      expect(Number(failed.headers.get('retry-after'))).to.be.at.least(1);
      expect(ready.status, 'not ready while the dependency is down').to.equal(503);
      expect(readyBody.failing).to.deep.equal(c.dependency === 'SQS' ? ['jobsQueue'] : ['dedupeTable', 'executionsTable']);
      expect(live.status, 'alive all the same').to.equal(200);

      const dedupe = await readDedupeRecord(inspect.doc, names.dedupeTable, dedupeKeyOfDelivery(d));
      const records = await executionsOf(d.webhookId);
      expect(
        (await takeJobs()).filter((j) => j.trigger.webhookId === d.webhookId),
        'no job enqueued',
      ).to.deep.equal([]);
      if (c.leftover === 'nothing') {
        expect(dedupe, 'no dedupe record').to.equal(undefined);
        expect(records, 'no execution record').to.deep.equal([]);
      } else {
        expect(dedupe).to.deep.include({ state: 'PENDING', pendingUntil: 0 });
        expect(records.map((r) => [r.executionId, r.status])).to.deep.equal([[dedupe!.executionId, 'QUEUED']]);
      }

      // The network heals; Benchling resends the same delivery to the same, never restarted, process.
      await proxies[c.dependency].setMode('pass');
      const retry = await post(ingress.url, d);
      expect(retry.status, JSON.stringify(retry.json)).to.equal(202);
      if (dedupe) expect(retry.json.executionId, 'taken over under the same execution id').to.equal(dedupe.executionId);
      const jobs = (await takeJobs()).filter((j) => j.trigger.webhookId === d.webhookId);
      expect(
        jobs.map((j) => j.executionId),
        'exactly one job',
      ).to.deep.equal([retry.json.executionId]);
      expect(
        (await executionsOf(d.webhookId)).map((r) => r.executionId),
        'exactly one execution',
      ).to.deep.equal([retry.json.executionId]);
      // Marked just after the 202.
      const marked = await eventually(
        'the dedupe record marked ENQUEUED',
        async () => {
          const r = await readDedupeRecord(inspect.doc, names.dedupeTable, dedupeKeyOfDelivery(d));
          return r?.state === 'ENQUEUED' ? r : undefined;
        },
        { timeoutMs: 5000, everyMs: 50 },
      );
      expect(marked).to.deep.include({ state: 'ENQUEUED', executionId: retry.json.executionId });
      await eventually(
        'the ingress reporting ready again',
        async () => ((await fetch(`${ingress.url}/health/ready`)).status === 200 ? true : undefined),
        { timeoutMs: 10_000 },
      );
      expect(ingress.alive, 'the same ingress process throughout').to.equal(true);
      table.push([
        c.dependency,
        c.mode,
        `${failed.status} ${c.code}`,
        Math.round(failed.ms),
        c.leftover === 'nothing' ? 'nothing' : 'expired PENDING + QUEUED',
        `${retry.status}${dedupe ? ' (takeover)' : ''}`,
      ]);
    });
  }
});
