import express, { type ErrorRequestHandler, type Request } from 'express';
import type { Registry } from 'prom-client';
import { metricsRequestHandler, processMetrics } from '@bp/shared/metrics/index';
import type { AwsClients, Logger, ResourceNames } from '@bp/shared';
import type { JwksCache } from '@bp/shared/webhook/jwks';
import type { IngressConfig } from './config.ts';
import { liveHandler, readyHandler } from './health.ts';
import { opsReadyHandler } from './ops-ready.ts';
import type { Probe } from '@bp/shared/webhook/readiness';
import { OutcomeCounts } from './outcomes.ts';
import { loggableWebhookId, webhookHandler } from './webhook-route.ts';

/**
 * Benchling posts to `/event`, `/lifecycle` or `/canvas` with *Suffixed* routing and to the bare
 * URL with *Stable* routing; all go to one handler that routes by `message.type`.
 */
export const WEBHOOK_PATHS = ['/', '/event', '/lifecycle', '/canvas'];

export interface IngressDeps {
  config: IngressConfig;
  aws: Pick<AwsClients, 'sqs' | 'ddb' | 'doc'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'>;
  /** Signing keys; warmed by the caller (main) before traffic arrives. */
  jwks: JwksCache;
  logger: Logger;
  /** Epoch-millisecond clock. Default `Date.now`. */
  now?: () => number;
  /**
   * Operator endpoints: the ops API router (mounted at /ops) and the authentication that also
   * guards GET /metrics. Absent when no ops credential is configured.
   */
  ops?: { router: express.Router; auth: express.RequestHandler };
  /** Prometheus registry served at GET /metrics (behind the ops authentication). */
  metrics?: Registry;
  /** Integrations GET /ops/ready reports beside the ingress's own (e.g. `warehouse`). */
  integrationProbes?: Record<string, Probe>;
}

export function createApp(deps: IngressDeps): express.Application {
  const now = deps.now ?? Date.now;
  const counts = new OutcomeCounts();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Stamp arrival before the body is read: the 3-second budget starts when Benchling sends.
  app.use((_req, res, next) => {
    res.locals.startedAt = now();
    next();
  });

  // Plain /health for probes that expect it (the original service's); says only that the process answers.
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/live', liveHandler({ counts, startedAt: now(), now }));
  app.get('/health/ready', readyHandler({ ...deps, readyCheckTimeoutMs: deps.config.readyCheckTimeoutMs, counts, startedAt: now(), now }));

  // Raw bytes, whatever the content type: the signature covers the body exactly as sent.
  const rawBody = express.raw({ type: () => true, limit: deps.config.maxBodyBytes });
  app.post(WEBHOOK_PATHS, rawBody, webhookHandler({ ...deps, now, counts }));

  if (deps.ops) {
    app.use('/ops', deps.ops.router);
    // After the router: a call reaches it only through the router's access log, rate limit and authentication.
    app.get('/ops/ready', opsReadyHandler({ aws: deps.aws, names: deps.names, jwks: deps.jwks, timeoutMs: deps.config.readyCheckTimeoutMs, ...(deps.integrationProbes ? { extra: deps.integrationProbes } : {}) }));
    if (deps.metrics) {
      const serve = metricsRequestHandler(deps.metrics);
      app.get('/metrics', deps.ops.auth, (req, res) => serve(req, res));
    }
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler(deps.logger, deps.config.maxBodyBytes, counts, now));
  return app;
}

/** Body-parser failures keep their 4xx; anything else is a 500 (Benchling retries) with no stack in the answer. */
function errorHandler(logger: Logger, maxBodyBytes: number, counts: OutcomeCounts, now: () => number): ErrorRequestHandler {
  return (err, req: Request, res, _next) => {
    const startedAt = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : now();
    const e = err as { type?: string; status?: number; name?: string; message?: string };
    const webhookId = loggableWebhookId(req);
    let status = 500;
    let body: Record<string, unknown> = { error: 'internal' };
    let outcome = 'error';
    if (e.type === 'entity.too.large') {
      status = 413;
      body = { error: 'too_large', limitBytes: maxBodyBytes };
      outcome = 'too_large';
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      body = { error: 'bad_request', message: e.type ?? 'bad request' };
      outcome = 'bad_request';
    }
    counts.add(outcome);
    processMetrics().webhookAnswered(outcome);
    if (!res.headersSent) res.status(status).json(body);
    const level = status >= 500 ? 'error' : 'info';
    logger.log(level, 'webhook', { webhookId, outcome, status, path: req.path, error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}`, ms: now() - startedAt });
  };
}
