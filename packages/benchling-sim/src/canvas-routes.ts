import { Router, type Request, type Response } from 'express';
import { isPlainObject, sendBadRequest, sendError, sendNotFound, unknownKeys } from './benchling-errors.ts';
import { blocksProblem } from './canvas-blocks.ts';
import type { SimContext } from './context.ts';
import { newId } from './ids.ts';
import { loadOpenApi } from './openapi.ts';

const CREATE_KEYS = ['appId', 'featureId', 'resourceId', 'blocks', 'enabled', 'sessionId', 'data'];
const UPDATE_KEYS = ['featureId', 'resourceId', 'blocks', 'enabled', 'sessionId', 'data'];
/** Benchling's limit on a canvas's `data` string. Bytes. */
const DATA_LIMIT_BYTES = 5 * 1024;

/** Problems common to create and update: optional fields' types, session reference, data size. */
function writeProblem(
  ctx: SimContext,
  body: Record<string, unknown>,
  schema: 'AppCanvasCreate' | 'AppCanvasUpdate',
): { message: string; invalidId?: string } | undefined {
  for (const k of ['featureId', 'resourceId'] as const) {
    if (body[k] !== undefined && (typeof body[k] !== 'string' || body[k] === '')) return { message: `${k} must be a non-empty string` };
  }
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') return { message: 'enabled must be a boolean' };
  if (body.blocks !== undefined) {
    const p = blocksProblem(body.blocks);
    if (p) return { message: p };
  }
  if (body.sessionId !== undefined && body.sessionId !== null) {
    if (typeof body.sessionId !== 'string' || !ctx.state.sessions.has(body.sessionId)) {
      return { message: `Session not found: ${String(body.sessionId)}`, invalidId: String(body.sessionId) };
    }
  }
  if (body.data !== undefined && body.data !== null) {
    if (typeof body.data !== 'string') return { message: 'data must be a string of JSON' };
    if (Buffer.byteLength(body.data) >= DATA_LIMIT_BYTES) return { message: 'data must be less than 5kb' };
    try {
      JSON.parse(body.data);
    } catch {
      return { message: 'data must be valid JSON in string format' };
    }
  }
  // Anything the checks above do not name: Benchling's own schema (block types and their fields).
  const schemaErrors = loadOpenApi().errorsFor(schema, body);
  if (schemaErrors.length > 0) return { message: `body does not match ${schema}: ${schemaErrors[0]}` };
  return undefined;
}

/**
 * `POST /app-canvases`, `PATCH /app-canvases/{id}`, `GET /app-canvases/{id}`. Every version
 * written is kept in `state.canvases` so tests can replay what a user saw.
 */
export function canvasApiRoutes(ctx: SimContext): Router {
  const r = Router();

  r.post('/app-canvases', (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, CREATE_KEYS);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    for (const k of ['appId', 'featureId', 'resourceId'] as const) {
      if (typeof body[k] !== 'string' || body[k] === '') return sendBadRequest(res, `${k} is required`);
    }
    if (body.blocks === undefined) return sendBadRequest(res, 'blocks is required');
    const problem = writeProblem(ctx, body, 'AppCanvasCreate');
    if (problem) return sendBadRequest(res, problem.message, problem.invalidId);
    if (body.appId !== ctx.options.appId) {
      return sendError(res, 403, 'invalid_request_error', `App ${String(body.appId)} is not this app`, { invalidId: String(body.appId) });
    }
    const canvas: Record<string, unknown> = {
      id: newId('cnvs'),
      app: { id: body.appId },
      featureId: body.featureId,
      resourceId: body.resourceId,
      blocks: body.blocks,
      enabled: body.enabled ?? true,
      sessionId: body.sessionId ?? null,
      data: body.data ?? null,
      archiveRecord: null,
    };
    ctx.state.canvases.set(canvas.id as string, { current: canvas, history: [structuredClone(canvas)] });
    res.status(201).json(canvas);
  });

  r.get('/app-canvases/:canvasId', (req: Request<{ canvasId: string }>, res: Response) => {
    const c = ctx.state.canvases.get(req.params.canvasId);
    if (!c) return sendNotFound(res, 'Canvas', req.params.canvasId);
    res.json(c.current);
  });

  r.patch('/app-canvases/:canvasId', (req: Request<{ canvasId: string }>, res: Response) => {
    const c = ctx.state.canvases.get(req.params.canvasId);
    if (!c) return sendNotFound(res, 'Canvas', req.params.canvasId);
    const body: unknown = req.body;
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, UPDATE_KEYS);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    const problem = writeProblem(ctx, body, 'AppCanvasUpdate');
    if (problem) return sendBadRequest(res, problem.message, problem.invalidId);
    const next = { ...c.current };
    for (const k of UPDATE_KEYS) if (body[k] !== undefined) next[k] = body[k];
    c.current = next;
    c.history.push(structuredClone(next));
    res.json(next);
  });

  return r;
}
