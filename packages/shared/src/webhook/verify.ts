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
  for (const [name, v] of [
    ['webhook-id', id],
    ['webhook-timestamp', timestamp],
    ['webhook-signature', signature],
  ] as const) {
    if (v === undefined) throw new WebhookAuthError('missing_header', `${name} header is missing`);
  }
  return { id: id!, timestamp: timestamp!, signature: signature! };
}

/**
 * Most entries a `webhook-signature` header may carry. Benchling signs with one key, two during a
 * rotation; each entry costs a hash of the body per key, so a header of thousands of entries was a
 * way to buy seconds of CPU with one request. More than this is refused before any hashing.
 */
export const MAX_SIGNATURE_ENTRIES = 8;

/** Space-separated entries of a signature header (empty ones from doubled spaces are not entries). */
export function signatureEntries(signatureHeader: string): string[] {
  return signatureHeader.split(' ').filter((e) => e !== '');
}

/**
 * Whether `sig` has the shape of a DER ECDSA P-256 signature: SEQUENCE { INTEGER r, INTEGER s },
 * each 1–33 bytes, nothing after. Anything else cannot verify, so it is dropped before it costs a
 * hash of the body (`der,AA` used to count as a signature).
 */
export function isP256DerShape(sig: Buffer): boolean {
  if (sig.length < 8 || sig.length > 72 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return false;
  let at = 2;
  for (let i = 0; i < 2; i++) {
    if (sig[at] !== 0x02) return false;
    const len = sig[at + 1]!;
    if (len < 1 || len > 33 || at + 2 + len > sig.length) return false;
    at += 2 + len;
  }
  return at === sig.length;
}

/**
 * Base64 signatures of the `v*der` entries that could be P-256 signatures; other schemes (e.g.
 * symmetric `v1`) are not ours to check. Throws `bad_signature` when the header has more than
 * MAX_SIGNATURE_ENTRIES entries.
 */
export function derSignatures(signatureHeader: string): Buffer[] {
  const entries = signatureEntries(signatureHeader);
  if (entries.length > MAX_SIGNATURE_ENTRIES) {
    throw new WebhookAuthError(
      'bad_signature',
      `webhook-signature has ${entries.length} entries; at most ${MAX_SIGNATURE_ENTRIES} are accepted`,
    );
  }
  const out: Buffer[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma <= 0) continue;
    const version = entry.slice(0, comma);
    if (!version.includes('der')) continue;
    const sig = Buffer.from(entry.slice(comma + 1), 'base64');
    if (isP256DerShape(sig)) out.push(sig);
  }
  return out;
}

/**
 * Checks the headers and the timestamp, which need no body: the ingress runs this before it reads
 * one, so a request that would be refused anyway never holds a socket while its body trickles in.
 * Returns the headers; throws WebhookAuthError (`missing_header`, `stale_timestamp`, or
 * `bad_signature` for too many entries).
 */
export function checkWebhookHeaders(
  headers: HeaderMap,
  now: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): { id: string; timestamp: string; unixSeconds: number; signature: string } {
  const h = webhookHeaders(headers);
  const timestamp = /^\d{1,12}$/.test(h.timestamp) ? Number(h.timestamp) : Number.NaN;
  if (Number.isNaN(timestamp)) throw new WebhookAuthError('stale_timestamp', 'webhook-timestamp is not a Unix timestamp');
  const skew = Math.abs(Math.floor(now / 1000) - timestamp); // whole seconds, like the header
  if (skew > toleranceSeconds) {
    throw new WebhookAuthError(
      'stale_timestamp',
      `webhook-timestamp is ${Math.round(skew)} s away from now (tolerance ${toleranceSeconds} s)`,
    );
  }
  const entries = signatureEntries(h.signature).length;
  if (entries > MAX_SIGNATURE_ENTRIES) {
    throw new WebhookAuthError('bad_signature', `webhook-signature has ${entries} entries; at most ${MAX_SIGNATURE_ENTRIES} are accepted`);
  }
  return { ...h, unixSeconds: timestamp };
}

/**
 * Checks timestamp and signature of one delivery; throws WebhookAuthError with a reason. The work
 * is bounded: at most MAX_SIGNATURE_ENTRIES well-formed signatures, each tried against each key.
 * (Node's crypto cannot verify ECDSA over a precomputed digest, so the body is hashed per try;
 * with the ingress's body limit that is well under a millisecond.)
 */
export function verifyWebhook(input: VerifyWebhookInput): VerifiedWebhook {
  const h = checkWebhookHeaders(input.headers, input.now, input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
  if (input.keys.length === 0) throw new WebhookAuthError('no_keys', 'no webhook verification keys are available');
  const sigs = derSignatures(h.signature);
  if (sigs.length === 0) throw new WebhookAuthError('bad_signature', 'webhook-signature has no well-formed v*der entry');
  const signed = Buffer.concat([Buffer.from(`${h.id}.${h.timestamp}.`, 'utf8'), input.rawBody]);
  for (const sig of sigs) {
    for (const k of input.keys) {
      if (verifyDer(signed, sig, k.key)) return { webhookId: h.id, timestamp: h.unixSeconds, kid: k.kid };
    }
  }
  throw new WebhookAuthError('bad_signature', `no signature verifies against the ${input.keys.length} known key(s)`);
}

function hasPlausibleSignature(headers: HeaderMap): boolean {
  try {
    return derSignatures(webhookHeaders(headers).signature).length > 0;
  } catch {
    return false;
  }
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
    // Only a well-formed signature can come from a key we have not fetched yet; junk never costs a refresh.
    if (err.reason === 'bad_signature' && !hasPlausibleSignature(input.headers)) throw err;
    if (!(await jwks.refreshForUnknownSignature())) throw err;
    return verifyWebhook({ ...input, keys: jwks.keys(), now: input.now() });
  }
}
