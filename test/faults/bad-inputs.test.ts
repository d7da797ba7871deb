import { expect } from 'chai';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { generateSigningKey, serviceEnvFor, type Simulator, startSimulator } from '@bp/benchling-sim';
import {
  type AwsClients,
  awsOptionsFromEnv,
  createAwsClients,
  type ExecutionRecord,
  type JobMessage,
  newExecutionId,
  newQueuedExecution,
  resourceNamesFromEnv,
} from '@bp/shared';
import { ExecutionStore } from '@bp/shared/executions/index';
import { isolatedEnv } from '@bp/local-stack/testing';
import { packageNameFor } from '@bp/worker';
import { ExportServer } from '../../services/worker/test/transfer/support/export-server.ts';
import type { CorpusContext, WebhookCase } from '../support/faults/corpus/case.ts';
import { fieldCases, notJsonCases, shapeCases, unicodeCases } from '../support/faults/corpus/payload-cases.ts';
import {
  controlCases,
  framingCases,
  headerCases,
  routingCases,
  signatureCases,
  timestampCases,
} from '../support/faults/corpus/request-cases.ts';
import { ZIP_CORPUS_LIMITS, type ZipCase, zipCases } from '../support/faults/corpus/zip-cases.ts';
import { allExecutions, allKeys } from '../support/faults/invariants.ts';
import { eventually } from '../support/faults/queues.ts';
import { rawRequest } from '../support/faults/raw-http.ts';
import { printTable } from '../support/faults/report.ts';
import { type IngressProcess, spawnIngress, WorkerPool } from '../support/faults/service-processes.ts';
import { post } from '../support/faults/signed-webhooks.ts';

interface Result {
  c: WebhookCase;
  status: number;
  json: Record<string, unknown>;
}

/** "category × expected outcome × count" rows, in first-seen order. */
function tally(rows: Array<[string, string]>): Array<[string, string, number]> {
  const counts = new Map<string, [string, string, number]>();
  for (const [category, outcome] of rows) {
    const k = `${category}\u0000${outcome}`;
    counts.set(k, [category, outcome, (counts.get(k)?.[2] ?? 0) + 1]);
  }
  return [...counts.values()];
}

function expectedLabel(e: WebhookCase['expect']): string {
  const what =
    {
      0: 'no answer',
      200: 'ignored/duplicate',
      202: 'accepted',
      400: 'malformed',
      401: 'unauthorized',
      404: 'not found',
      408: 'body too slow',
      413: 'too large',
      415: 'unsupported',
      431: 'headers too large',
    }[e.status] ?? '';
  return `${e.status} ${what}${e.reason ? ` (${e.reason})` : ''}${e.execution ? ` → ${e.execution}` : ''}`;
}

describe('bad inputs: each gets its documented answer, the ingress never crashes, nothing lands outside package prefixes', function () {
  this.timeout(180_000);
  let env: Record<string, string>;
  let sim: Simulator;
  let ingress: IngressProcess;
  let pool: WorkerPool;
  let inspect: AwsClients;
  let executions: ExecutionStore;
  const zipServer = new ExportServer();
  let accepted: Array<{ c: WebhookCase; executionId: string }> = [];
  let webhookInputs = 0;
  const table: Array<[string, string]> = [];

  before(async function () {
    this.timeout(60_000);
    const base = await isolatedEnv('corpus', { maxReceiveCount: 3, visibilityTimeoutSeconds: 10 });
    sim = await startSimulator({ exportDelayMs: 100, rateLimit: { limit: 1_000_000, windowSeconds: 30 } });
    env = {
      ...base,
      ...serviceEnvFor(sim),
      QUILT_PUBLISH: 'direct',
      VISIBILITY_TIMEOUT_SECONDS: '10',
    };
    ingress = await spawnIngress({ label: 'corpus', env });
    pool = new WorkerPool({ label: 'corpus', env: { ...env, ...ZIP_CORPUS_LIMITS, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '4' } });
    inspect = createAwsClients(awsOptionsFromEnv(base, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    executions = new ExecutionStore({ doc: inspect.doc, tableName: resourceNamesFromEnv(base).executionsTable });
    await zipServer.start();
  });
  after(async function () {
    this.timeout(30_000);
    if (table.length) printTable('bad-input corpus', ['category', 'expected outcome', 'count'], tally(table));
    await pool?.stopAll(10_000);
    await ingress?.kill('SIGTERM', 10_000);
    await zipServer.stop();
    await sim?.close();
    inspect?.destroy();
  });

  it('answers every hostile webhook request as documented, and the ingress process stays up throughout', async () => {
    let n = 0;
    const ctx: CorpusContext = {
      sim,
      key: sim.keys()[0]!,
      stranger: generateSigningKey('stranger'),
      now: Math.floor(Date.now() / 1000),
      nextId: () => `msg_corpus_${++n}`,
    };
    const groups = [
      signatureCases,
      timestampCases,
      headerCases,
      framingCases,
      routingCases,
      notJsonCases,
      fieldCases,
      unicodeCases,
      shapeCases,
      controlCases,
    ];
    const results: Result[] = [];
    for (const group of groups) {
      for (const c of group(ctx)) {
        if ('raw' in c.request) {
          const r = await rawRequest(ingress.url, c.request.raw, c.request.timeoutMs);
          results.push({ c, status: r.status, json: { head: r.head } });
        } else {
          const r = await post(ingress.url, c.request.http, { method: c.request.http.method }).catch((err: Error) => ({
            status: -1,
            json: { error: err.message },
          }));
          results.push({ c, status: r.status, json: r.json });
        }
      }
      // After every group: the process is alive and says so.
      expect(ingress.alive, `ingress died during ${group.name}; see ${ingress.logFile}`).to.equal(true);
      expect((await fetch(`${ingress.url}/health/live`)).status).to.equal(200);
    }

    const wrong = results.filter(({ c, status, json }) => {
      if (status !== c.expect.status) return true;
      if (c.expect.reason && json.reason !== c.expect.reason) return true;
      if (c.expect.field && !String(json.field ?? '').startsWith(c.expect.field)) return true;
      return false;
    });
    for (const r of results) table.push([r.c.category, expectedLabel(r.c.expect)]);
    expect(
      wrong.map(
        ({ c, status, json }) =>
          `${c.category} / ${c.name}: expected ` +
          `${expectedLabel(c.expect)}${c.expect.field ? ` field ${c.expect.field}` : ''}, ` +
          `got ${status} ${JSON.stringify(json).slice(0, 160)}`,
      ),
      'inputs answered other than documented',
    ).to.deep.equal([]);
    accepted = results.filter((r) => r.status === 202).map((r) => ({ c: r.c, executionId: String(r.json.executionId) }));
    webhookInputs = results.length;
    expect(results.length, 'webhook inputs in the corpus').to.be.at.least(150);
    expect(ingress.alive).to.equal(true);
  });

  it('runs the accepted webhooks and every hostile export ZIP through a worker process to their documented end', async () => {
    pool.start(1);
    const zips = zipCases();
    const zipJobs: Array<{ z: ZipCase; executionId: string; packageName: string }> = [];
    for (const [i, z] of zips.entries()) {
      const route = `/exports/corpus-${i}.zip`;
      zipServer.routes.set(route, z.serve);
      const executionId = newExecutionId();
      const entryId = `etr_zipcase_${i}`;
      const displayId = `ZIPCASE${String(i).padStart(3, '0')}`;
      const now = new Date();
      const trigger = { webhookId: `corpus-zip-${i}`, type: 'v2.entry.created', receivedAt: now.toISOString() };
      // Benchling's part is done and checkpointed: the job resumes at the transfer of this download URL.
      const record: ExecutionRecord = {
        ...newQueuedExecution({ executionId, tenantId: sim.options.tenantId, kind: 'entry.package', entryId, trigger, now }),
        outputs: {
          'fetch-entry': { id: entryId, displayId, name: `ZIP case ${i}`, fields: {}, customFields: {} },
          'start-export': { taskId: `task_zip_${i}`, format: 'pdf', startedAt: now.toISOString() },
          'await-export': { downloadURL: zipServer.url(route), readyAt: now.toISOString(), polls: 1 },
        },
      };
      await executions.create(record);
      const job: JobMessage = {
        v: 1,
        kind: 'entry.package',
        executionId,
        tenantId: sim.options.tenantId,
        baseURL: sim.url,
        appId: sim.options.appId,
        entryId,
        trigger,
      };
      await inspect.sqs.send(new SendMessageCommand({ QueueUrl: env.JOBS_QUEUE_URL, MessageBody: JSON.stringify(job) }));
      zipJobs.push({ z, executionId, packageName: packageNameFor('benchling', displayId) });
    }

    const ids = new Set([...accepted.map((a) => a.executionId), ...zipJobs.map((j) => j.executionId)]);
    const finished = await eventually(
      'every corpus execution finishing',
      async () => {
        const all = (await allExecutions(executions)).filter((e) => ids.has(e.executionId));
        return all.length === ids.size && all.every((e) => e.status !== 'QUEUED' && e.status !== 'RUNNING')
          ? new Map(all.map((e) => [e.executionId, e]))
          : undefined;
      },
      {
        timeoutMs: 90_000,
        everyMs: 500,
        describe: async () => {
          const all = (await allExecutions(executions)).filter(
            (e) => ids.has(e.executionId) && (e.status === 'QUEUED' || e.status === 'RUNNING'),
          );
          const name = (id: string) =>
            accepted.find((a) => a.executionId === id)?.c.name ?? zipJobs.find((j) => j.executionId === id)?.z.name;
          return all
            .map(
              (e) =>
                `${name(e.executionId)}: ${e.status} ${e.step ?? ''} attempts ${e.attempts} ` +
                `${e.lastError?.class ?? ''} ${e.lastError?.message ?? ''}`,
            )
            .join('; ');
        },
      },
    );

    const wrong: string[] = [];
    for (const a of accepted) {
      const e = finished.get(a.executionId)!;
      table.push([`${a.c.category} (worker)`, `${a.c.expect.execution}`]);
      if (e.status !== a.c.expect.execution)
        wrong.push(
          `${a.c.category} / ${a.c.name}: expected ${a.c.expect.execution}, ` +
            `got ${e.status} ${e.lastError?.class ?? ''} ${e.lastError?.message ?? ''}`,
        );
    }
    for (const j of zipJobs) {
      const e = finished.get(j.executionId)!;
      const got = e.status === 'SUCCEEDED' ? 'SUCCEEDED' : (e.lastError?.class ?? 'FAILED without a class');
      table.push([j.z.category, j.z.expect === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED ${j.z.expect}`]);
      if (got !== j.z.expect)
        wrong.push(`${j.z.category} / ${j.z.name}: expected ${j.z.expect}, got ${got}: ${e.lastError?.message ?? ''}`);
    }
    expect(wrong, 'inputs that ended other than documented').to.deep.equal([]);

    // Nothing outside package prefixes, no refused ZIP left a file, no hostile name became a key.
    const keys = await allKeys(inspect.s3, env.PACKAGE_BUCKET!);
    const allowed =
      /^(benchling\/[\w-]+\/|\.quilt\/(packages|named_packages\/benchling\/[\w-]+)\/|\.benchling-packager\/executions\/ex_[\w]+\/)/;
    expect(
      keys.filter((k) => !allowed.test(k)),
      'keys outside package prefixes',
    ).to.deep.equal([]);
    expect(
      keys.filter((k) => /(^|\/)evil\.txt$/.test(k)),
      'hostile names written',
    ).to.deep.equal([]);
    for (const j of zipJobs.filter((x) => x.z.expect !== 'SUCCEEDED')) {
      expect(
        keys.filter((k) => k.startsWith(`${j.packageName}/`)),
        `files left by ${j.z.name}`,
      ).to.deep.equal([]);
    }
    expect(webhookInputs + zipJobs.length, 'inputs in the corpus').to.be.at.least(200);
    expect(ingress.alive, 'the ingress process is still up').to.equal(true);
  });
});
