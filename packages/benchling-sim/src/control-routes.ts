import { Router, type Request, type Response } from 'express';
import { ConfigError, PackagerError } from '@bp/shared/errors';
import { isPlainObject, sendBadRequest, sendError, sendNotFound } from './benchling-errors.ts';
import type { SimContext } from './context.ts';
import { canvasSimRoutes } from './canvas-sim-routes.ts';
import { entryControlRoutes } from './entry-routes.ts';
import { downloadRoutes } from './export-routes.ts';
import type { FaultSpec } from './faults.ts';
import { type SendWebhookOptions, sendWebhook, type WebhookResult } from './webhook-sender.ts';

/** Signs with the simulator's current key and identity, and records the delivery in state. */
export async function sendSimWebhook(ctx: SimContext, o: SendWebhookOptions): Promise<WebhookResult> {
  const result = await sendWebhook(
    {
      baseURL: ctx.url(),
      tenantId: ctx.options.tenantId,
      appId: ctx.options.appId,
      appDefinitionId: ctx.options.appDefinitionId,
      signingKeys: () => [ctx.keys.current()],
    },
    o,
  );
  ctx.state.webhooksSent.push({ webhookId: result.webhookId, type: o.type, url: result.url, status: result.status });
  return result;
}

/**
 * Test-control routes under `/_sim` (not part of Benchling): edit entries, download exports,
 * inject faults, send webhooks, expire tokens, rotate keys, read state.
 */
export function controlRoutes(ctx: SimContext): Router {
  const r = Router();
  r.use(entryControlRoutes(ctx));
  r.use(downloadRoutes(ctx));
  r.use(canvasSimRoutes(ctx));

  r.get('/state', (_req: Request, res: Response) => {
    res.json(ctx.state.summary());
  });

  r.get('/faults', (_req: Request, res: Response) => {
    res.json({ faults: ctx.faults.list() });
  });
  r.post('/faults', (req: Request, res: Response) => {
    const specs: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
    if (!specs.every(isPlainObject)) return sendBadRequest(res, 'body must be a fault spec object or an array of them');
    try {
      res.status(201).json({ faults: specs.map((s) => ctx.faults.add(s as FaultSpec)) });
    } catch (err) {
      if (err instanceof ConfigError) return sendBadRequest(res, err.message);
      throw err;
    }
  });
  r.delete('/faults', (_req: Request, res: Response) => {
    ctx.faults.clear();
    res.status(204).end();
  });
  r.delete('/faults/:faultId', (req: Request<{ faultId: string }>, res: Response) => {
    if (!ctx.faults.remove(req.params.faultId)) return sendNotFound(res, 'Fault', req.params.faultId);
    res.status(204).end();
  });

  r.post('/webhooks/send', async (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isPlainObject(body) || typeof body.to !== 'string' || typeof body.type !== 'string') {
      return sendBadRequest(res, 'body must be a JSON object with at least "to" and "type"');
    }
    // Key objects cannot travel as JSON; over HTTP the current key always signs.
    const { keys: _keys, ...opts } = body;
    try {
      res.json(await sendSimWebhook(ctx, opts as unknown as SendWebhookOptions));
    } catch (err) {
      if (!(err instanceof PackagerError)) throw err;
      sendError(res, 502, 'server_error', err.message);
    }
  });

  r.post('/tokens/expire', (_req: Request, res: Response) => {
    ctx.tokens.expireAll();
    res.status(204).end();
  });
  r.post('/keys/rotate', (req: Request, res: Response) => {
    const keepOld = !(isPlainObject(req.body) && req.body.keepOld === false);
    const key = ctx.keys.rotate({ keepOld });
    res.status(201).json({ kid: key.kid, jwks: ctx.keys.jwks() });
  });
  r.post('/rate-limit/reset', (_req: Request, res: Response) => {
    ctx.limiter.reset();
    res.status(204).end();
  });
  return r;
}
