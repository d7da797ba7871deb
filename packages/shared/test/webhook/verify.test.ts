import { expect } from 'chai';
import {
  derSignatures,
  isP256DerShape,
  MAX_SIGNATURE_ENTRIES,
  verifyWebhook,
  WebhookAuthError,
  type WebhookAuthReason,
} from '../../src/webhook/verify.ts';
import { signHeaders as signAt, testKey } from './keys.ts';

describe('webhook signature verification (contract §1)', () => {
  const k1 = testKey('k1');
  const k2 = testKey('k2');
  const body = '{"version":"0","message":{"type":"v2.entry.created"}}';
  const now = Date.now();
  const nowSec = Math.floor(now / 1000);
  // Signed "now" by the same clock the verifier is given, however late the suite runs.
  const signHeaders: typeof signAt = (keys, o) => signAt(keys, { timestamp: nowSec, ...o });

  function reasonOf(fn: () => unknown): WebhookAuthReason | 'accepted' {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      if (err instanceof WebhookAuthError) return err.reason;
      throw err;
    }
  }
  const check = (headers: Record<string, string>, o: { body?: string | Buffer; keys?: (typeof k1)[]; tolerance?: number } = {}) =>
    reasonOf(() =>
      verifyWebhook({
        headers,
        rawBody: Buffer.from(o.body ?? body),
        keys: (o.keys ?? [k1]).map((k) => k.verification),
        now,
        toleranceSeconds: o.tolerance,
      }),
    );

  it('accepts a DER ECDSA P-256 signature over id.timestamp.rawBody and says which key verified it', () => {
    const headers = signHeaders([k1], { id: 'msg_9', body });
    const v = verifyWebhook({ headers, rawBody: Buffer.from(body), keys: [k2.verification, k1.verification], now });
    expect(v).to.deep.equal({ webhookId: 'msg_9', timestamp: nowSec, kid: 'k1' });
  });

  it('accepts when any signature verifies against any key (rotation overlap)', () => {
    const headers = signHeaders([k2, k1], { body });
    expect(check(headers, { keys: [k1] })).to.equal('accepted');
    expect(check(headers, { keys: [k2] })).to.equal('accepted');
  });

  it('names each missing header', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers = signHeaders([k1], { body });
      delete headers[name];
      expect(check(headers)).to.equal('missing_header');
      expect(() => verifyWebhook({ headers, rawBody: Buffer.from(body), keys: [k1.verification], now })).to.throw(name);
    }
  });

  it('rejects timestamps more than the tolerance away in either direction, and accepts the edge', () => {
    expect(check(signHeaders([k1], { body, timestamp: nowSec - 301 }))).to.equal('stale_timestamp');
    expect(check(signHeaders([k1], { body, timestamp: nowSec + 301 }))).to.equal('stale_timestamp');
    expect(check(signHeaders([k1], { body, timestamp: nowSec - 300 }))).to.equal('accepted');
    expect(check(signHeaders([k1], { body, timestamp: nowSec - 100 }), { tolerance: 60 })).to.equal('stale_timestamp');
    expect(check({ ...signHeaders([k1], { body }), 'webhook-timestamp': 'yesterday' })).to.equal('stale_timestamp');
  });

  it('rejects a body that differs by a single byte, including re-serialised JSON', () => {
    const headers = signHeaders([k1], { body });
    expect(check(headers, { body: body.replace('"0"', '"1"') })).to.equal('bad_signature');
    expect(check(headers, { body: JSON.stringify(JSON.parse(body), null, 1) })).to.equal('bad_signature');
  });

  it('verifies raw bytes that are not valid UTF-8 exactly as received', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(check(signHeaders([k1], { body: raw }), { body: raw })).to.equal('accepted');
  });

  it('rejects a signature made for another webhook-id or timestamp', () => {
    const headers = signHeaders([k1], { body, id: 'msg_a' });
    expect(check({ ...headers, 'webhook-id': 'msg_b' })).to.equal('bad_signature');
    expect(check({ ...headers, 'webhook-timestamp': String(nowSec - 1) })).to.equal('bad_signature');
  });

  it('only considers v*der entries, so a valid-looking v1 entry does not count', () => {
    expect(check(signHeaders([k1], { body, versions: ['v1'] }))).to.equal('bad_signature');
    expect(check(signHeaders([k1], { body, versions: ['v2der'] }))).to.equal('accepted');
    expect(
      check({ ...signHeaders([k1], { body }), 'webhook-signature': `v1,abc ${signHeaders([k1], { body })['webhook-signature']}` }),
    ).to.equal('accepted');
  });

  it('treats garbage signatures as not verifying instead of throwing', () => {
    expect(check({ ...signHeaders([k1], { body }), 'webhook-signature': 'v1bder,!!!notbase64 v1bder,AAAA v1bder' })).to.equal(
      'bad_signature',
    );
  });

  it('refuses a header with more than a handful of entries, before hashing anything', () => {
    const good = signHeaders([k1], { body });
    const junk = (n: number) => Array.from({ length: n }, () => 'der,AA').join(' ');
    expect(check({ ...good, 'webhook-signature': `${junk(MAX_SIGNATURE_ENTRIES - 1)} ${good['webhook-signature']}` })).to.equal('accepted');
    expect(check({ ...good, 'webhook-signature': `${junk(MAX_SIGNATURE_ENTRIES)} ${good['webhook-signature']}` })).to.equal(
      'bad_signature',
    );
    expect(() =>
      verifyWebhook({ headers: { ...good, 'webhook-signature': junk(2000) }, rawBody: Buffer.from(body), keys: [k1.verification], now }),
    ).to.throw(/2000 entries/);
  });

  it('drops entries whose bytes cannot be a DER P-256 signature', () => {
    const sig = Buffer.from(signHeaders([k1], { body })['webhook-signature']!.split(',')[1]!, 'base64');
    expect(isP256DerShape(sig)).to.equal(true);
    expect(isP256DerShape(Buffer.from([0x00]))).to.equal(false);
    expect(isP256DerShape(Buffer.concat([sig, Buffer.from([0])]))).to.equal(false);
    expect(isP256DerShape(Buffer.alloc(100, 0x30))).to.equal(false);
    expect(derSignatures(`der,AA v1bder,${sig.toString('base64')} v1bder,${Buffer.alloc(72).toString('base64')}`)).to.have.length(1);
  });

  it('reports no_keys when there is nothing to verify with', () => {
    expect(check(signHeaders([k1], { body }), { keys: [] })).to.equal('no_keys');
  });
});
