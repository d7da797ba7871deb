import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PackagerMetrics } from '@bp/shared/metrics/index';
import { type AwsClients, type JobMessage, JobMessageSchema, type Logger, type ResourceNames } from '@bp/shared';
import { AcceptUnavailableError, dedupeKeyFor } from '@bp/shared/dedupe';
import { acceptWebhook, type PendingMarks } from './accept.ts';
import { classifyWebhookBody, type EnqueueDecision, type WebhookDecision, WebhookPayloadError } from '@bp/shared/webhook/payload';
import { type JwksCache, verifyWithJwks, WebhookAuthError } from '@bp/shared/webhook/verify';
import type { IngressConfig } from './config.ts';
import type { OutcomeCounts } from './outcomes.ts';

/**
 * POST handler for every webhook path: verify the signature over the raw bytes → validate and
 * classify the payload → run the accept protocol (dedupe + enqueue) → answer. One JSON log line
 * per request; the signature header and the body are never logged.
 */

export interface WebhookRouteDeps {
  config: Pick<
    IngressConfig,
    'toleranceSeconds' | 'updateButtonIds' | 'dedupeTtlDays' | 'dedupePendingMs' | 'requestBudgetMs' | 'finishTimeoutMs'
  >;
  aws: Pick<AwsClients, 'sqs' | 'doc'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'>;
  jwks: Pick<JwksCache, 'keys' | 'refreshForUnknownSignature'>;
  logger: Logger;
  now: () => number;
  counts: OutcomeCounts;
  /** Counts each answer by outcome (the process metrics in main). */
  metrics: Pick<PackagerMetrics, 'webhookAnswered'>;
  /** Dedupe marks in flight after their answer (see accept.ts). */
  marks: PendingMarks;
}

/**
 * Longest webhook-id accepted, bytes. It is the dedupe key, and DynamoDB refuses keys over 2048
 * bytes: such an id must get a 400 (final), not the 503 an "unavailable" table would give, which
 * Benchling would retry for ever. Benchling's own ids are about 30 characters.
 */
const MAX_WEBHOOK_ID_BYTES = 256;

/** A UTF-16 surrogate without its pair: such a string has no UTF-8 form (encodeURIComponent throws). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Seconds Benchling should wait before retrying after a 503 (a hint; its retry policy is its own). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The webhook-id header as far as it is safe to log (any client can send any string). */
export function loggableWebhookId(req: Request): string | undefined {
  const v = req.headers['webhook-id'];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s.slice(0, 128);
}

export function webhookHandler(deps: WebhookRouteDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const started = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : deps.now();
    const webhookId = loggableWebhookId(req);
    const log = deps.logger.child({ webhookId });
    const fields: Record<string, unknown> = {};
    const answer = (status: number, outcome: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      res.status(status).set(headers).json(body);
      deps.counts.add(outcome);
      deps.metrics.webhookAnswered(outcome);
      log.info('webhook', { ...fields, outcome, status, ms: deps.now() - started });
    };
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

    try {
      let verifiedId: string;
      try {
        verifiedId = (
          await verifyWithJwks(deps.jwks, { headers: req.headers, rawBody, now: deps.now, toleranceSeconds: deps.config.toleranceSeconds })
        ).webhookId;
      } catch (err) {
        if (!(err instanceof WebhookAuthError)) throw err;
        // Without keys we cannot tell good from bad: 503 lets Benchling retry once the JWKS is back.
        if (err.reason === 'no_keys') {
          return answer(
            503,
            'unavailable',
            { error: 'unavailable', reason: err.reason },
            { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
          );
        }
        fields.reason = err.reason;
        return answer(401, 'unauthorized', { error: 'unauthorized', reason: err.reason });
      }
      if (Buffer.byteLength(verifiedId, 'utf8') > MAX_WEBHOOK_ID_BYTES) {
        fields.field = 'webhook-id';
        return answer(400, 'malformed', {
          error: 'malformed',
          field: 'webhook-id',
          message: `webhook-id is longer than ${MAX_WEBHOOK_ID_BYTES} bytes`,
        });
      }

      let decision: WebhookDecision;
      try {
        decision = classifyWebhookBody(rawBody, deps.config);
      } catch (err) {
        if (!(err instanceof WebhookPayloadError)) throw err;
        fields.field = err.field;
        return answer(400, 'malformed', { error: 'malformed', field: err.field, message: err.message });
      }
      fields.type = decision.type;
      fields.tenantId = decision.tenantId;
      if (decision.action === 'ignore') {
        fields.reason = decision.reason;
        deps.counts.add(`ignored:${decision.type}`); // types are signed by Benchling, so a bounded set
        return answer(200, 'ignored', { ignored: decision.reason, type: decision.type });
      }

      const job = jobFor(decision, verifiedId, new Date(started));
      const checked = JobMessageSchema.safeParse({ ...job, executionId: 'x' });
      if (!checked.success) {
        const field = checked.error.issues[0]?.path.join('.') ?? '(job)';
        fields.field = field;
        return answer(400, 'malformed', { error: 'malformed', field, message: `the job built from this webhook is invalid at ${field}` });
      }
      // Ids go into Benchling URLs: one with a lone surrogate can never be encoded, so no retry could help.
      const unusable = (
        [
          ['entryId', 'message.resourceId'],
          ['canvasId', 'message.canvasId'],
        ] as const
      ).find(([k]) => LONE_SURROGATE.test(decision[k] ?? ''));
      if (unusable) {
        fields.field = unusable[1];
        return answer(400, 'malformed', { error: 'malformed', field: unusable[1], message: `${unusable[1]} is not well-formed Unicode` });
      }
      if (decision.entryId) fields.entryId = decision.entryId;

      const remainingMs = Math.max(1, started + deps.config.requestBudgetMs - deps.now());
      const result = await acceptWebhook(
        { doc: deps.aws.doc, sqs: deps.aws.sqs, names: deps.names, now: deps.now, logger: log, marks: deps.marks },
        { webhookId: dedupeKeyFor(job, verifiedId), job },
        {
          ttlDays: deps.config.dedupeTtlDays,
          pendingMs: deps.config.dedupePendingMs,
          finishTimeoutMs: deps.config.finishTimeoutMs,
          signal: AbortSignal.timeout(remainingMs),
        },
      );
      if (result.executionId) fields.executionId = result.executionId;
      switch (result.outcome) {
        case 'accepted':
          if (result.tookOver) fields.tookOver = true;
          return answer(202, 'accepted', { executionId: result.executionId });
        case 'duplicate':
          return answer(200, 'duplicate', { executionId: result.executionId, duplicate: true });
        case 'in_progress':
          // The first delivery is still between its transaction and SendMessage and may fail: no 2xx.
          return answer(
            409,
            'in_progress',
            { error: 'in_progress', retryAfterSeconds: result.retryAfterSeconds },
            { 'retry-after': String(result.retryAfterSeconds) },
          );
      }
    } catch (err) {
      if (err instanceof AcceptUnavailableError) {
        fields.code = err.code;
        fields.error = err.message;
        if (typeof err.details.executionId === 'string') fields.executionId = err.details.executionId;
        return answer(
          503,
          'unavailable',
          { error: 'unavailable', code: err.code },
          { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
        );
      }
      next(err);
    }
  };
}

/** The job the ingress enqueues for an accepted delivery (also what the ingress bench validates). */
export function jobFor(d: EnqueueDecision, webhookId: string, receivedAt: Date): Omit<JobMessage, 'executionId'> {
  return {
    v: 1,
    kind: d.kind,
    tenantId: d.tenantId,
    baseURL: d.baseURL,
    appId: d.appId,
    ...(d.entryId ? { entryId: d.entryId } : {}),
    ...(d.canvasId ? { canvasId: d.canvasId } : {}),
    trigger: { webhookId, type: d.type, receivedAt: receivedAt.toISOString(), ...d.trigger },
  };
}
