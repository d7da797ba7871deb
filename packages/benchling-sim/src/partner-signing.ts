import { createHmac, randomUUID } from 'node:crypto';

/**
 * Standard Webhooks signing as a partner does it (standardwebhooks.com), written here so the
 * simulator does not share code with the ingress it tests: HMAC-SHA256 keyed by the base64-decoded
 * part of a `whsec_` secret, over `${webhook-id}.${webhook-timestamp}.${body}`, sent as `v1,<base64>`.
 */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  if (!secret.startsWith('whsec_')) throw new Error('a Standard Webhooks secret starts with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The three headers of a signed delivery (plus content-type). Several secrets sign with one entry each, space-separated. */
export function standardWebhookHeaders(
  secrets: string | readonly string[],
  body: string,
  o: { id?: string; timestampSeconds?: number } = {},
): Record<string, string> {
  const id = o.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const ts = o.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': list.map((s) => signStandardWebhook(s, id, ts, body)).join(' '),
  };
}
