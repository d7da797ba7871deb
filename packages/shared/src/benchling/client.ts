import pRetry from 'p-retry';
import type { z } from 'zod';
import { PackagerError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { TokenProvider } from './auth.ts';
import { benchlingErrorFromFailure, benchlingErrorFromResponse, type BenchlingRequestInfo, invalidResponseError } from './errors.ts';
import {
  type AppCanvas,
  type AppCanvasCreate,
  type AppCanvasUpdate,
  type AppSession,
  type AppSessionCreate,
  type AppSessionUpdate,
  appCanvasSchema,
  appSessionSchema,
  asyncTaskLinkSchema,
  asyncTaskSchema,
  type BenchlingTask,
  type Entry,
  entryByIdSchema,
  type ExportFormat,
} from './models.ts';
import type { TenantBudget } from './rate-limit.ts';

/** In-process retry policy for retryable failures (429, 5xx, network, timeout). */
export interface BenchlingRetryOptions {
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** Milliseconds before the first retry, doubled each time and randomised ×1–2. Default 500. */
  minTimeoutMs?: number;
  /** Upper bound in milliseconds of one backoff. Default 20000. */
  maxTimeoutMs?: number;
}

export interface BenchlingClientOptions {
  /** Tenant origin, e.g. `https://acme.benchling.com`; the client adds `/api/v2`. Validate it before (see BenchlingClientPool). */
  baseURL: string;
  /** OAuth client id of the Benchling app. */
  clientId: string;
  /** OAuth client secret of the Benchling app. Never logged. */
  clientSecret: string;
  /** The tenant's shared request budget (from `BudgetRegistry.forTenant`). */
  budget: TenantBudget;
  /** Where retries are logged (warn). */
  logger: Logger;
  /** HTTP implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds one HTTP request may take, response body included. Default 15000. */
  requestTimeoutMs?: number;
  retry?: BenchlingRetryOptions;
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Benchling REST v2 for one tenant. Every call: token → tenant budget → fetch with a timeout →
 * budget fed from the rate-limit headers → one token refresh on 401 → typed errors
 * (see errors.ts). Retryable errors are retried here with jittered backoff; the error that
 * escapes after the last retry is still the typed, retryable one, so the worker can hand the
 * job back to the queue.
 */
export class BenchlingClient {
  private readonly apiBase: string;
  private readonly tokens: TokenProvider;
  private readonly budget: TenantBudget;
  private readonly logger: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number;
  private readonly retry: Required<BenchlingRetryOptions>;

  constructor(deps: BenchlingClientOptions) {
    this.apiBase = `${deps.baseURL.replace(/\/+$/, '')}/api/v2`;
    this.budget = deps.budget;
    this.logger = deps.logger;
    this.fetchImpl = deps.fetch ?? globalThis.fetch;
    this.requestTimeoutMs = deps.requestTimeoutMs ?? 15_000;
    this.retry = {
      retries: deps.retry?.retries ?? 4,
      minTimeoutMs: deps.retry?.minTimeoutMs ?? 500,
      maxTimeoutMs: deps.retry?.maxTimeoutMs ?? 20_000,
    };
    if (!(this.requestTimeoutMs > 0)) throw new RangeError(`requestTimeoutMs must be > 0, got ${this.requestTimeoutMs}`);
    if (!(this.retry.retries >= 0)) throw new RangeError(`retry.retries must be >= 0, got ${this.retry.retries}`);
    this.tokens = new TokenProvider({
      baseURL: deps.baseURL,
      clientId: deps.clientId,
      clientSecret: deps.clientSecret,
      fetch: this.fetchImpl,
      requestTimeoutMs: this.requestTimeoutMs,
      // Token calls (one per ~14 min) skip the budget's queue so a held budget cannot starve the 401 path, but still feed it.
      onResponse: (status, headers) => this.budget.recordResponse(status, headers),
    });
  }

  /** `GET /entries/{id}`: the entry with its fields, days and every other field Benchling sends. */
  async getEntry(entryId: string): Promise<Entry> {
    const body = await this.request('GET', `/entries/${encodeURIComponent(entryId)}`, entryByIdSchema);
    return body.entry;
  }

  /** `POST /exports`: starts an export of the entry and returns the task id to poll. */
  async startExport(entryId: string, format: ExportFormat = 'pdf'): Promise<string> {
    const body = await this.request('POST', '/exports', asyncTaskLinkSchema, { id: entryId, format });
    return body.taskId;
  }

  /** `GET /tasks/{id}`: one poll of a long-running task (does not wait for it to finish). */
  async getTask(taskId: string): Promise<BenchlingTask> {
    const t = await this.request('GET', `/tasks/${encodeURIComponent(taskId)}`, asyncTaskSchema);
    const task: BenchlingTask = { status: t.status };
    if (typeof t.response?.downloadURL === 'string') task.downloadURL = t.response.downloadURL;
    if (typeof t.message === 'string') task.message = t.message;
    if (t.errors !== undefined) task.errors = t.errors;
    return task;
  }

  /** `POST /app-canvases`: attaches a canvas to an entry (after `v2.canvas.initialized`). */
  createCanvas(body: AppCanvasCreate): Promise<AppCanvas> {
    return this.request('POST', '/app-canvases', appCanvasSchema, body);
  }

  /** `PATCH /app-canvases/{id}`: replaces the given properties (blocks replace all blocks). */
  updateCanvas(canvasId: string, body: AppCanvasUpdate): Promise<AppCanvas> {
    return this.request('PATCH', `/app-canvases/${encodeURIComponent(canvasId)}`, appCanvasSchema, body);
  }

  /** `GET /app-canvases/{id}`. */
  getCanvas(canvasId: string): Promise<AppCanvas> {
    return this.request('GET', `/app-canvases/${encodeURIComponent(canvasId)}`, appCanvasSchema);
  }

  /** `POST /app-sessions`: a session whose messages a canvas with its `sessionId` shows. */
  createAppSession(body: AppSessionCreate): Promise<AppSession> {
    return this.request('POST', '/app-sessions', appSessionSchema, body);
  }

  /** `PATCH /app-sessions/{id}`: adds messages (≤ 10) and/or sets the final status. */
  updateAppSession(sessionId: string, body: AppSessionUpdate): Promise<AppSession> {
    return this.request('PATCH', `/app-sessions/${encodeURIComponent(sessionId)}`, appSessionSchema, body);
  }

  /** One API call with in-process retries of retryable failures only. */
  private request<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const req: BenchlingRequestInfo = { method, path };
    return pRetry(() => this.attempt(req, schema, body), {
      retries: this.retry.retries,
      minTimeout: this.retry.minTimeoutMs,
      maxTimeout: this.retry.maxTimeoutMs,
      factor: 2,
      randomize: true,
      // Only our typed retryable errors: anything else is a bug and retrying would hide it.
      shouldRetry: ({ error }) => error instanceof PackagerError && error.retryable,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof PackagerError && error.retryable) || retriesLeft <= 0) return;
        this.logger.warn('Benchling request failed, retrying', {
          method,
          path,
          status: (error as { status?: number }).status,
          code: error.code,
          attempt: attemptNumber,
          retriesLeft,
          // A 429's hold is enforced by the tenant budget before the next send.
          retryAfterMs: (error as { retryAfterMs?: number }).retryAfterMs,
          error: error.message,
        });
      },
    });
  }

  /** One attempt: send, and on 401 refresh the token once and send again. */
  private async attempt<S extends z.ZodType>(req: BenchlingRequestInfo, schema: S, body: unknown): Promise<z.infer<S>> {
    let token = await this.tokens.getToken();
    let res = await this.send(req, token, body);
    if (res.status === 401) {
      this.tokens.invalidate(token);
      token = await this.tokens.getToken();
      res = await this.send(req, token, body);
    }
    if (res.status < 200 || res.status > 299) throw benchlingErrorFromResponse(req, res, res.text);
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw invalidResponseError(req, res.status, 'not JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidResponseError(req, res.status, issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'schema mismatch');
    }
    return parsed.data;
  }

  /** Waits for the tenant budget, sends one HTTP request, and feeds the budget from the answer. */
  private async send(req: BenchlingRequestInfo, token: string, body: unknown): Promise<RawResponse> {
    await this.budget.acquire();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await this.fetchImpl(`${this.apiBase}${req.path}`, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      this.budget.recordResponse(res.status, res.headers);
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (err) {
      throw benchlingErrorFromFailure(req, err);
    }
  }
}
