import { type ErrorCode, PermanentError, TransientError } from '../errors.ts';

/** The request an error belongs to. `path` is below `/api/v2` and never carries a query string. */
export interface BenchlingRequestInfo {
  method: string;
  path: string;
}

/** Benchling's own error body: `{"error":{type,message,userMessage,invalidId?}}`. */
export interface BenchlingErrorBody {
  type?: string;
  message?: string;
  userMessage?: string;
  invalidId?: string;
}

/** What every Benchling API error carries, whichever side of the retry line it falls. */
interface BenchlingErrorFacts extends BenchlingRequestInfo {
  /** HTTP status; undefined for network failures and timeouts. */
  status?: number;
  benchling?: BenchlingErrorBody;
  /** Request id from the response headers, for Benchling support. */
  requestId?: string;
  cause?: unknown;
}

function summarize(f: BenchlingErrorFacts, what: string): string {
  const reason = f.benchling?.message ?? what;
  return `Benchling ${f.method} ${f.path} failed${f.status === undefined ? '' : ` with ${f.status}`}: ${reason}`;
}

function detailsOf(f: BenchlingErrorFacts): Record<string, unknown> {
  const d: Record<string, unknown> = { method: f.method, path: f.path };
  if (f.status !== undefined) d.status = f.status;
  if (f.benchling?.type) d.benchlingType = f.benchling.type;
  if (f.benchling?.userMessage) d.userMessage = f.benchling.userMessage;
  if (f.benchling?.invalidId) d.invalidId = f.benchling.invalidId;
  if (f.requestId) d.requestId = f.requestId;
  return d;
}

/** A Benchling failure that waiting can fix (429, 5xx, network, timeout). Retried in-process, then by the queue. */
export class BenchlingTransientError extends TransientError {
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly benchling: BenchlingErrorBody;
  readonly requestId: string | undefined;

  constructor(facts: BenchlingErrorFacts, opts: { code: ErrorCode; what: string; retryAfterMs?: number }) {
    super(summarize(facts, opts.what), { code: opts.code, cause: facts.cause, details: detailsOf(facts), retryAfterMs: opts.retryAfterMs });
    this.status = facts.status;
    this.method = facts.method;
    this.path = facts.path;
    this.benchling = facts.benchling ?? {};
    this.requestId = facts.requestId;
  }
}

/** A Benchling failure retrying cannot fix (4xx, a response we cannot read). Fails the execution at once. */
export class BenchlingPermanentError extends PermanentError {
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly benchling: BenchlingErrorBody;
  readonly requestId: string | undefined;

  constructor(facts: BenchlingErrorFacts, opts: { code: ErrorCode; what: string }) {
    super(summarize(facts, opts.what), { code: opts.code, cause: facts.cause, details: detailsOf(facts) });
    this.status = facts.status;
    this.method = facts.method;
    this.path = facts.path;
    this.benchling = facts.benchling ?? {};
    this.requestId = facts.requestId;
  }
}

/** 429: the tenant's budget is spent; `retryAfterMs` comes from `x-rate-limit-reset`. */
export class BenchlingRateLimitError extends BenchlingTransientError {}
/** 500, 502, 503, 504 (and other 5xx). */
export class BenchlingServerError extends BenchlingTransientError {}
/** Connection refused/reset, DNS failure, or no complete answer within the request timeout. */
export class BenchlingNetworkError extends BenchlingTransientError {}

/** 400 and 422: the request is wrong and will stay wrong. */
export class BenchlingBadRequestError extends BenchlingPermanentError {}
/** 401 even with a freshly issued token, or the token endpoint refused the client credentials. */
export class BenchlingUnauthorizedError extends BenchlingPermanentError {}
/** 403: the app lacks access to the resource. */
export class BenchlingForbiddenError extends BenchlingPermanentError {}
/** 404: the entry, task or canvas does not exist (or the app cannot see it). */
export class BenchlingNotFoundError extends BenchlingPermanentError {}
/** 409: the resource is in a state that conflicts with the request. */
export class BenchlingConflictError extends BenchlingPermanentError {}
/** A 2xx whose body is not the JSON shape the API documents. */
export class BenchlingInvalidResponseError extends BenchlingPermanentError {}

/** Any error raised by the Benchling client for a request it made. */
export type BenchlingApiError = BenchlingTransientError | BenchlingPermanentError;

export function isBenchlingApiError(err: unknown): err is BenchlingApiError {
  return err instanceof BenchlingTransientError || err instanceof BenchlingPermanentError;
}

/** Strips a query string so no token or secret in a URL reaches an error or a log. */
export function safePath(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** Parses `{"error":{…}}`; anything else yields an empty body (a proxy's HTML page, say). */
export function parseBenchlingErrorBody(text: string): BenchlingErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    const e = (parsed as { error?: unknown } | null)?.error;
    if (!e || typeof e !== 'object') return {};
    const pick = (k: string) => {
      const v = (e as Record<string, unknown>)[k];
      return typeof v === 'string' ? v : undefined;
    };
    const body: BenchlingErrorBody = {};
    for (const k of ['type', 'message', 'userMessage', 'invalidId'] as const) {
      const v = pick(k);
      if (v !== undefined) body[k] = v;
    }
    return body;
  } catch {
    return {};
  }
}

/** `x-rate-limit-reset` is seconds until the budget refills; undefined when absent or unreadable. */
export function retryAfterMsFromHeaders(headers: Headers): number | undefined {
  const raw = headers.get('x-rate-limit-reset');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
}

function requestIdFrom(headers: Headers): string | undefined {
  return headers.get('x-request-id') ?? headers.get('x-amzn-requestid') ?? undefined;
}

/** Maps a non-2xx response to the typed error that decides whether it is retried. */
export function benchlingErrorFromResponse(
  req: BenchlingRequestInfo,
  res: { status: number; headers: Headers },
  bodyText: string,
): BenchlingApiError {
  const facts: BenchlingErrorFacts = {
    method: req.method,
    path: safePath(req.path),
    status: res.status,
    benchling: parseBenchlingErrorBody(bodyText),
    requestId: requestIdFrom(res.headers),
  };
  const s = res.status;
  if (s === 429) {
    return new BenchlingRateLimitError(facts, {
      code: 'BenchlingRateLimited',
      what: 'rate limit exceeded',
      retryAfterMs: retryAfterMsFromHeaders(res.headers),
    });
  }
  if (s >= 500)
    return new BenchlingServerError(facts, { code: s === 503 ? 'BenchlingUnavailable' : 'BenchlingServerError', what: 'server error' });
  if (s === 408) return new BenchlingNetworkError(facts, { code: 'BenchlingTimeout', what: 'request timeout' });
  if (s === 400) return new BenchlingBadRequestError(facts, { code: 'BenchlingBadRequest', what: 'bad request' });
  if (s === 422) return new BenchlingBadRequestError(facts, { code: 'BenchlingUnprocessable', what: 'unprocessable request' });
  if (s === 401) return new BenchlingUnauthorizedError(facts, { code: 'BenchlingUnauthorized', what: 'unauthorized' });
  if (s === 403) return new BenchlingForbiddenError(facts, { code: 'BenchlingForbidden', what: 'forbidden' });
  if (s === 404) return new BenchlingNotFoundError(facts, { code: 'BenchlingNotFound', what: 'not found' });
  if (s === 409) return new BenchlingConflictError(facts, { code: 'BenchlingConflict', what: 'conflict' });
  return new BenchlingPermanentError(facts, { code: `BenchlingHttp${s}`, what: `unexpected status ${s}` });
}

/** Maps what `fetch` (or reading its body) threw: a timeout or a network failure, both transient. */
export function benchlingErrorFromFailure(req: BenchlingRequestInfo, err: unknown): BenchlingNetworkError {
  const facts: BenchlingErrorFacts = { method: req.method, path: safePath(req.path), cause: err };
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new BenchlingNetworkError(facts, { code: 'BenchlingTimeout', what: 'no response within the request timeout' });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `${err.message} (${err.cause.message})` : String(err);
  return new BenchlingNetworkError(facts, { code: 'BenchlingNetwork', what: `network error: ${cause}` });
}

/** A 2xx we cannot use: not JSON, or missing a field the API documents. */
export function invalidResponseError(req: BenchlingRequestInfo, status: number, reason: string): BenchlingInvalidResponseError {
  return new BenchlingInvalidResponseError(
    { method: req.method, path: safePath(req.path), status },
    { code: 'BenchlingInvalidResponse', what: `unexpected response body: ${reason}` },
  );
}
