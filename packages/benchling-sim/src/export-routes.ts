import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { type Stats, createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { byteRange, ifMatchFails } from './byte-range.ts';
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
    serveZip(req, res, t.zipPath, `${t.entryId.replace(/[^\w.-]/g, '_')}.zip`).catch(next);
  });
  return r;
}

/**
 * Bytes read from the ZIP's file per chunk sent: 1 MiB rather than the 64 KiB of fs streams (and
 * of express's sendFile). A real export URL is S3's, which costs the worker's machine nothing; the
 * simulator shares the benches' two cores with the worker, and 64 KiB reads cost it about 2.5 ×
 * the CPU (serving 20 MB: 46–54 ms against 17–22 ms, docs/benchmarks.md).
 */
const DOWNLOAD_READ_BYTES = 1024 * 1024;

/**
 * Sends the ZIP at `path` as S3 sends an object: a strong ETag, Last-Modified, one byte range
 * (`bytes=a-b`, `a-`, `-n`) as a 206, an unsatisfiable one as a 416, and a failed If-Match as a 412.
 * A client that hangs up mid-download is normal (and what the timeout tests do).
 */
async function serveZip(req: Request, res: Response, path: string, filename: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch {
    return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  }
  const size = st.size;
  const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  if (ifMatchFails(req.headers['if-match'], etag))
    return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  const headers: Record<string, string | number> = {
    etag,
    'last-modified': st.mtime.toUTCString(),
    'accept-ranges': 'bytes',
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${filename}"`,
  };
  let start = 0;
  let end = size; // exclusive
  let status = 200;
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${size}`);
    return s3Error(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
  }
  if (range) {
    ({ start, end } = range);
    status = 206;
    headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
  }
  headers['content-length'] = end - start;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || end === start) return void res.end();
  await pipeline(createReadStream(path, { start, end: end - 1, highWaterMark: DOWNLOAD_READ_BYTES }), res).catch(() => {
    // Headers are out: a hang-up or a read error can only end the connection, which pipeline did.
  });
}
