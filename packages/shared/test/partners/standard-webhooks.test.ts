import { expect } from 'chai';
import {
  MAX_SIGNATURE_ENTRIES,
  signWebhook,
  StandardWebhookError,
  verifyWebhook,
  webhookSecretKey,
} from '../../src/partners/standard-webhooks.ts';

// Pure logic: the scheme's published example (standardwebhooks.com / svix) and the edge cases.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TS = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

function verify(sig: string, o: { keys?: Buffer[]; ts?: number; now?: number; body?: string } = {}) {
  return verifyWebhook({
    headers: { 'webhook-id': SPEC_ID, 'webhook-timestamp': String(o.ts ?? SPEC_TS), 'webhook-signature': sig },
    rawBody: Buffer.from(o.body ?? SPEC_BODY),
    keys: o.keys ?? [webhookSecretKey(SPEC_SECRET)],
    now: (o.now ?? SPEC_TS) * 1000,
  });
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StandardWebhookError) return err.reason;
    throw err;
  }
  return 'passed';
}

describe('Standard Webhooks sign and verify', () => {
  it('reproduces the specification example signature and verifies it', () => {
    expect(signWebhook({ secret: SPEC_SECRET, webhookId: SPEC_ID, timestamp: SPEC_TS, body: SPEC_BODY })).to.equal(SPEC_SIG);
    expect(verify(SPEC_SIG)).to.deep.equal({ webhookId: SPEC_ID, timestamp: SPEC_TS });
  });

  it('accepts when any v1 entry matches any key, ignoring other versions', () => {
    const other = webhookSecretKey(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect(verify(`v1a,xyz v1,AAAA ${SPEC_SIG}`)).to.have.property('webhookId', SPEC_ID);
    expect(verify(SPEC_SIG, { keys: [other, webhookSecretKey(SPEC_SECRET)] })).to.have.property('webhookId', SPEC_ID);
    expect(reason(() => verify(SPEC_SIG, { keys: [other] }))).to.equal('bad_signature');
    expect(reason(() => verify('v2,abc'))).to.equal('no_v1_signature');
  });

  it('refuses a changed body, id or timestamp', () => {
    expect(reason(() => verify(SPEC_SIG, { body: '{"test": 2432232315}' }))).to.equal('bad_signature');
    expect(reason(() => verify(SPEC_SIG, { ts: SPEC_TS + 1, now: SPEC_TS }))).to.equal('bad_signature');
  });

  it('refuses timestamps more than 300 s away, either way, and non-integer ones', () => {
    expect(reason(() => verify(SPEC_SIG, { now: SPEC_TS + 301 }))).to.equal('stale_timestamp');
    expect(reason(() => verify(SPEC_SIG, { now: SPEC_TS - 301 }))).to.equal('stale_timestamp');
    expect(reason(() => verify(SPEC_SIG, { now: SPEC_TS + 300 }))).to.equal('passed');
    expect(
      reason(() =>
        verifyWebhook({
          headers: { 'webhook-id': 'a', 'webhook-timestamp': '1e9', 'webhook-signature': SPEC_SIG },
          rawBody: Buffer.alloc(0),
          keys: [],
          now: 1e12,
        }),
      ),
    ).to.equal('bad_timestamp');
  });

  it(`caps the entries it reads at ${MAX_SIGNATURE_ENTRIES} and hashes the content once per key, not once per entry`, () => {
    const many = Array.from({ length: MAX_SIGNATURE_ENTRIES + 1 }, () => SPEC_SIG).join(' ');
    expect(reason(() => verify(many))).to.equal('too_many_signatures');
    // With an 8 MB body hashing dominates: eight entries must cost about what one costs.
    const body = Buffer.alloc(8 * 1024 * 1024, 97);
    const key = webhookSecretKey(SPEC_SECRET);
    const sig = signWebhook({ secret: key, webhookId: SPEC_ID, timestamp: SPEC_TS, body });
    const junk = Array.from({ length: MAX_SIGNATURE_ENTRIES - 1 }, (_, i) => `v1,${Buffer.alloc(32, i).toString('base64')}`);
    const time = (header: string) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t = process.hrtime.bigint();
        verifyWebhook({
          headers: { 'webhook-id': SPEC_ID, 'webhook-timestamp': String(SPEC_TS), 'webhook-signature': header },
          rawBody: body,
          keys: [key],
          now: SPEC_TS * 1000,
        });
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
      }
      return best;
    };
    const one = time(sig);
    const eight = time([...junk, sig].join(' '));
    expect(eight, `1 entry ${one.toFixed(1)} ms, 8 entries ${eight.toFixed(1)} ms`).to.be.below(one * 3 + 10);
  });

  it('refuses malformed secrets without quoting them', () => {
    for (const bad of [
      'sk_abcdefgh',
      'whsec_!!!!',
      `whsec_${Buffer.alloc(16).toString('base64')}`,
      `whsec_${Buffer.alloc(65).toString('base64')}`,
    ]) {
      let message = '';
      try {
        webhookSecretKey(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.match(/whsec_|bytes/);
      expect(message).to.not.include(bad.slice(6, 20));
    }
  });
});
