/**
 * A local Benchling tenant for tests and `pnpm start`: the REST API our client uses
 * (`/api/v2/token|entries|exports|tasks|app-canvases|app-sessions`, shaped per Benchling's
 * OpenAPI), the app's JWKS, signed webhooks, and test controls under `/_sim`.
 *
 * Scenario by entry id prefix (see magic-ids.ts): `etr_missing…` 404, `etr_slow…` long export,
 * `etr_fail…` FAILED export, `etr_big<N>mb…` ~N MiB export, and hostile ZIPs `etr_traversal…`,
 * `etr_absolute…`, `etr_symlink…`, `etr_bomb…` (2 GiB of zeros), `etr_manyfiles…` (20,000 files).
 *
 * Controls: `POST /_sim/entries/{id}` {name?, fields?} edits an entry; `GET|POST|DELETE /_sim/faults`;
 * `POST /_sim/webhooks/send`; `POST /_sim/tokens/expire`; `POST /_sim/keys/rotate` {keepOld?};
 * `POST /_sim/rate-limit/reset`; `GET /_sim/state`; canvases: `GET /_sim/canvases?resourceId=`,
 * `GET /_sim/canvases/{id}`, `GET /_sim/canvases/{id}/preview` (HTML; buttons send the signed click
 * webhook to `PUT /_sim/webhook-target`), `POST /_sim/canvases/{id}/click` {buttonId}; export downloads at `/_sim/downloads/{token}.zip`.
 *
 * Note the default budget (60 requests / 30 s per client, like Benchling): a client polling
 * tasks quickly will meet 429s, as it would in production.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp } from './app.ts';
import type { SimContext } from './context.ts';
import { sendSimWebhook } from './control-routes.ts';
import { ExportZipCache } from './export-zip-cache.ts';
import { FaultController } from './faults.ts';
import { KeyRing } from './key-ring.ts';
import { type ResolvedSimulatorOptions, resolveOptions, type SimulatorOptions } from './options.ts';
import { RateLimiter } from './rate-limit.ts';
import type { SigningKey } from './signing.ts';
import { SimState } from './state.ts';
import { TokenIssuer } from './tokens.ts';
import type { SendWebhookOptions, WebhookResult } from './webhook-sender.ts';

export type { SimulatorOptions, ResolvedSimulatorOptions } from './options.ts';
export { SimState, type ExportTask, type RequestLogLine, type Versioned, type WebhookDelivery } from './state.ts';
export { FaultController, type ActiveFault, type FaultSpec } from './faults.ts';
export { generateSigningKey, signingKeyFromPem, signWebhook, type SigningKey } from './signing.ts';
export {
  buildWebhookPayload,
  WEBHOOK_TYPES,
  webhookChannel,
  webhookKind,
  type WebhookKind,
  type WebhookPayloadOptions,
  type WebhookType,
} from './webhook-payloads.ts';
export { sendWebhook, webhookUrl, type SendWebhookOptions, type WebhookResult, type WebhookSenderContext } from './webhook-sender.ts';
export { scenarioFor, MAGIC_PREFIXES, type EntryScenario, type ExportZipKind } from './magic-ids.ts';
export {
  BOMB_UNCOMPRESSED_BYTES,
  MANY_FILES_COUNT,
  planExportZip,
  type ExportFormat,
  type ExportSnapshot,
  type ZipPlan,
} from './export-zip-plan.ts';
export {
  DEFAULT_WAREHOUSE_SEED,
  WAREHOUSE_ENTRY_IDS,
  warehouseStory,
  type StoryEntry,
  type StoryResult,
  type StorySample,
  type WarehouseStory,
} from './warehouse-story.ts';
export { generateEntry, type EntryEdit, type EntryField, type EntryRecord } from './entries.ts';

/** A running Benchling simulator. */
export interface Simulator {
  /** Tenant base URL, e.g. `http://127.0.0.1:PORT`; the API is at `${url}/api/v2`. */
  url: string;
  /** `${url}/api/v1/apps/${appDefinitionId}/jwks`. */
  jwksUrl: string;
  options: ResolvedSimulatorOptions;
  /** Published signing keys, newest (the signing one) first. */
  keys(): SigningKey[];
  /** Makes a new key the signing key; old ones stay in the JWKS unless `keepOld` is false. */
  rotateKey(opts?: { keepOld?: boolean }): SigningKey;
  /** Invalidates every issued access token (clients must fetch a new one). */
  expireTokens(): void;
  /** Fault rules applied to incoming requests. */
  faults: FaultController;
  /** What the simulator has seen and holds: entries, exports, canvases, sessions, counts. */
  state: SimState;
  /** Sets where canvas preview clicks send their webhooks (the ingress URL). */
  setWebhookTarget(url: string): void;
  /** Builds, signs and POSTs a webhook to a receiver. */
  sendWebhook(o: SendWebhookOptions): Promise<WebhookResult>;
  /** Stops listening, drops open connections and any ZIP generation in progress. */
  close(): Promise<void>;
}

/** Starts a simulator on 127.0.0.1 and resolves once it listens. */
export async function startSimulator(o: SimulatorOptions = {}): Promise<Simulator> {
  const options = resolveOptions(o);
  let url = '';
  const ctx: SimContext = {
    options,
    state: new SimState(),
    tokens: new TokenIssuer({ clientId: options.clientId, clientSecret: options.clientSecret }, options.tokenTtlSeconds),
    limiter: new RateLimiter(options.rateLimit.limit, options.rateLimit.windowSeconds),
    faults: new FaultController(),
    keys: new KeyRing(),
    zips: new ExportZipCache(options.zipDir),
    url: () => url,
    webhookTarget: { ...(options.webhookTarget ? { url: options.webhookTarget } : {}) },
    pendingTimers: new Set(),
  };
  const app = createSimulatorApp(ctx);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    jwksUrl: `${url}/api/v1/apps/${options.appDefinitionId}/jwks`,
    options,
    keys: () => ctx.keys.all(),
    rotateKey: (opts) => ctx.keys.rotate(opts),
    expireTokens: () => ctx.tokens.expireAll(),
    faults: ctx.faults,
    state: ctx.state,
    setWebhookTarget: (u) => {
      ctx.webhookTarget.url = u;
    },
    sendWebhook: (w) => sendSimWebhook(ctx, w),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of ctx.pendingTimers) clearTimeout(t);
        ctx.pendingTimers.clear();
        ctx.zips.abortAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * The environment that points the ingress and workers at this simulator: its JWKS for webhook
 * signatures, its OAuth client, and its tenant (id and exact base URL), the one the services serve.
 */
export function serviceEnvFor(sim: Pick<Simulator, 'url' | 'jwksUrl' | 'options'>): Record<string, string> {
  return {
    BENCHLING_APP_DEFINITION_ID: sim.options.appDefinitionId,
    BENCHLING_JWKS_URL: sim.jwksUrl,
    BENCHLING_CLIENT_ID: sim.options.clientId,
    BENCHLING_CLIENT_SECRET: sim.options.clientSecret,
    BENCHLING_TENANTS: `${sim.options.tenantId}=${sim.url}`,
  };
}
export {
  handlePartnerFile,
  partnerFileUrl,
  runFileChunks,
  runFileSha256,
  startPartnerFileServer,
  PARTNER_FILES_PATH,
} from './partner-files.ts';
export { signStandardWebhook, standardWebhookHeaders } from './partner-signing.ts';
export {
  buildPartnerEvent,
  parseByteSize,
  runFiles,
  PARTNER_EVENT_TYPES as PARTNER_SIM_EVENT_TYPES,
  type PartnerEventOptions,
} from './partner-events.ts';
