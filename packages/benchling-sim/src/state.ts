import type { EntryRecord } from './entries.ts';
import type { ExportSnapshot } from './export-zip-plan.ts';

/** One export task as the simulator tracks it. */
export interface ExportTask {
  taskId: string;
  entryId: string;
  snapshot: ExportSnapshot;
  /** Epoch ms when `POST /exports` was answered. */
  startedAt: number;
  /** How long the task reports RUNNING at least. Milliseconds. */
  runningForMs: number;
  /** `etr_fail…` tasks end FAILED. */
  fails: boolean;
  /** Opaque part of the download URL. */
  downloadToken: string;
  /** Epoch ms when the task was first seen SUCCEEDED (the download URL's X-Amz-Date). */
  downloadIssuedAt?: number;
  /** Path of the generated ZIP once ready. */
  zipPath?: string;
  /** Why ZIP generation failed, if it did (the task then reports FAILED). */
  zipError?: string;
}

/** Every version a canvas or session went through, oldest first; the last is current. */
export interface Versioned<T> {
  current: T;
  history: T[];
}

export interface RequestLogLine {
  /** Epoch ms when the response finished. */
  at: number;
  method: string;
  path: string;
  /** Route template, e.g. `GET /api/v2/entries/{id}`. */
  route: string;
  status: number;
  /** Client id the request was made as, when known. */
  clientId?: string;
  /**
   * The JSON body of an API request that sent one (POST/PATCH under `/api/v2`), as received, so a
   * test can check what our real client sends against Benchling's OpenAPI.
   */
  body?: unknown;
}

export interface WebhookDelivery {
  webhookId: string;
  type: string;
  url: string;
  status: number;
}

/** Route templates for request counting; anything else is counted by its raw path. */
const ROUTES: [RegExp, string][] = [
  [/^\/api\/v2\/token$/, '/api/v2/token'],
  [/^\/api\/v2\/entries\/[^/]+$/, '/api/v2/entries/{id}'],
  [/^\/api\/v2\/exports$/, '/api/v2/exports'],
  [/^\/api\/v2\/tasks\/[^/]+$/, '/api/v2/tasks/{id}'],
  [/^\/api\/v2\/app-canvases$/, '/api/v2/app-canvases'],
  [/^\/api\/v2\/app-canvases\/[^/]+$/, '/api/v2/app-canvases/{id}'],
  [/^\/api\/v2\/app-sessions$/, '/api/v2/app-sessions'],
  [/^\/api\/v2\/app-sessions\/[^/]+$/, '/api/v2/app-sessions/{id}'],
  [/^\/api\/v1\/apps\/[^/]+\/jwks$/, '/api/v1/apps/{id}/jwks'],
  [/^\/_sim\/downloads\/[^/]+$/, '/_sim/downloads/{file}'],
  [/^\/_sim\/entries\/[^/]+$/, '/_sim/entries/{id}'],
];

export function routeTemplate(method: string, path: string): string {
  const hit = ROUTES.find(([re]) => re.test(path));
  return `${method} ${hit ? hit[1] : path}`;
}

/** Request log lines kept for inspection; older lines are dropped. */
const REQUEST_LOG_LIMIT = 5000;

/**
 * What the simulator has seen and holds, for tests to assert on. Read it; the simulator
 * writes it.
 */
export class SimState {
  /** Entries that were read, exported or edited, by id (generated ones appear on first use). */
  readonly entries = new Map<string, EntryRecord>();
  /** Export tasks by task id. */
  readonly exports = new Map<string, ExportTask>();
  /** Entry id → how many exports were started for it (`POST /exports` answered 202). */
  readonly exportsStarted = new Map<string, number>();
  /** Canvases by id, with every version written. */
  readonly canvases = new Map<string, Versioned<Record<string, unknown>>>();
  /** App sessions by id, with every version written. */
  readonly sessions = new Map<string, Versioned<Record<string, unknown>>>();
  /** `METHOD /route/{id}` → number of requests answered. */
  readonly requestCounts = new Map<string, number>();
  /** HTTP status → number of responses with it (all routes, injected faults included). */
  readonly statusCounts = new Map<number, number>();
  /** The latest requests, oldest first (bounded). */
  readonly requestLog: RequestLogLine[] = [];
  /** Webhooks sent by `sendWebhook`, oldest first. */
  readonly webhooksSent: WebhookDelivery[] = [];
  /** `GET …/jwks` requests answered. */
  jwksFetches = 0;
  /** Access tokens issued by `POST /token`. */
  tokensIssued = 0;
  /** 429s given by the rate limiter (not counting injected faults). */
  rateLimited = 0;
  /** Requests a fault rule answered, delayed or cut. */
  faultsInjected = 0;

  exportsStartedFor(entryId: string): number {
    return this.exportsStarted.get(entryId) ?? 0;
  }

  requestsTo(route: string): number {
    return this.requestCounts.get(route) ?? 0;
  }

  /** Canvas versions of one resource (entry), in creation order, across all its canvases. */
  canvasesFor(resourceId: string): Versioned<Record<string, unknown>>[] {
    return [...this.canvases.values()].filter((c) => c.current.resourceId === resourceId);
  }

  recordRequest(line: RequestLogLine): void {
    this.requestCounts.set(line.route, (this.requestCounts.get(line.route) ?? 0) + 1);
    this.statusCounts.set(line.status, (this.statusCounts.get(line.status) ?? 0) + 1);
    this.requestLog.push(line);
    if (this.requestLog.length > REQUEST_LOG_LIMIT) this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_LIMIT);
  }

  /** A JSON-friendly summary, served at `GET /_sim/state`. */
  summary(): Record<string, unknown> {
    return {
      entries: [...this.entries.values()].map((e) => ({ id: e.id, revision: e.revision, name: e.name, modifiedAt: e.modifiedAt })),
      exportsStarted: Object.fromEntries(this.exportsStarted),
      exports: [...this.exports.values()].map((t) => ({
        taskId: t.taskId,
        entryId: t.entryId,
        format: t.snapshot.format,
        revision: t.snapshot.entry.revision,
      })),
      canvases: Object.fromEntries([...this.canvases].map(([id, v]) => [id, { current: v.current, versions: v.history.length }])),
      sessions: Object.fromEntries([...this.sessions].map(([id, v]) => [id, { current: v.current, versions: v.history.length }])),
      requestCounts: Object.fromEntries(this.requestCounts),
      statusCounts: Object.fromEntries(this.statusCounts),
      webhooksSent: this.webhooksSent,
      jwksFetches: this.jwksFetches,
      tokensIssued: this.tokensIssued,
      rateLimited: this.rateLimited,
      faultsInjected: this.faultsInjected,
    };
  }
}
