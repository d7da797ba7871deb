import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, Router } from 'express';
import { describeError, type Logger } from '@bp/shared';
import type { OpsDeps } from '../deps.ts';
import { peekDlq } from '../dlq-peek.ts';
import { type ReplayFilter, replayDlq } from '../dlq-replay.ts';
import { isNotFound, isUsage, OpsUsageError } from '../errors.ts';
import { showExecution } from '../execution-detail.ts';
import { listExecutions, parseLimit, parseStatus } from '../executions.ts';
import { queueStats } from '../queues.ts';
import { parseRate } from '../rate-pacer.ts';
import { executionStats } from '../stats.ts';
import { parseSince } from '../time.ts';
import type { AlbOidcVerifier } from './alb-oidc.ts';
import { authFailureOf, callerOf } from './auth.ts';
import { mountPartnerRoutes } from './partner-routes.ts';
import type { OpsToken } from './bearer-tokens.ts';
import { createOpsGuard } from './guard.ts';

export interface OpsRouterDeps extends OpsDeps {
  /** Bearer tokens and/or the ALB OIDC verifier (`opsApiConfigFromEnv`). */
  auth: { tokens?: OpsToken[]; oidc?: AlbOidcVerifier | undefined };
  /** Every call is logged here with who made it. */
  logger: Logger;
  /**
   * The rate limits and authentication (`createOpsGuard`). Pass the instance that also guards
   * /metrics so one budget covers both; without it the router builds its own from `auth` and the
   * limits below.
   */
  guard?: RequestHandler;
  /** Refused (401) requests per client IP per minute. Default 120. */
  rateLimitPerMinute?: number;
  /** Reads per caller per minute. Default 300. */
  readsPerMinute?: number;
  /** Mutating calls per caller per minute. Default 10. */
  mutationsPerMinute?: number;
  /** Most messages one POST /dlq/replay moves; a bigger backlog takes several calls (or the CLI). Default 100. */
  replayMaxMessages?: number;
}

/**
 * The ops HTTP API. Mount it under /ops: `app.use('/ops', createOpsRouter(deps))`.
 *   GET  /executions?status&entry&tenant&since&limit   GET /executions/:id
 *   GET  /queues?peekJobs=true                          GET /dlq?limit
 *   GET  /stats?since=24h                               POST /dlq/replay {filter…, dryRun, rate, maxMessages}
 *   /partners…: see partner-routes.ts
 * Order per request: access log → guard (refusals per IP → authentication → reads or mutations
 * per caller) → handler.
 */
/**
 * The guard an operator router runs behind: the one given (shared with /metrics, so one budget
 * covers every operator route), else one built from the deps' credentials and limits.
 */
export function guardOf(deps: Omit<OpsRouterDeps, 'replayMaxMessages'>): RequestHandler {
  return (
    deps.guard ??
    createOpsGuard({
      tokens: deps.auth.tokens ?? [],
      ...(deps.auth.oidc ? { oidc: deps.auth.oidc } : {}),
      ...(deps.rateLimitPerMinute ? { failuresPerMinutePerIp: deps.rateLimitPerMinute } : {}),
      ...(deps.readsPerMinute ? { readsPerMinute: deps.readsPerMinute } : {}),
      ...(deps.mutationsPerMinute ? { mutationsPerMinute: deps.mutationsPerMinute } : {}),
    })
  );
}

export function createOpsRouter(deps: OpsRouterDeps): Router {
  const router = Router();
  router.use(accessLog(deps.logger));
  router.use(guardOf(deps));
  router.use(express.json({ limit: '16kb' }));

  router.get('/executions', async (req, res) => {
    const q = query(req);
    const executions = await listExecutions(deps, {
      ...(q.status ? { status: parseStatus(q.status) } : {}),
      ...(q.entry ? { entryId: q.entry } : {}),
      ...(q.tenant ? { tenantId: q.tenant } : {}),
      ...(q.since ? { since: parseSince(q.since, deps.clock(), 'since') } : {}),
      limit: parseLimit(q.limit, 20),
    });
    res.json({ executions });
  });

  router.get('/executions/:id', async (req, res) => {
    res.json(await showExecution(deps, String(req.params.id)));
  });

  router.get('/queues', async (req, res) => {
    res.json({ queues: await queueStats(deps, { peekJobs: query(req).peekJobs === 'true' }) });
  });

  router.get('/dlq', async (req, res) => {
    res.json({ messages: await peekDlq(deps, { limit: parseLimit(query(req).limit, 10, 100) }) });
  });

  router.get('/stats', async (req, res) => {
    res.json(await executionStats(deps, { since: parseSince(query(req).since ?? '24h', deps.clock(), 'since') }));
  });

  router.post('/dlq/replay', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const max = deps.replayMaxMessages ?? 100;
    const result = await replayDlq(deps, {
      filter: replayFilter(body),
      dryRun: optionalBool(body, 'dryRun') ?? false,
      ratePerSecond: body.rate === undefined ? 5 : parseRate(String(body.rate)),
      maxMessages: body.maxMessages === undefined ? max : parseLimit(body.maxMessages as number, max, max),
      requestedBy: `api:${callerOf(res)?.name ?? 'unknown'}`,
    });
    res.json(result);
  });

  mountPartnerRoutes(router, deps);

  router.use(errorHandler(deps.logger));
  return router;
}

/** One log line per call, after it is answered: who, what, status, how long. */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    res.on('finish', () => {
      const caller = callerOf(res);
      logger.info('ops call', {
        who: caller ? `${caller.via}:${caller.name}` : 'anonymous',
        method: req.method,
        path: req.originalUrl.slice(0, 300),
        status: res.statusCode,
        ms: Date.now() - started,
        ...(authFailureOf(res) ? { refused: authFailureOf(res) } : {}),
      });
    });
    next();
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res: Response, _next) => {
    const e = describeError(err);
    if (isUsage(err) || (err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad_request', message: e.message });
    } else if (isNotFound(err)) {
      res.status(404).json({ error: 'not_found', message: e.message });
    } else {
      // The message may name tables, ARNs or accounts: it goes to the log, the caller gets its id.
      const errorId = randomUUID();
      logger.error('ops call failed', { errorId, error: e });
      res.status(500).json({ error: 'internal', errorId });
    }
  };
}

export function query(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query)) out[k] = typeof v === 'string' ? v : undefined;
  return out;
}

function replayFilter(body: Record<string, unknown>): ReplayFilter {
  const text = (k: string) => {
    const v = body[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '' || v.length > 200)
      throw new OpsUsageError(`${k} must be a non-empty string of at most 200 characters`);
    return v;
  };
  const executionId = text('executionId');
  const entryId = text('entryId');
  const errorMatches = text('errorMatches');
  let re: RegExp | undefined;
  if (errorMatches !== undefined) {
    try {
      re = new RegExp(errorMatches, 'i');
    } catch (err) {
      throw new OpsUsageError(`errorMatches is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return {
    ...(executionId ? { executionId } : {}),
    ...(entryId ? { entryId } : {}),
    ...(re ? { errorMatches: re } : {}),
    ...(optionalBool(body, 'all') ? { all: true } : {}),
  };
}

function optionalBool(body: Record<string, unknown>, k: string): boolean | undefined {
  const v = body[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new OpsUsageError(`${k} must be true or false`);
  return v;
}
