import { Router } from 'express';
import { parseLimit } from '../executions.ts';
import {
  listPartnerEvents,
  listPartners,
  parseEventStatus,
  parseEventType,
  partnerEventStats,
  showPartnerEvent,
} from '../partner-events.ts';
import { parseSince } from '../time.ts';
import { accessLog, errorHandler, guardOf, type OpsRouterDeps, query } from './router.ts';

/**
 * The partner events query API (issue item 6), mounted at /webhooks on the ingress, behind the
 * same credentials, rate limit and access log as /ops:
 *   GET /stats?since=24h&partner=      GET /partners       GET /partners/:id/events?status&type&since&limit
 *   GET /events?status&partner&type&since&limit                GET /events/:eventId
 * Statuses are the partner lifecycle's: received, processing, retrying, completed, failed (and superseded).
 */
export function createWebhooksQueryRouter(deps: Omit<OpsRouterDeps, 'replayMaxMessages'>): Router {
  const router = Router();
  router.use(accessLog(deps.logger));
  // The same guard as /ops and /metrics when given, so one budget covers every operator route.
  router.use(guardOf(deps));

  const filter = (q: Record<string, string | undefined>, partnerId?: string) => {
    const status = parseEventStatus(q.status);
    const type = parseEventType(q.type);
    const partner = partnerId ?? q.partner;
    return {
      ...(partner ? { partnerId: partner } : {}),
      ...(status ? { status } : {}),
      ...(type ? { type } : {}),
      ...(q.since ? { since: parseSince(q.since, deps.clock(), 'since') } : {}),
      limit: parseLimit(q.limit, 50),
    };
  };

  router.get('/stats', async (req, res) => {
    const q = query(req);
    res.json(
      await partnerEventStats(deps, {
        since: parseSince(q.since ?? '24h', deps.clock(), 'since'),
        ...(q.partner ? { partnerId: q.partner } : {}),
      }),
    );
  });
  router.get('/partners', async (_req, res) => {
    res.json({ partners: await listPartners(deps) });
  });
  router.get('/partners/:id/events', async (req, res) => {
    res.json({ events: await listPartnerEvents(deps, filter(query(req), String(req.params.id))) });
  });
  router.get('/events', async (req, res) => {
    res.json({ events: await listPartnerEvents(deps, filter(query(req))) });
  });
  router.get('/events/:eventId', async (req, res) => {
    res.json(await showPartnerEvent(deps, String(req.params.eventId)));
  });
  router.use(errorHandler(deps.logger));
  return router;
}
