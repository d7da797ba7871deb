import { processMetrics } from '@bp/shared/metrics/index';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { type SendWebhookOptions, serviceEnvFor, type Simulator, type SimulatorOptions, startSimulator } from '@bp/benchling-sim';
import { isolatedEnv } from '@bp/local-stack/testing';
import { awsOptionsFromEnv, type AwsClients, createAwsClients, createLogger, type ExecutionRecord, type Logger } from '@bp/shared';
import { EntryStore, ExecutionStore } from '@bp/shared/executions/index';
import { readLatest } from '@bp/shared/quilt/index';
import { JwksCache } from '@bp/shared/webhook/jwks';
import { createApp } from '@bp/ingress/app';
import { ingressConfigFromEnv } from '@bp/ingress/config';
import { buildWorkerDeps, WorkerFleet, workerConfigFromEnv } from '@bp/worker';

export interface SystemOptions {
  label: string;
  /** Extra environment for ingress and workers (wins over the defaults). */
  env?: Record<string, string>;
  sim?: SimulatorOptions;
  /** In-process worker fleets (each like one worker process). Default 1. */
  workers?: number;
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
}

/**
 * The whole system in one test process, every part over real connections: the Benchling
 * simulator (HTTP), the ingress app (HTTP), worker fleets on the jobs queue, fauxqs and
 * DynamoDB Local. Fault suites that need process kills spawn real processes instead.
 */
export interface RunningSystem {
  env: Record<string, string>;
  sim: Simulator;
  ingressUrl: string;
  aws: AwsClients;
  executions: ExecutionStore;
  entries: EntryStore;
  logger: Logger;
  fleets: WorkerFleet[];
  /** Each fleet's own AWS clients (e.g. to count the state writes the workers send). */
  workerAws: AwsClients[];
  send(o: Omit<SendWebhookOptions, 'to'>): Promise<{ status: number; json: Record<string, unknown>; webhookId: string }>;
  /** Polls until the execution reaches one of `statuses` (default: any final status). */
  waitForExecution(executionId: string, o?: { statuses?: string[]; timeoutMs?: number }): Promise<ExecutionRecord>;
  latest(packageName: string): ReturnType<typeof readLatest>;
  stop(): Promise<void>;
}

const FINAL = ['SUCCEEDED', 'FAILED', 'SUPERSEDED'];

export async function startSystem(o: SystemOptions): Promise<RunningSystem> {
  const base = await isolatedEnv(o.label, {
    maxReceiveCount: o.maxReceiveCount ?? 3,
    visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 30,
  });
  const sim = await startSimulator({ exportDelayMs: 200, ...o.sim });
  const env: Record<string, string> = {
    ...base,
    ...serviceEnvFor(sim),
    QUILT_PUBLISH: 'direct',
    VISIBILITY_TIMEOUT_SECONDS: String(o.visibilityTimeoutSeconds ?? 30),
    WORKER_TMP_DIR: mkdtempSync(path.join(os.tmpdir(), `bp-spool-${o.label}-`)),
    LOG_LEVEL: process.env.BP_TEST_LOG_LEVEL || 'silent',
    ...o.env,
  };
  const logger = createLogger({ service: 'e2e', level: env.LOG_LEVEL });
  const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));

  const ingressConfig = ingressConfigFromEnv(env);
  const ingressAws = createAwsClients(ingressConfig.aws);
  const jwks = new JwksCache({ url: ingressConfig.jwksUrl, ...ingressConfig.jwks, logger });
  await jwks.warm();
  const app = createApp({
    config: ingressConfig,
    aws: ingressAws,
    names: ingressConfig.names,
    jwks,
    logger: logger.child({ service: 'ingress' }),
    // As in main: the process's metrics, which the workers below count into too.
    metrics: processMetrics(),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const ingressUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fleets: WorkerFleet[] = [];
  const workerAws: AwsClients[] = [];
  for (let i = 0; i < (o.workers ?? 1); i++) {
    const config = workerConfigFromEnv({ ...env, WORKER_ID: `${o.label}-w${i + 1}` });
    const wAws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 30_000, maxAttempts: 3 }));
    workerAws.push(wAws);
    const fleet = new WorkerFleet(
      await buildWorkerDeps(config, wAws, logger.child({ service: 'worker', workerId: config.workerId }), { metrics: processMetrics() }),
    );
    fleet.start();
    fleets.push(fleet);
  }

  const executions = new ExecutionStore({ doc: aws.doc, tableName: `${env.TABLE_PREFIX}executions` });
  const entries = new EntryStore({ doc: aws.doc, tableName: `${env.TABLE_PREFIX}entries` });
  return {
    env,
    sim,
    ingressUrl,
    aws,
    executions,
    entries,
    logger,
    fleets,
    workerAws,
    async send(w) {
      const r = await sim.sendWebhook({ ...w, to: ingressUrl });
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(r.body) as Record<string, unknown>;
      } catch {
        /* not JSON */
      }
      return { status: r.status, json, webhookId: r.webhookId };
    },
    async waitForExecution(executionId, w = {}) {
      const statuses = w.statuses ?? FINAL;
      const deadline = Date.now() + (w.timeoutMs ?? 20_000);
      let last: ExecutionRecord | undefined;
      while (Date.now() < deadline) {
        last = await executions.get(executionId);
        if (last && statuses.includes(last.status)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `execution ${executionId} did not reach ${statuses.join('/')} in time; last: ` +
          `${JSON.stringify(last?.status)} ${JSON.stringify(last?.lastError ?? last?.events?.slice(-3))}`,
      );
    },
    latest: (packageName) => readLatest(aws.s3, env.PACKAGE_BUCKET!, packageName),
    async stop() {
      await Promise.all(fleets.map((f) => f.stop(5_000)));
      jwks.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await sim.close();
      for (const a of [aws, ingressAws, ...workerAws]) a.destroy();
      rmSync(env.WORKER_TMP_DIR!, { recursive: true, force: true });
    },
  };
}
