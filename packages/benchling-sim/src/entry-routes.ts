import { Router, type Request, type Response } from 'express';
import { PackagerError } from '@bp/shared/errors';
import { isPlainObject, sendBadRequest, sendNotFound, unknownKeys } from './benchling-errors.ts';
import { entryOf, type SimContext } from './context.ts';
import { applyEdit, entryResource } from './entries.ts';
import { scenarioFor } from './magic-ids.ts';

/** `GET /entries/{id}`: any id exists (generated from the id), except `etr_missing…`. */
export function entryApiRoutes(ctx: SimContext): Router {
  const r = Router();
  r.get('/entries/:entryId', (req: Request<{ entryId: string }>, res: Response) => {
    const id = req.params.entryId;
    if (scenarioFor(id).missing) return sendNotFound(res, 'Entry', id);
    res.json({ entry: entryResource(entryOf(ctx, id), ctx.url()) });
  });
  return r;
}

/**
 * `POST /_sim/entries/{id}` `{name?, fields?}`: edits an entry as a user would in Benchling
 * (bumps `modifiedAt` and the revision), so tests can simulate edits between webhooks.
 */
export function entryControlRoutes(ctx: SimContext): Router {
  const r = Router();
  r.post('/entries/:entryId', (req: Request<{ entryId: string }>, res: Response) => {
    const id = req.params.entryId;
    if (scenarioFor(id).missing) return sendNotFound(res, 'Entry', id);
    const body: unknown = req.body ?? {};
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, ['name', 'fields']);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    if (body.fields !== undefined && !isPlainObject(body.fields)) return sendBadRequest(res, 'fields must be an object');
    try {
      const edited = applyEdit(entryOf(ctx, id), body as { name?: string; fields?: Record<string, unknown> });
      ctx.state.entries.set(id, edited);
      res.json({ revision: edited.revision, entry: entryResource(edited, ctx.url()) });
    } catch (err) {
      if (err instanceof PackagerError) return sendBadRequest(res, err.message);
      throw err;
    }
  });
  r.get('/entries/:entryId', (req: Request<{ entryId: string }>, res: Response) => {
    const rec = ctx.state.entries.get(req.params.entryId);
    if (!rec) return sendNotFound(res, 'Entry', req.params.entryId);
    res.json(rec);
  });
  return r;
}
