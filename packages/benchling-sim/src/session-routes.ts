import { Router, type Request, type Response } from 'express';
import { isPlainObject, sendBadRequest, sendError, sendNotFound, unknownKeys } from './benchling-errors.ts';
import type { SimContext } from './context.ts';
import { newId } from './ids.ts';

export const MESSAGE_STYLES = ['ERROR', 'INFO', 'NONE', 'SUCCESS', 'WARNING'] as const;
/** Statuses an app may set; RUNNING and TIMEOUT are Benchling's own. */
export const UPDATE_STATUSES = ['SUCCEEDED', 'FAILED', 'COMPLETED_WITH_WARNINGS'] as const;
/** Messages one PATCH may carry. */
export const MAX_MESSAGES_PER_UPDATE = 10;
const MAX_TIMEOUT_SECONDS = 30 * 86_400;

function messagesProblem(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return 'messages must be an array';
  for (const [i, m] of messages.entries()) {
    if (!isPlainObject(m)) return `messages[${i}] must be an object`;
    const extra = unknownKeys(m, ['content', 'style']);
    if (extra.length > 0) return `messages[${i}]: unknown properties ${extra.join(', ')}`;
    // Benchling counts characters, not UTF-16 units.
    const length = typeof m.content === 'string' ? [...m.content].length : -1;
    if (length < 3 || length > 200) return `messages[${i}].content must be 3-200 characters, got ${length < 0 ? 'none' : length}`;
    if (m.style !== undefined && !(MESSAGE_STYLES as readonly string[]).includes(m.style as string))
      return `messages[${i}].style must be one of ${MESSAGE_STYLES.join(', ')}`;
  }
  return undefined;
}

function timeoutProblem(v: unknown): string | undefined {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_TIMEOUT_SECONDS)
    return `timeoutSeconds must be an integer between 1 and ${MAX_TIMEOUT_SECONDS}`;
  return undefined;
}

/** A RUNNING session past its timeout has become TIMEOUT (Benchling does this on its own). */
function refreshTimeout(s: Record<string, unknown>, now = Date.now()): void {
  if (s.status === 'RUNNING' && now > Date.parse(s.createdAt as string) + (s.timeoutSeconds as number) * 1000) s.status = 'TIMEOUT';
}

/** `POST /app-sessions`, `PATCH /app-sessions/{id}` (messages appended), `GET /app-sessions/{id}`. */
export function sessionApiRoutes(ctx: SimContext): Router {
  const r = Router();

  r.post('/app-sessions', (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, ['appId', 'name', 'timeoutSeconds', 'messages']);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    if (typeof body.appId !== 'string') return sendBadRequest(res, 'appId is required');
    if (typeof body.name !== 'string' || body.name.length < 3 || body.name.length > 100)
      return sendBadRequest(res, 'name must be 3-100 characters');
    const problem = timeoutProblem(body.timeoutSeconds) ?? (body.messages === undefined ? undefined : messagesProblem(body.messages));
    if (problem) return sendBadRequest(res, problem);
    if (body.appId !== ctx.options.appId) {
      return sendError(res, 403, 'invalid_request_error', `App ${body.appId} is not this app`, { invalidId: body.appId });
    }
    const now = new Date().toISOString();
    const session: Record<string, unknown> = {
      id: newId('sesn'),
      app: { id: body.appId },
      name: body.name,
      timeoutSeconds: body.timeoutSeconds,
      status: 'RUNNING',
      messages: (body.messages as unknown[] | undefined) ?? [],
      createdAt: now,
      modifiedAt: now,
    };
    ctx.state.sessions.set(session.id as string, { current: session, history: [structuredClone(session)] });
    res.status(201).json(session);
  });

  r.get('/app-sessions/:sessionId', (req: Request<{ sessionId: string }>, res: Response) => {
    const s = ctx.state.sessions.get(req.params.sessionId);
    if (!s) return sendNotFound(res, 'Session', req.params.sessionId);
    refreshTimeout(s.current);
    res.json(s.current);
  });

  r.patch('/app-sessions/:sessionId', (req: Request<{ sessionId: string }>, res: Response) => {
    const s = ctx.state.sessions.get(req.params.sessionId);
    if (!s) return sendNotFound(res, 'Session', req.params.sessionId);
    const body: unknown = req.body;
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, ['messages', 'status', 'timeoutSeconds']);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    if (body.messages !== undefined) {
      const problem = messagesProblem(body.messages);
      if (problem) return sendBadRequest(res, problem);
      if ((body.messages as unknown[]).length > MAX_MESSAGES_PER_UPDATE)
        return sendBadRequest(res, `at most ${MAX_MESSAGES_PER_UPDATE} messages per update`);
    }
    if (body.status !== undefined && !(UPDATE_STATUSES as readonly string[]).includes(body.status as string)) {
      return sendBadRequest(res, `status must be one of ${UPDATE_STATUSES.join(', ')}`);
    }
    if (body.timeoutSeconds !== undefined) {
      const problem = timeoutProblem(body.timeoutSeconds);
      if (problem) return sendBadRequest(res, problem);
      if ((body.timeoutSeconds as number) < (s.current.timeoutSeconds as number))
        return sendBadRequest(res, 'timeoutSeconds can only be increased');
    }
    refreshTimeout(s.current);
    // Benchling closes a session once it has a final status; later updates are refused.
    if (s.current.status !== 'RUNNING')
      return sendBadRequest(res, `Session ${s.current.id as string} is ${s.current.status as string} and can no longer be updated`);

    const next: Record<string, unknown> = { ...s.current, modifiedAt: new Date().toISOString() };
    if (body.messages !== undefined) next.messages = [...((s.current.messages as unknown[]) ?? []), ...(body.messages as unknown[])];
    if (body.status !== undefined) next.status = body.status;
    if (body.timeoutSeconds !== undefined) next.timeoutSeconds = body.timeoutSeconds;
    s.current = next;
    s.history.push(structuredClone(next));
    res.json(next);
  });

  return r;
}
