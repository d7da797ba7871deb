import { Router, type Request, type Response } from 'express';
import { isPlainObject, sendBadRequest, sendError, sendNotFound } from './benchling-errors.ts';
import { canvasPreviewHtml } from './canvas-preview.ts';
import type { SimContext } from './context.ts';
import { sendSimWebhook } from './control-routes.ts';

/** A canvas as the control routes show it: current state and how many versions it went through. */
function summary(ctx: SimContext, id: string) {
  const c = ctx.state.canvases.get(id);
  if (!c) return undefined;
  const sessionId = c.current.sessionId;
  const session = typeof sessionId === 'string' ? ctx.state.sessions.get(sessionId)?.current : undefined;
  return { id, versions: c.history.length, current: c.current, ...(session ? { session } : {}) };
}

/**
 * Test controls for canvases (not Benchling): list by entry, read one, preview it as HTML, and
 * click one of its buttons, which sends the signed `v2.canvas.userInteracted` webhook to the
 * receiver set with `PUT /_sim/webhook-target` (or the `webhookTarget` option).
 */
export function canvasSimRoutes(ctx: SimContext): Router {
  const r = Router();
  r.get('/canvases', (req: Request, res: Response) => {
    const resourceId = typeof req.query.resourceId === 'string' ? req.query.resourceId : undefined;
    const ids = [...ctx.state.canvases.keys()].filter((id) => !resourceId || ctx.state.canvases.get(id)!.current.resourceId === resourceId);
    res.json({ canvases: ids.map((id) => summary(ctx, id)) });
  });
  r.get('/canvases/:canvasId', (req: Request<{ canvasId: string }>, res: Response) => {
    const s = summary(ctx, req.params.canvasId);
    if (!s) return sendNotFound(res, 'Canvas', req.params.canvasId);
    res.json(s);
  });
  r.get('/canvases/:canvasId/preview', (req: Request<{ canvasId: string }>, res: Response) => {
    const s = summary(ctx, req.params.canvasId);
    if (!s) return sendNotFound(res, 'Canvas', req.params.canvasId);
    res.type('html').send(canvasPreviewHtml({ canvas: s.current, versions: s.versions, ...(s.session ? { session: s.session } : {}) }));
  });
  r.post('/canvases/:canvasId/click', async (req: Request<{ canvasId: string }>, res: Response) => {
    const c = ctx.state.canvases.get(req.params.canvasId);
    if (!c) return sendNotFound(res, 'Canvas', req.params.canvasId);
    if (!isPlainObject(req.body) || typeof req.body.buttonId !== 'string') return sendBadRequest(res, 'body must be {"buttonId": "…"}');
    const to = ctx.webhookTarget.url;
    if (!to)
      return sendError(res, 409, 'invalid_request_error', 'no webhook target: PUT /_sim/webhook-target {"url": "http://ingress"} first');
    const result = await sendSimWebhook(ctx, {
      to,
      type: 'v2.canvas.userInteracted',
      canvasId: req.params.canvasId,
      buttonId: req.body.buttonId,
      featureId: String(c.current.featureId ?? ''),
      userId: 'ent_sim_preview',
    });
    res.json({ status: result.status, body: result.body, webhookId: result.webhookId });
  });
  r.put('/webhook-target', (req: Request, res: Response) => {
    if (!isPlainObject(req.body) || typeof req.body.url !== 'string' || !/^https?:\/\//.test(req.body.url))
      return sendBadRequest(res, 'body must be {"url": "http(s)://…"}');
    ctx.webhookTarget.url = req.body.url;
    res.json({ url: req.body.url });
  });
  return r;
}
