import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { isPlainObject, sendBadRequest, sendNotFound, unknownKeys } from './benchling-errors.ts';
import { entryOf, type SimContext } from './context.ts';
import { type ExportFormat, planExportZip } from './export-zip-plan.ts';
import { scenarioFor } from './magic-ids.ts';
import type { ExportTask } from './state.ts';

/** How long a download URL stays valid, like Benchling's presigned S3 URLs. Seconds. */
export const DOWNLOAD_URL_TTL_SECONDS = 86_400;

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** A URL shaped like Benchling's presigned S3 link; only the token in the path matters here. */
function downloadUrl(ctx: SimContext, t: ExportTask, issuedAt: number): string {
  const date = amzDate(issuedAt);
  const q = new URLSearchParams({
    'response-content-disposition': 'attachment',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `SIMULATOR/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': date,
    'X-Amz-Expires': String(DOWNLOAD_URL_TTL_SECONDS),
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': createHmac('sha256', t.downloadToken).update(date).digest('hex'),
  });
  return `${ctx.url()}/_sim/downloads/${t.downloadToken}.zip?${q.toString()}`;
}

/** The task as `GET /tasks/{id}` shows it now. */
export function taskView(ctx: SimContext, t: ExportTask, now = Date.now()): Record<string, unknown> {
  if (now - t.startedAt < t.runningForMs) return { status: 'RUNNING' };
  if (t.fails) return { status: 'FAILED', message: `Export of ${t.entryId} failed: the document could not be rendered.` };
  if (t.zipError) return { status: 'FAILED', message: `Export of ${t.entryId} failed: ${t.zipError}` };
  // The delay has passed but the ZIP is still being produced: Benchling would still be working.
  if (!t.zipPath) return { status: 'RUNNING' };
  t.downloadIssuedAt ??= now;
  return { status: 'SUCCEEDED', response: { downloadURL: downloadUrl(ctx, t, t.downloadIssuedAt) } };
}

/** `POST /exports` and `GET /tasks/{id}` (behind auth). */
export function exportApiRoutes(ctx: SimContext): Router {
  const r = Router();
  r.post('/exports', (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isPlainObject(body)) return sendBadRequest(res, 'body must be a JSON object');
    const extra = unknownKeys(body, ['id', 'format']);
    if (extra.length > 0) return sendBadRequest(res, `unknown properties: ${extra.join(', ')}`);
    if (typeof body.id !== 'string' || body.id === '') return sendBadRequest(res, 'id is required');
    const format = (body.format ?? 'pdf') as ExportFormat;
    if (format !== 'pdf' && format !== 'html') return sendBadRequest(res, `format must be pdf or html, got ${String(body.format)}`);
    const scenario = scenarioFor(body.id);
    if (scenario.missing) return sendBadRequest(res, `Item not found: ${body.id}`, body.id);

    const task: ExportTask = {
      taskId: randomUUID(),
      entryId: body.id,
      snapshot: { entry: structuredClone(entryOf(ctx, body.id)), format },
      startedAt: Date.now(),
      runningForMs: scenario.slow ? ctx.options.slowExportDelayMs : ctx.options.exportDelayMs,
      fails: scenario.fail,
      downloadToken: randomBytes(18).toString('base64url'),
    };
    ctx.state.exports.set(task.taskId, task);
    ctx.state.exportsStarted.set(task.entryId, ctx.state.exportsStartedFor(task.entryId) + 1);
    if (!task.fails) {
      // Prepared while the task runs, as Benchling does; the task succeeds only once it exists.
      ctx.zips.ensure(planExportZip(task.snapshot)).then(
        (file) => (task.zipPath = file),
        (err: Error) => (task.zipError = err.message),
      );
    }
    res.status(202).json({ taskId: task.taskId });
  });

  r.get('/tasks/:taskId', (req: Request<{ taskId: string }>, res: Response) => {
    const t = ctx.state.exports.get(req.params.taskId);
    if (!t) return sendNotFound(res, 'Task', req.params.taskId);
    res.json(taskView(ctx, t));
  });
  return r;
}

function s3Error(res: Response, status: number, code: string, message: string): void {
  res
    .status(status)
    .type('application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** `GET /_sim/downloads/{token}.zip`: the export ZIP, no auth (like a presigned URL), with Range support. */
export function downloadRoutes(ctx: SimContext): Router {
  const r = Router();
  r.get('/downloads/:file', (req: Request<{ file: string }>, res: Response, next: NextFunction) => {
    const token = req.params.file.replace(/\.zip$/, '');
    const t = [...ctx.state.exports.values()].find((x) => x.downloadToken === token);
    if (!t?.zipPath || t.downloadIssuedAt === undefined) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (Date.now() - t.downloadIssuedAt > DOWNLOAD_URL_TTL_SECONDS * 1000) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
    res.sendFile(
      t.zipPath,
      {
        headers: {
          'content-disposition': `attachment; filename="${t.entryId.replace(/[^\w.-]/g, '_')}.zip"`,
          'content-type': 'application/zip',
        },
      },
      (err) => {
        // A client that hangs up mid-download is normal (and what timeout tests do).
        if (err && !res.headersSent) next(err);
      },
    );
  });
  return r;
}
