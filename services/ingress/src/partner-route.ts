import { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import { type AwsClients, type Logger, type ResourceNames, serializeJobMessage } from '@bp/shared';
import { AcceptUnavailableError } from '@bp/shared/dedupe';
import { acceptWebhook, type PendingMarks } from './accept.ts';
import { newQueuedExecution, partnerTenantId } from '@bp/shared/executions/types';
import type { PackagerMetrics } from '@bp/shared/metrics/index';
import {
  PARTNER_JOB_KINDS,
  type PartnerEvent,
  type PartnerEventType,
  type PartnerJobMessage,
  PartnerJobMessageSchema,
} from '@bp/shared/partners/event';
import { eventTypeOf, normalise, PartnerPayloadError, UnsupportedPartnerEventError } from '@bp/shared/partners/normalise';
import { PartnerIdSchema } from '@bp/shared/partners/partner-input';
import { partnerPolicy, type PartnerRegistry } from '@bp/shared/partners/registry';
import { checkEventSources, jsonDepth, UnsafeSourceError } from '@bp/shared/partners/source-safety';
import { checkWebhookHeaders, StandardWebhookError, verifyWebhook } from '@bp/shared/partners/standard-webhooks';
import type { IngressConfig } from './config.ts';
import { webhookGuards } from './webhook-guards.ts';
import type { OutcomeCounts } from './outcomes.ts';

/**
 * POST /webhooks/sequencing/:partnerId — a sequencing partner's Standard Webhooks delivery:
 * partner (404/403) → signature with its current or rotating secret (401) → body (400, 422 for an
 * event type the partner does not send) → file paths and source URLs (400) → the accept protocol
 * of packages/shared/src/dedupe.ts (202 {"eventId"}; 200 for a repeated webhook-id; 409 while
 * the first delivery is still enqueueing; 503 when DynamoDB, SQS or the secret store is down).
 * The event id is the execution id; never a 2xx before the job is on the queue.
 */

export interface PartnerRouteDeps {
  config: Pick<
    IngressConfig,
    | 'toleranceSeconds'
    | 'partnerMaxBodyBytes'
    | 'bodyTimeoutMs'
    | 'dedupeTtlDays'
    | 'dedupePendingMs'
    | 'requestBudgetMs'
    | 'finishTimeoutMs'
  >;
  aws: Pick<AwsClients, 'sqs' | 'doc'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'>;
  registry: Pick<PartnerRegistry, 'get' | 'verificationKeys'>;
  logger: Logger;
  now: () => number;
  counts: OutcomeCounts;
  /** Counts each answer by outcome (`partner_…`; the process metrics in main). */
  metrics: Pick<PackagerMetrics, 'webhookAnswered'>;
  /** Dedupe marks in flight after their answer (see accept.ts). */
  marks: PendingMarks;
}

export const PARTNER_WEBHOOK_PATH = '/webhooks/sequencing/:partnerId';
/** Deepest JSON nesting read; deeper bodies are refused before parsing. */
export const MAX_PARTNER_JSON_DEPTH = 32;
/** Largest job (SQS takes 256 KiB; headroom for the escaping of serializeJobMessage's output). */
export const MAX_PARTNER_JOB_BYTES = 250_000;
const MAX_WEBHOOK_ID_BYTES = 256;
const RETRY_AFTER_SECONDS = '5';

class Refusal {
  constructor(
    readonly status: number,
    readonly outcome: string,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {}
}

const unavailable = (code: string) =>
  new Refusal(503, 'unavailable', { error: 'unavailable', code }, { 'retry-after': RETRY_AFTER_SECONDS });

export function partnerWebhookRouter(deps: PartnerRouteDeps): Router {
  const router = Router();
  // The Benchling route's guards (raw body parser included): refused from the headers before any body byte is read, a body
  // cut at its deadline or the moment it passes the limit.
  const guards = webhookGuards({
    checkHeaders: (headers, at) => checkWebhookHeaders(headers, at, deps.config.toleranceSeconds),
    maxBodyBytes: deps.config.partnerMaxBodyBytes,
    bodyTimeoutMs: deps.config.bodyTimeoutMs,
    now: deps.now,
    record: (req, _res, a) => {
      deps.counts.add(`partner_${a.outcome}`);
      deps.metrics.webhookAnswered(`partner_${a.outcome}`);
      deps.logger.info('partner webhook', {
        partnerId: String(req.params.partnerId ?? '').slice(0, 64),
        status: a.status,
        outcome: a.outcome,
        reason: a.reason,
      });
    },
  });
  router.post(PARTNER_WEBHOOK_PATH, ...guards, async (req: Request, res: Response) => {
    const started = typeof res.locals.startedAt === 'number' ? res.locals.startedAt : deps.now();
    const partnerId = String(req.params.partnerId);
    const fields: Record<string, unknown> = { partnerId: partnerId.slice(0, 64), webhookId: headerText(req, 'webhook-id') };
    let status: number;
    let outcome: string;
    let body: Record<string, unknown>;
    let headers: Record<string, string> = {};
    try {
      ({ status, outcome, body } = await handle(deps, req, partnerId, started, fields));
    } catch (err) {
      let refusal: Refusal;
      if (err instanceof Refusal) refusal = err;
      else {
        deps.logger.error('partner webhook failed', { ...fields, error: String((err as Error)?.stack ?? err) });
        refusal = new Refusal(500, 'error', { error: 'internal' });
      }
      ({ status, outcome, body, headers } = refusal);
    }
    res.status(status).set(headers).json(body);
    deps.counts.add(`partner_${outcome}`);
    deps.metrics.webhookAnswered(`partner_${outcome}`);
    deps.logger.log(status >= 500 ? 'error' : 'info', 'partner webhook', { ...fields, outcome, status, ms: deps.now() - started });
  });
  router.use(bodyErrors(deps));
  return router;
}

async function handle(deps: PartnerRouteDeps, req: Request, partnerId: string, started: number, fields: Record<string, unknown>) {
  const signal = AbortSignal.timeout(Math.max(1, started + deps.config.requestBudgetMs - deps.now()));
  if (!PartnerIdSchema.safeParse(partnerId).success) throw new Refusal(404, 'unknown_partner', { error: 'unknown_partner' });
  const partner = await deps.registry.get(partnerId, signal).catch((err) => {
    fields.error = String((err as Error)?.message ?? err);
    throw unavailable('PartnerRegistryUnavailable');
  });
  if (!partner) throw new Refusal(404, 'unknown_partner', { error: 'unknown_partner', partnerId });
  if (!partner.active) throw new Refusal(403, 'inactive_partner', { error: 'inactive_partner', partnerId });

  const keys = await withinBudget(deps.registry.verificationKeys(partner), signal).catch((err) => {
    fields.error = String((err as Error)?.message ?? err);
    throw unavailable('PartnerSecretUnavailable');
  });
  const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let webhookId: string;
  try {
    webhookId = verifyWebhook({
      headers: req.headers,
      rawBody,
      keys,
      now: deps.now(),
      toleranceSeconds: deps.config.toleranceSeconds,
    }).webhookId;
  } catch (err) {
    if (!(err instanceof StandardWebhookError)) throw err;
    fields.reason = err.reason;
    throw new Refusal(401, 'unauthorized', { error: 'unauthorized', reason: err.reason });
  }
  if (Buffer.byteLength(webhookId, 'utf8') > MAX_WEBHOOK_ID_BYTES)
    throw malformed(fields, 'webhook-id', `webhook-id is longer than ${MAX_WEBHOOK_ID_BYTES} bytes`);

  const text = rawBody.toString('utf8');
  if (jsonDepth(text, MAX_PARTNER_JSON_DEPTH) > MAX_PARTNER_JSON_DEPTH)
    throw malformed(fields, '(body)', `the body is nested deeper than ${MAX_PARTNER_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed(fields, '(body)', 'the body is not JSON');
  }
  let event: PartnerEvent;
  try {
    const type = eventTypeOf(json, partner.format);
    fields.type = type;
    if (!(partner.eventTypes as string[]).includes(type)) {
      throw new UnsupportedPartnerEventError(
        type,
        `partner ${partnerId} does not send ${type} events (it sends ${partner.eventTypes.join(', ')})`,
      );
    }
    event = checkEventSources(normalise(json, partner.format), partner);
  } catch (err) {
    if (err instanceof UnsupportedPartnerEventError) {
      fields.type = err.eventType.slice(0, 128);
      throw new Refusal(422, 'unsupported_type', {
        error: 'unsupported_event_type',
        type: err.eventType.slice(0, 128),
        message: err.message,
      });
    }
    if (err instanceof PartnerPayloadError || err instanceof UnsafeSourceError) throw malformed(fields, err.field, err.message);
    throw err;
  }
  fields.runId = event.run.id.slice(0, 128);

  const eventType = event.type as PartnerEventType;
  const receivedAt = new Date(started).toISOString();
  const job: Omit<PartnerJobMessage, 'executionId'> = {
    v: 1,
    kind: PARTNER_JOB_KINDS[eventType],
    partnerId,
    trigger: { webhookId, type: eventType, receivedAt },
    event,
    policy: partnerPolicy(partner),
  };
  const checked = PartnerJobMessageSchema.safeParse({ ...job, executionId: 'ex_0' });
  if (!checked.success) {
    const field = checked.error.issues[0]?.path.join('.') ?? '(job)';
    throw malformed(fields, field, `the job built from this event is invalid at ${field}`);
  }
  const jobBytes = Buffer.byteLength(serializeJobMessage({ ...job, executionId: 'ex_00000000_0000000000000000' }), 'utf8');
  if (jobBytes > MAX_PARTNER_JOB_BYTES)
    throw new Refusal(413, 'too_large', {
      error: 'too_large',
      message: `the event makes a ${jobBytes}-byte job; the most one job holds is ${MAX_PARTNER_JOB_BYTES}`,
    });

  try {
    const result = await acceptWebhook(
      {
        doc: deps.aws.doc,
        sqs: deps.aws.sqs,
        names: deps.names,
        now: deps.now,
        logger: deps.logger.child({ partnerId, webhookId: webhookId.slice(0, 128) }),
        marks: deps.marks,
      },
      {
        // Scoped by partner: two partners may well use the same webhook-id.
        webhookId: `partner#${partnerId}#${webhookId}`,
        job,
        newExecution: (executionId, at) =>
          newQueuedExecution({
            executionId,
            tenantId: partnerTenantId(partnerId),
            kind: job.kind,
            trigger: job.trigger,
            now: at,
            partner: { partnerId, eventType, runId: event.run.id },
          }),
      },
      { ttlDays: deps.config.dedupeTtlDays, pendingMs: deps.config.dedupePendingMs, finishTimeoutMs: deps.config.finishTimeoutMs, signal },
    );
    if (result.executionId) fields.eventId = result.executionId;
    if (result.outcome === 'accepted') return { status: 202, outcome: 'accepted', body: { eventId: result.executionId } };
    if (result.outcome === 'duplicate')
      return { status: 200, outcome: 'duplicate', body: { eventId: result.executionId, duplicate: true } };
    throw new Refusal(
      409,
      'in_progress',
      { error: 'in_progress', retryAfterSeconds: result.retryAfterSeconds },
      { 'retry-after': String(result.retryAfterSeconds) },
    );
  } catch (err) {
    if (!(err instanceof AcceptUnavailableError)) throw err;
    fields.error = err.message;
    throw unavailable(err.code);
  }
}

/** The promise, or a rejection when the request's budget runs out first (a slow secret store must not hold the answer). */
function withinBudget<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('request budget spent'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('request budget spent waiting for the partner secret'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function malformed(fields: Record<string, unknown>, field: string, message: string): Refusal {
  fields.field = field;
  return new Refusal(400, 'malformed', { error: 'malformed', field, message });
}

function headerText(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.slice(0, 128);
}

/** The raw-body parser's refusals, answered here so the route does not depend on the app's handler. */
function bodyErrors(deps: PartnerRouteDeps): ErrorRequestHandler {
  return (err, req, res, next) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'too_large', limitBytes: deps.config.partnerMaxBodyBytes });
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'malformed', field: '(body)', message: e.type ?? 'bad request' });
    } else return next(err);
    deps.counts.add('partner_rejected_body');
    deps.logger.info('partner webhook', {
      partnerId: String(req.params.partnerId ?? '').slice(0, 64),
      status: res.statusCode,
      outcome: e.type ?? 'bad_request',
    });
  };
}
