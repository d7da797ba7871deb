import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** An EC P-256 key pair as Benchling holds it: private key to sign, public JWK to publish. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** `{kty:'EC', crv:'P-256', x, y, kid}` as served by the JWKS endpoint. */
  publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string };
}

export function generateSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  return { kid, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid } };
}

/** Re-creates a key from a PKCS#8 PEM (for a simulator whose keys must survive restarts). */
export function signingKeyFromPem(kid: string, pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; y: string };
  return { kid, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid } };
}

/**
 * Headers Benchling sends with a webhook: the signature is base64 DER ECDSA-SHA256 over
 * UTF-8 `${id}.${timestamp}.${rawBody}`, written as `v1bder,<sig>` (space-separated list).
 */
export function signWebhook(opts: { keys: SigningKey[]; webhookId: string; timestamp: number; body: string }): Record<string, string> {
  const signed = Buffer.from(`${opts.webhookId}.${opts.timestamp}.${opts.body}`, 'utf8');
  const sigs = opts.keys.map((k) => `v1bder,${sign('sha256', signed, { key: k.privateKey, dsaEncoding: 'der' }).toString('base64')}`);
  return {
    'webhook-id': opts.webhookId,
    'webhook-timestamp': String(opts.timestamp),
    'webhook-signature': sigs.join(' '),
  };
}
