import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { metricsRequestHandler, PackagerMetrics } from '@bp/shared/metrics/index';
import type { AwsClients, Logger, ResourceNames } from '@bp/shared';
import type { JwksCache } from '@bp/shared/webhook/jwks';
import { checkWebhookHeaders } from '@bp/shared/webhook/verify';
import type { IngressConfig } from './config.ts';
import { liveHandler, readinessCheck, readyDetailsHandler, readyHandler } from './health.ts';
import { opsReadyHandler } from './ops-ready.ts';
import type { Probe } from '@bp/shared/webhook/readiness';
import { OutcomeCounts } from './outcomes.ts';
import { partnerWebhookRouter, type PartnerRouteDeps } from './partner-route.ts';
import { PendingMarks } from './accept.ts';
import { closeAfterAnswer, webhookGuards } from './webhook-guards.ts';
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
   * Operator endpoints: the ops API router (mounted at /ops) and the guard (rate limits and
   * authentication, the same instance the router uses) that also protects GET /metrics and
   * GET /health/ready/details. Absent when no ops credential is configured.
   */
  ops?: { router: express.Router; auth: express.RequestHandler };
  /**
   * Where answers are counted; its registry is served at GET /metrics (behind the ops
   * authentication) when the ops endpoints are on. main passes the process metrics. Default: a
   * fresh PackagerMetrics of this app's own.
   */
  metrics?: PackagerMetrics;
  /** The partner registry: serves POST /webhooks/sequencing/:partnerId when given. */
  partners?: PartnerRouteDeps['registry'];
  /** The partner events query API (GET /webhooks/…), with its own ops authentication. */
  webhooksQuery?: express.Router;
  /** Integrations GET /ops/ready reports beside the ingress's own (e.g. `warehouse`). */
  integrationProbes?: Record<string, Probe>;
  /** Dedupe marks still in flight after their answer; main drains them at shutdown. Default: the app's own. */
  marks?: PendingMarks;
}

export function createApp(deps: IngressDeps): express.Application {
  const now = deps.now ?? Date.now;
  const counts = new OutcomeCounts();
  const metrics = deps.metrics ?? new PackagerMetrics();
  const marks = deps.marks ?? new PendingMarks();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Only believe X-Forwarded-For from the proxies we sit behind; the rate limits key on req.ip.
  app.set('trust proxy', deps.config.trustProxy);
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
  const readiness = readinessCheck({
    ...deps,
    readyCheckTimeoutMs: deps.config.readyCheckTimeoutMs,
    readyCacheMs: deps.config.readyCacheMs,
    counts,
    startedAt: now(),
    now,
  });
  app.get('/health/ready', readyHandler(readiness));

  const { toleranceSeconds, maxBodyBytes, bodyTimeoutMs } = deps.config;
  const guards = webhookGuards({
    checkHeaders: (headers, at) => checkWebhookHeaders(headers, at, toleranceSeconds),
    maxBodyBytes,
    bodyTimeoutMs,
    now,
    record: (req, res, a) => recordAnswer({ logger: deps.logger, counts, metrics, now }, req, res, { ...a, path: req.path }),
  });
  app.post(WEBHOOK_PATHS, guards, webhookHandler({ ...deps, now, counts, metrics, marks }));
  if (deps.partners) app.use(partnerWebhookRouter({ ...deps, registry: deps.partners, now, counts, metrics, marks }));
  if (deps.webhooksQuery) app.use('/webhooks', deps.webhooksQuery);

  if (deps.ops) {
    app.get('/health/ready/details', deps.ops.auth, readyDetailsHandler(readiness));
    app.use('/ops', deps.ops.router);
    // After the router: a call reaches it only through the router's access log, rate limit and authentication.
    app.get(
      '/ops/ready',
      opsReadyHandler({
        aws: deps.aws,
        names: deps.names,
        jwks: deps.jwks,
        timeoutMs: deps.config.readyCheckTimeoutMs,
        ...(deps.integrationProbes ? { extra: deps.integrationProbes } : {}),
      }),
    );
    const serve = metricsRequestHandler(metrics.registry, {
      onError: (errorId, err) => deps.logger.error('metrics collection failed', { errorId, error: String(err) }),
    });
    app.get('/metrics', deps.ops.auth, (req, res) => serve(req, res));
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler({ logger: deps.logger, counts, metrics, now }, deps.config.maxBodyBytes));
  return app;
}

/** Where an answer given outside the webhook handlers is counted and logged. */
interface AnswerRecording {
  logger: Logger;
  counts: OutcomeCounts;
  metrics: Pick<PackagerMetrics, 'webhookAnswered'>;
  now: () => number;
}

/** Counts, measures and logs one answer given outside the webhook handler (guards, errors). */
function recordAnswer(
  { logger, counts, metrics, now }: AnswerRecording,
  req: Request,
  res: Response,
  a: { status: number; outcome: string } & Record<string, unknown>,
): void {
  const startedAt = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : now();
  counts.add(a.outcome);
  metrics.webhookAnswered(a.outcome);
  logger.log(a.status >= 500 ? 'error' : 'info', 'webhook', { webhookId: loggableWebhookId(req), ...a, ms: now() - startedAt });
}

/**
 * Body-parser failures keep their 4xx; anything else is a 500 (Benchling retries) that carries an
 * error id and nothing else: the detail goes to the log under that id.
 */
function errorHandler(recording: AnswerRecording, maxBodyBytes: number): ErrorRequestHandler {
  const { logger } = recording;
  return (err, req: Request, res, _next) => {
    const e = err as { type?: string; status?: number; name?: string; message?: string };
    const error = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
    // Already answered (e.g. the body deadline cut the request and the parser then saw it abort).
    if (res.headersSent) return logger.debug('error after the answer', { webhookId: loggableWebhookId(req), path: req.path, error });
    let status = 500;
    const errorId = randomUUID();
    let body: Record<string, unknown> = { error: 'internal', errorId };
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
    closeAfterAnswer(req, res);
    res.status(status).json(body);
    recordAnswer(recording, req, res, { outcome, status, path: req.path, error, ...(status >= 500 ? { errorId } : {}) });
  };
}
