import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import { handlePartnerFile, PARTNER_FILES_PATH } from './partner-files.ts';
import { requireBearer, rateLimitMiddleware, tokenHandler } from './api-auth.ts';
import { sendError, sendNotFound } from './benchling-errors.ts';
import { canvasApiRoutes } from './canvas-routes.ts';
import type { SimContext } from './context.ts';
import { controlRoutes } from './control-routes.ts';
import { entryApiRoutes } from './entry-routes.ts';
import { exportApiRoutes } from './export-routes.ts';
import { faultMiddleware } from './faults.ts';
import { sessionApiRoutes } from './session-routes.ts';
import { routeTemplate } from './state.ts';

/** Largest JSON body the simulated API accepts. */
const API_BODY_LIMIT = '1mb';

/** The simulator's Express app: Benchling's API under `/api/v2`, the JWKS, and `/_sim` test controls. */
export function createSimulatorApp(ctx: SimContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // A sequencing partner's run files (generated, Range supported): see partner-files.ts.
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path.startsWith(`${PARTNER_FILES_PATH}/`) ? handlePartnerFile(req, res, next) : next(),
  );

  app.use((req: Request, res: Response, next: NextFunction) => {
    // Captured now: routers rewrite req.path relative to their mount point.
    const path = req.path;
    // 'close' also fires when a fault cut the connection; such requests are logged with status 0.
    res.on('close', () => {
      const clientId = res.locals.clientId as string | undefined;
      ctx.state.recordRequest({
        at: Date.now(),
        method: req.method,
        path,
        route: routeTemplate(req.method, path),
        status: res.writableFinished ? res.statusCode : 0,
        ...(clientId === undefined ? {} : { clientId }),
        ...(path.startsWith('/api/v2/') && req.is('application/json') && req.body !== undefined ? { body: req.body as unknown } : {}),
      });
    });
    next();
  });

  app.use(
    faultMiddleware(ctx.faults, {
      rateLimit: ctx.options.rateLimit.limit,
      onInjected: () => ctx.state.faultsInjected++,
      pending: ctx.pendingTimers,
    }),
  );

  app.get('/api/v1/apps/:appDefinitionId/jwks', (req: Request<{ appDefinitionId: string }>, res: Response) => {
    if (req.params.appDefinitionId !== ctx.options.appDefinitionId) return sendNotFound(res, 'App definition', req.params.appDefinitionId);
    ctx.state.jwksFetches++;
    res.json(ctx.keys.jwks());
  });

  const api = Router();
  api.use(express.urlencoded({ extended: false, limit: API_BODY_LIMIT }), express.json({ limit: API_BODY_LIMIT }));
  api.use(rateLimitMiddleware(ctx));
  api.post('/token', tokenHandler(ctx));
  api.use(requireBearer(ctx));
  api.use(entryApiRoutes(ctx), exportApiRoutes(ctx), canvasApiRoutes(ctx), sessionApiRoutes(ctx));
  api.use((req: Request, res: Response) => sendError(res, 404, 'invalid_request_error', `No route for ${req.method} ${req.originalUrl}`));
  app.use('/api/v2', api);

  app.use('/_sim', express.json({ limit: '10mb' }), controlRoutes(ctx));

  app.use((req: Request, res: Response) => sendError(res, 404, 'invalid_request_error', `No route for ${req.method} ${req.originalUrl}`));

  // Malformed JSON and oversize bodies arrive here from the body parsers with their status.
  app.use((err: Error & { status?: number; statusCode?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status ?? err.statusCode ?? 500;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(
      res,
      status,
      status >= 500 ? 'server_error' : 'invalid_request_error',
      status >= 500 ? `Internal error: ${err.message}` : err.message,
    );
  });
  return app;
}
