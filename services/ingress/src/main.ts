import { createAwsClients, createLogger, describeError, getBool } from '@bp/shared';
import { JwksCache } from '@bp/shared/webhook/jwks';
import { buildOpsDeps, createOpsAuth, createOpsRouter, opsApiConfigFromEnv } from '@bp/ops';
import { EmfPublisher, processMetrics } from '@bp/shared/metrics/index';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { openWarehouse, warehouseConfigFromEnv, warehouseProbe } from '@bp/warehouse';
import { createApp } from './app.ts';
import { ingressConfigFromEnv } from './config.ts';

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
    // Deliveries get 503 (not 401) until keys arrive, and /health/ready says why.
    logger.warn('starting without webhook signing keys; the cache keeps retrying', { error: describeError(err).message });
  }

  // Ops calls get their own clients: the webhook path's sub-second AWS timeouts are too short for them.
  const opsConfig = opsApiConfigFromEnv(process.env);
  const opsEnabled = opsConfig.tokens.length > 0 || opsConfig.oidc !== undefined;
  const opsDeps = opsEnabled ? buildOpsDeps(process.env, { logger }) : undefined;
  const ops = opsDeps
    ? {
        router: createOpsRouter({ ...opsDeps, auth: { tokens: opsConfig.tokens, oidc: opsConfig.oidc }, logger: logger.child({ component: 'ops' }), rateLimitPerMinute: opsConfig.rateLimitPerMinute, replayMaxMessages: opsConfig.replayMaxMessages }),
        auth: createOpsAuth({ tokens: opsConfig.tokens, ...(opsConfig.oidc ? { oidc: opsConfig.oidc } : {}) }),
      }
    : undefined;
  if (!ops) logger.info('ops API and /metrics are off: set OPS_TOKENS or OPS_OIDC_SIGNER_ARN to enable them');
  // The ingress runs no lookups; with a warehouse configured, GET /ops/ready reports its SELECT 1 over a pool of at most 2.
  const warehouseConfig = warehouseConfigFromEnv(process.env);
  const warehouse = warehouseConfig && ops
    ? await openWarehouse({ config: warehouseConfig, logger, sizing: { min: 0, max: 2 }, ...(warehouseConfig.secretArn ? { secrets: new SecretsManagerClient({ region: config.aws.region }) } : {}) })
    : undefined;
  const integrationProbes = warehouse ? { warehouse: warehouseProbe(warehouse.warehouse, config.readyCheckTimeoutMs) } : undefined;
  const app = createApp({ config, aws, names: config.names, jwks, logger, ...(ops ? { ops, metrics: processMetrics().registry } : {}), ...(integrationProbes ? { integrationProbes } : {}) });
  const emf = getBool(process.env, 'METRICS_EMF', true) ? new EmfPublisher({ service: 'ingress' }) : undefined;
  if (emf) processMetrics().emitTo(emf);
  // Behind a load balancer: the client's address (for the ops rate limit) is in X-Forwarded-For.
  app.set('trust proxy', 1);
  const server = app.listen(config.port);
  server.on('listening', () => {
    const addr = server.address();
    logger.info('ingress listening', { port: typeof addr === 'object' && addr ? addr.port : config.port, jwksUrl: config.jwksUrl });
  });
  server.on('error', (err) => {
    logger.error('ingress server failed', { error: err.message });
    process.exit(1);
  });
  // Longer than a load balancer's idle timeout (60 s) so it never reuses a connection we closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Slow clients cannot hold a socket for long: a webhook is small and Benchling gives up after 3 s.
  server.requestTimeout = 10_000;

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
    server.close(() => {
      aws.destroy();
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
  process.stderr.write(`${JSON.stringify({ level: 'error', service: 'ingress', message: 'ingress failed to start', error: describeError(err).message })}\n`);
  process.exit(1);
});
