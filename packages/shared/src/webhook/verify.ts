import { type KeyObject, verify } from 'node:crypto';
import { PermanentError } from '../errors.ts';
import type { JwksCache, VerificationKey } from './jwks.ts';

export { JwksCache, keyFromJwk, type JwksCacheOptions, type JwksStatus, type VerificationKey } from './jwks.ts';

/**
 * Webhook signature verification per the Benchling contract (§1): Standard-Webhooks-shaped
 * headers, DER-encoded ECDSA P-256 / SHA-256 signatures over `${id}.${timestamp}.${rawBody}`,
 * keys from the app's JWKS. Valid when any `v*der` signature verifies against any key.
 */

/** Why a delivery was rejected; each maps to a 401 except `no_keys` (we cannot judge yet: 503). */
export type WebhookAuthReason = 'missing_header' | 'stale_timestamp' | 'bad_signature' | 'no_keys';

export class WebhookAuthError extends PermanentError {
  readonly reason: WebhookAuthReason;
  constructor(reason: WebhookAuthReason, message: string) {
    super(message, { code: 'WebhookAuth', details: { reason } });
    this.reason = reason;
  }
}

/** Header map as Node gives it (lower-case names). */
export type HeaderMap = Record<string, string | string[] | undefined>;

export interface VerifyWebhookInput {
  headers: HeaderMap;
  /** The request body exactly as received; re-serialised JSON would not verify. */
  rawBody: Buffer;
  keys: readonly VerificationKey[];
  /** Current time, epoch milliseconds. */
  now: number;
  /** Allowed distance between `webhook-timestamp` and now, seconds, both directions. Default 300. */
  toleranceSeconds?: number;
}

export interface VerifiedWebhook {
  webhookId: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestamp: number;
  /** kid of the key that verified the signature. */
  kid: string;
}

const DEFAULT_TOLERANCE_SECONDS = 300;

function header(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** The three webhook headers, or a `missing_header` error naming the first one absent. */
export function webhookHeaders(headers: HeaderMap): { id: string; timestamp: string; signature: string } {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  for (const [name, v] of [['webhook-id', id], ['webhook-timestamp', timestamp], ['webhook-signature', signature]] as const) {
    if (v === undefined) throw new WebhookAuthError('missing_header', `${name} header is missing`);
  }
  return { id: id!, timestamp: timestamp!, signature: signature! };
}

/** Base64 signatures of the `v*der` entries; other schemes (e.g. symmetric `v1`) are not ours to check. */
export function derSignatures(signatureHeader: string): Buffer[] {
  const out: Buffer[] = [];
  for (const entry of signatureHeader.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma <= 0) continue;
    const version = entry.slice(0, comma);
    if (!version.includes('der')) continue;
    const sig = Buffer.from(entry.slice(comma + 1), 'base64');
    if (sig.length > 0) out.push(sig);
  }
  return out;
}

/** Checks timestamp and signature of one delivery; throws WebhookAuthError with a reason. */
export function verifyWebhook(input: VerifyWebhookInput): VerifiedWebhook {
  const h = webhookHeaders(input.headers);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const timestamp = /^\d{1,12}$/.test(h.timestamp) ? Number(h.timestamp) : Number.NaN;
  if (Number.isNaN(timestamp)) throw new WebhookAuthError('stale_timestamp', 'webhook-timestamp is not a Unix timestamp');
  const skew = Math.abs(Math.floor(input.now / 1000) - timestamp); // whole seconds, like the header
  if (skew > tolerance) {
    throw new WebhookAuthError('stale_timestamp', `webhook-timestamp is ${Math.round(skew)} s away from now (tolerance ${tolerance} s)`);
  }
  if (input.keys.length === 0) throw new WebhookAuthError('no_keys', 'no webhook verification keys are available');
  const sigs = derSignatures(h.signature);
  if (sigs.length === 0) throw new WebhookAuthError('bad_signature', 'webhook-signature has no v*der entry');
  const signed = Buffer.concat([Buffer.from(`${h.id}.${h.timestamp}.`, 'utf8'), input.rawBody]);
  for (const sig of sigs) {
    for (const k of input.keys) {
      if (verifyDer(signed, sig, k.key)) return { webhookId: h.id, timestamp, kid: k.kid };
    }
  }
  throw new WebhookAuthError('bad_signature', `no signature verifies against the ${input.keys.length} known key(s)`);
}

function verifyDer(data: Buffer, sig: Buffer, key: KeyObject): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false; // malformed DER is just a signature that does not verify
  }
}

/**
 * Verifies against the cached keys; when no cached key verifies (Benchling may have rotated),
 * refreshes the JWKS once (rate-limited and time-bounded by the cache) and tries again.
 */
export async function verifyWithJwks(
  jwks: Pick<JwksCache, 'keys' | 'refreshForUnknownSignature'>,
  input: Omit<VerifyWebhookInput, 'keys' | 'now'> & { now: () => number },
): Promise<VerifiedWebhook> {
  try {
    return verifyWebhook({ ...input, keys: jwks.keys(), now: input.now() });
  } catch (err) {
    if (!(err instanceof WebhookAuthError) || (err.reason !== 'bad_signature' && err.reason !== 'no_keys')) throw err;
    if (err.reason === 'bad_signature' && derSignatures(webhookHeaders(input.headers).signature).length === 0) throw err;
    if (!(await jwks.refreshForUnknownSignature())) throw err;
    return verifyWebhook({ ...input, keys: jwks.keys(), now: input.now() });
  }
}
