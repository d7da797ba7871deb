import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com), symmetric scheme: HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`, keyed by the base64-decoded part of a
 * `whsec_` secret, sent as space-separated `v1,<base64>` entries in `webhook-signature`.
 *
 * Cost is bounded whatever a sender puts in the header: at most MAX_SIGNATURE_ENTRIES entries are
 * looked at (more is refused), and the content is hashed once per key, never once per entry.
 */

/** Most signature entries read from one header: a rotation needs two; a flood is refused unread. */
export const MAX_SIGNATURE_ENTRIES = 8;
/** Longest `webhook-signature` header read (8 entries of `v1,` + 44 base64 characters fit easily). */
export const MAX_SIGNATURE_HEADER_CHARS = 1024;
/** Secret bytes allowed by the spec (24–64 random bytes). */
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;

export type StandardWebhookFailure =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'too_many_signatures'
  | 'no_v1_signature'
  | 'bad_signature';

/** Verification refused the delivery; answered 401 with `reason`. */
export class StandardWebhookError extends Error {
  constructor(
    readonly reason: StandardWebhookFailure,
    message: string,
  ) {
    super(message);
    this.name = 'StandardWebhookError';
  }
}

/** A malformed `whsec_` secret (at `add` or `rotate-secret`, never shown). */
export class WebhookSecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSecretFormatError';
  }
}

/** The HMAC key of a `whsec_…` secret; throws WebhookSecretFormatError (never quoting the secret). */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new WebhookSecretFormatError('a webhook secret starts with whsec_');
  const b64 = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
    throw new WebhookSecretFormatError('a webhook secret is whsec_ followed by standard base64');
  const key = Buffer.from(b64, 'base64');
  if (key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) {
    throw new WebhookSecretFormatError(`a webhook secret holds ${SECRET_MIN_BYTES}–${SECRET_MAX_BYTES} bytes, this one ${key.length}`);
  }
  return key;
}

function hmac(key: Buffer, webhookId: string, timestamp: string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${webhookId}.${timestamp}.`).update(body).digest();
}

/** The `v1,<base64>` entry a sender puts in `webhook-signature`. */
export function signWebhook(o: { secret: string | Buffer; webhookId: string; timestamp: number | string; body: Buffer | string }): string {
  const key = typeof o.secret === 'string' ? webhookSecretKey(o.secret) : o.secret;
  return `v1,${hmac(key, o.webhookId, String(o.timestamp), o.body).toString('base64')}`;
}

/** Headers of a signed delivery (a sender's helper; tests and the simulator use it). */
export function signedHeaders(o: {
  secret: string | Buffer;
  webhookId: string;
  timestamp: number;
  body: Buffer | string;
}): Record<string, string> {
  return { 'webhook-id': o.webhookId, 'webhook-timestamp': String(o.timestamp), 'webhook-signature': signWebhook(o) };
}

export interface VerifyInput {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** HMAC keys that may have signed (current and, during a rotation, previous). */
  keys: Buffer[];
  /** Epoch ms. */
  now: number;
  /** Allowed distance between `webhook-timestamp` and now. Default 300. */
  toleranceSeconds?: number;
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What the headers alone decide, before any body byte is read: all three present, the timestamp
 * within the tolerance, at most MAX_SIGNATURE_ENTRIES entries. Throws StandardWebhookError.
 */
export function checkWebhookHeaders(
  headers: VerifyInput['headers'],
  now: number,
  toleranceSeconds = 300,
): { webhookId: string; ts: string; timestamp: number; entries: string[] } {
  const webhookId = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sig = header(headers, 'webhook-signature');
  if (!webhookId || !ts || !sig)
    throw new StandardWebhookError('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature are required');
  if (!/^[0-9]{1,12}$/.test(ts)) throw new StandardWebhookError('bad_timestamp', 'webhook-timestamp is not integer Unix seconds');
  const timestamp = Number(ts);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds)
    throw new StandardWebhookError('stale_timestamp', `webhook-timestamp is more than ${toleranceSeconds} s from now`);
  if (sig.length > MAX_SIGNATURE_HEADER_CHARS)
    throw new StandardWebhookError('too_many_signatures', `webhook-signature is longer than ${MAX_SIGNATURE_HEADER_CHARS} characters`);
  const entries = sig.split(' ').filter((e) => e !== '');
  if (entries.length > MAX_SIGNATURE_ENTRIES)
    throw new StandardWebhookError('too_many_signatures', `webhook-signature has more than ${MAX_SIGNATURE_ENTRIES} entries`);
  return { webhookId, ts, timestamp, entries };
}

/**
 * Verifies a delivery; returns its webhook id and timestamp or throws StandardWebhookError.
 * Any `v1` entry matching any key passes; other versions are ignored; comparisons are constant time.
 */
export function verifyWebhook(input: VerifyInput): { webhookId: string; timestamp: number } {
  const { webhookId, ts, timestamp, entries } = checkWebhookHeaders(input.headers, input.now, input.toleranceSeconds ?? 300);
  const candidates = entries.filter((e) => e.startsWith('v1,')).map((e) => Buffer.from(e.slice(3), 'base64'));
  if (candidates.length === 0) throw new StandardWebhookError('no_v1_signature', 'webhook-signature has no v1 entry');
  // One HMAC per key; every candidate is compared against every digest (no early exit on a match).
  const digests = input.keys.map((k) => hmac(k, webhookId, ts, input.rawBody));
  let matched = false;
  for (const digest of digests) {
    for (const c of candidates) {
      if (c.length === digest.length && timingSafeEqual(c, digest)) matched = true;
    }
  }
  if (!matched) throw new StandardWebhookError('bad_signature', 'no signature matches');
  return { webhookId, timestamp };
}
