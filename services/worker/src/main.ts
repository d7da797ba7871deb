/**
 * Worker process entry: the only place that reads process.env. Builds real clients, reads the
 * jobs queue's maxReceiveCount from its redrive policy, runs the fleet, and on SIGTERM/SIGINT
 * drains within the grace period and exits 0.
 */
import { mkdirSync } from 'node:fs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openWarehouse } from '@bp/warehouse';
import { awsOptionsFromEnv, createAwsClients, createLogger, describeError, getBool, getInt } from '@bp/shared';
import { countingRateLimits, EmfPublisher, processMetrics, startMetricsServer } from '@bp/shared/metrics/index';
import { workerConfigFromEnv } from './config.ts';
import { WorkerFleet } from './fleet.ts';
import { TaskProtection } from './task-protection.ts';
import { startHealthServer } from './health.ts';
import { buildWorkerDeps } from './wiring.ts';

async function main(): Promise<void> {
  const config = workerConfigFromEnv(process.env);
  const logger = createLogger({ service: 'worker', level: config.logLevel }).child({ workerId: config.workerId });
  const aws = createAwsClients(awsOptionsFromEnv(process.env, { requestTimeoutMs: 30_000, maxAttempts: 3 }));
  mkdirSync(config.tmpDir, { recursive: true });

  const metrics = processMetrics();
  // Benchling 429s are counted where every response passes: the client's fetch.
  // No warehouse configured: no enrichment. Credentials from the URL, or from Secrets Manager in AWS.
  const warehouse = config.warehouse
    ? await openWarehouse({
        config: config.warehouse,
        logger,
        onFailure: (kind) => metrics.warehouseFailed(kind),
        ...(config.warehouse.secretArn ? { secrets: new SecretsManagerClient({ region: process.env.AWS_REGION ?? 'us-east-1' }) } : {}),
      })
    : undefined;
  const deps = await buildWorkerDeps(config, aws, logger, {
    fetch: countingRateLimits(metrics),
    metrics,
    ...(warehouse ? { warehouse: warehouse.warehouse } : {}),
  });
  // The Benchling tenants jobs have named: /health/ready probes their token endpoints.
  const tenantBaseUrls = new Set<string>();
  const benchlingFor = deps.benchlingFor;
  deps.benchlingFor = (job) => {
    const client = benchlingFor(job);
    tenantBaseUrls.add(job.baseURL.replace(/\/+$/, ''));
    return client;
  };
  // Prometheus scrapes METRICS_PORT; CloudWatch reads the same numbers as EMF lines in the logs.
  const metricsPort = getInt(process.env, 'METRICS_PORT', 0, { min: 0, max: 65535 });
  const metricsServer = metricsPort > 0 ? await startMetricsServer(metricsPort, metrics.registry) : undefined;
  const emf = getBool(process.env, 'METRICS_EMF', true) ? new EmfPublisher({ service: 'worker' }) : undefined;
  if (emf) metrics.emitTo(emf);
  // ECS injects ECS_AGENT_URI into every task; protection keeps scale-in off tasks that hold jobs.
  const agentUri = process.env.ECS_AGENT_URI;
  if (config.taskProtection && !agentUri) logger.warn('ECS_TASK_PROTECTION is on but ECS_AGENT_URI is not set; running unprotected');
  const activeJobs = config.taskProtection && agentUri ? new TaskProtection({ agentUri, logger }) : undefined;
  const fleet = new WorkerFleet(deps, { activeJobs });
  fleet.start();
  const health =
    config.healthPort > 0
      ? await startHealthServer(config.healthPort, {
          fleet,
          config,
          aws,
          ...(warehouse ? { warehouse: warehouse.warehouse } : {}),
          benchlingBaseUrls: () => [...tenantBaseUrls],
        })
      : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal, activeJobs: fleet.activeJobs, graceSeconds: config.shutdownGraceSeconds });
    await fleet.stop(config.shutdownGraceSeconds * 1000);
    await emf?.close();
    await metricsServer?.close();
    await health?.close();
    await warehouse?.close();
    aws.destroy();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'error', service: 'worker', message: 'worker failed to start', error: describeError(err) }));
  process.exit(1);
});
