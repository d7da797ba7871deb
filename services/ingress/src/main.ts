import { createAwsClients, createLogger, describeError, getBool } from '@bp/shared';
import { JwksCache } from '@bp/shared/webhook/jwks';
import { buildOpsDeps, createOpsGuard, createOpsRouter, createWebhooksQueryRouter, opsApiConfigFromEnv } from '@bp/ops';
import { EmfPublisher, processMetrics } from '@bp/shared/metrics/index';
import { partnerRegistryFromEnv } from '@bp/shared/partners/registry-from-env';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openWarehouse, warehouseConfigFromEnv, warehouseProbe } from '@bp/warehouse';
import { createApp } from './app.ts';
import { PendingMarks } from './accept.ts';
import { ingressConfigFromEnv } from './config.ts';
import { createIngressServer } from './server.ts';

/**
 * The ingress process: the only place that reads the environment. Builds clients, warms the
 * signing keys before taking traffic, listens, and on SIGTERM stops accepting connections and
 * lets in-flight requests finish (each is bounded to about 2.5 s) before exiting 0.
 */
async function main(): Promise<void> {
  const config = ingressConfigFromEnv(process.env);
  const logger = createLogger({ service: 'ingress', level: config.logLevel });
  const aws = createAwsClients(config.aws);
  const jwks = new JwksCache({ url: config.jwksUrl, ...config.jwks, logger });
  try {
    await jwks.warm();
  } catch (err) {
    // Deliveries get 503 (not 401) until keys arrive; /health/ready names the jwks check meanwhile.
    logger.warn('starting without webhook signing keys; the cache keeps retrying', { error: describeError(err).message });
  }

  // Ops calls get their own clients: the webhook path's sub-second AWS timeouts are too short for them.
  const opsConfig = opsApiConfigFromEnv(process.env);
  const opsEnabled = opsConfig.tokens.length > 0 || opsConfig.oidc !== undefined;
  const opsDeps = opsEnabled ? buildOpsDeps(process.env, { logger }) : undefined;
  // One guard (rate limits + authentication) for /ops, /metrics and the readiness details.
  const guard = createOpsGuard({
    tokens: opsConfig.tokens,
    ...(opsConfig.oidc ? { oidc: opsConfig.oidc } : {}),
    failuresPerMinutePerIp: opsConfig.rateLimitPerMinute,
    readsPerMinute: opsConfig.readsPerMinute,
    mutationsPerMinute: opsConfig.mutationsPerMinute,
  });
  const ops = opsDeps
    ? {
        router: createOpsRouter({
          ...opsDeps,
          auth: {},
          guard,
          logger: logger.child({ component: 'ops' }),
          replayMaxMessages: opsConfig.replayMaxMessages,
        }),
        auth: guard,
      }
    : undefined;
  if (!ops) logger.info('ops API and /metrics are off: set OPS_TOKENS or OPS_OIDC_SIGNER_ARN to enable them');
  // The ingress runs no lookups; with a warehouse configured, GET /ops/ready reports its SELECT 1 over a pool of at most 2.
  const warehouseConfig = warehouseConfigFromEnv(process.env);
  const warehouse =
    warehouseConfig && ops
      ? await openWarehouse({
          config: warehouseConfig,
          logger,
          sizing: { min: 0, max: 2 },
          ...(warehouseConfig.secretArn ? { secrets: new SecretsManagerClient({ region: config.aws.region }) } : {}),
        })
      : undefined;
  const integrationProbes = warehouse ? { warehouse: warehouseProbe(warehouse.warehouse, config.readyCheckTimeoutMs) } : undefined;
  const partners = partnerRegistryFromEnv(process.env, { doc: aws.doc, tableName: config.names.partnersTable, aws: config.aws });
  const webhooksQuery = opsDeps
    ? createWebhooksQueryRouter({ ...opsDeps, auth: {}, guard, logger: logger.child({ component: 'webhooks-query' }) })
    : undefined;
  const metrics = processMetrics();
  const marks = new PendingMarks();
  const app = createApp({
    marks,
    config,
    aws,
    names: config.names,
    jwks,
    logger,
    partners,
    ...(webhooksQuery ? { webhooksQuery } : {}),
    metrics,
    ...(ops ? { ops } : {}),
    ...(integrationProbes ? { integrationProbes } : {}),
  });
  const emf = getBool(process.env, 'METRICS_EMF', true) ? new EmfPublisher({ service: 'ingress' }) : undefined;
  if (emf) metrics.emitTo(emf);
  const server = createIngressServer(app, config).listen(config.port);
  server.on('listening', () => {
    const addr = server.address();
    logger.info('ingress listening', { port: typeof addr === 'object' && addr ? addr.port : config.port, jwksUrl: config.jwksUrl });
  });
  server.on('error', (err) => {
    logger.error('ingress server failed', { error: err.message });
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, graceMs: config.shutdownGraceMs });
    jwks.stop();
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish within the grace period; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    server.close(async () => {
      // Answered deliveries whose dedupe mark is still in flight: let them finish (the grace timer bounds this).
      if (marks.size > 0) logger.info('waiting for dedupe marks', { count: marks.size });
      await marks.drain();
      aws.destroy();
      partners.destroy();
      opsDeps?.destroy();
      void warehouse?.close();
      void emf?.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', service: 'ingress', message: 'ingress failed to start', error: describeError(err).message })}\n`,
  );
  process.exit(1);
});
