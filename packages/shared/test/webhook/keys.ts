import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { VerificationKey } from '../../src/webhook/jwks.ts';

/** A P-256 key pair: the private half signs like Benchling, the public JWK is what a JWKS serves. */
export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string };
  verification: VerificationKey;
}

export function testKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  return { kid, privateKey, jwk: { kty: 'EC', crv: 'P-256', x, y, kid }, verification: { kid, key: publicKey } };
}

/** Headers as Benchling sends them; `versions` lets a test write other signature schemes. */
export function signHeaders(
  keys: TestKey[],
  o: { id?: string; timestamp?: number; body: string | Buffer; versions?: string[] },
): Record<string, string> {
  const id = o.id ?? 'msg_1';
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body)]);
  const sigs = keys.map(
    (k, i) => `${o.versions?.[i] ?? 'v1bder'},${sign('sha256', signed, { key: k.privateKey, dsaEncoding: 'der' }).toString('base64')}`,
  );
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sigs.join(' ') };
}
