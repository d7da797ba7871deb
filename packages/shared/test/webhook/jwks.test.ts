import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { TransientError } from '../../src/errors.ts';
import { JwksCache } from '../../src/webhook/jwks.ts';
import { verifyWithJwks, WebhookAuthError } from '../../src/webhook/verify.ts';
import { signHeaders, type TestKey, testKey } from './keys.ts';

/** A real JWKS endpoint whose keys, latency and health each test controls. */
async function jwksServer(initial: unknown[]) {
  const state = { body: { keys: initial } as unknown, fetches: 0, delayMs: 0, status: 200 };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    setTimeout(() => res.writeHead(state.status, { 'content-type': 'application/json' }).end(JSON.stringify(state.body)), state.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('JwksCache: signing keys cached, refreshed and never in the way of a request', () => {
  const k1 = testKey('k1');
  const k2 = testKey('k2');
  let srv: Awaited<ReturnType<typeof jwksServer>>;
  const caches: JwksCache[] = [];
  const cache = (o: Partial<ConstructorParameters<typeof JwksCache>[0]> = {}) => {
    const c = new JwksCache({ url: srv.url, ...o });
    caches.push(c);
    return c;
  };
  const body = '{"message":{"type":"v2.entry.created"}}';
  const deliver = (c: JwksCache, keys: TestKey[]) =>
    verifyWithJwks(c, { headers: signHeaders(keys, { body }), rawBody: Buffer.from(body), now: Date.now }).then(
      (v) => v.kid,
      (err: unknown) => (err instanceof WebhookAuthError ? err.reason : Promise.reject(err)),
    );

  beforeEach(async () => {
    srv = await jwksServer([k1.jwk]);
  });
  afterEach(async () => {
    for (const c of caches.splice(0)) c.stop();
    await srv.close();
  });

  it('fetches on warm() and then serves keys without touching the network', async () => {
    const c = cache();
    expect(c.keys()).to.have.length(0);
    await c.warm();
    expect(c.keys().map((k) => k.kid)).to.deep.equal(['k1']);
    for (let i = 0; i < 5; i++) expect(await deliver(c, [k1])).to.equal('k1');
    expect(srv.state.fetches).to.equal(1);
    expect(c.status()).to.deep.include({ keyCount: 1, kids: ['k1'] });
  });

  it('skips JWKS entries that are not EC P-256 public keys', async () => {
    srv.state.body = { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', kid: 'rsa' }, { kty: 'EC', crv: 'P-384', x: 'a', y: 'b' }, k2.jwk] };
    const c = cache();
    await c.warm();
    expect(c.keys().map((k) => k.kid)).to.deep.equal(['k2']);
  });

  it('refreshes once when a signature matches no cached key (rotation) and then accepts it', async () => {
    const c = cache();
    await c.warm();
    srv.state.body = { keys: [k2.jwk] };
    expect(await deliver(c, [k2])).to.equal('k2');
    expect(srv.state.fetches).to.equal(2);
  });

  it('rate-limits refreshes triggered by unknown signatures, so forgeries cannot flood the JWKS', async () => {
    const c = cache({ minOnDemandGapMs: 30_000 });
    await c.warm();
    const forged = testKey('forged');
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(c, [forged])));
    expect(new Set(results)).to.deep.equal(new Set(['bad_signature']));
    for (let i = 0; i < 5; i++) expect(await deliver(c, [forged])).to.equal('bad_signature');
    expect(srv.state.fetches).to.equal(2); // warm + one on-demand refresh shared by everyone
  });

  it('does not let one bad signature block a key rotation for the whole gap: the next refresh comes a second later', async () => {
    const c = cache({ minOnDemandGapMs: 30_000 });
    await c.warm();
    expect(await deliver(c, [testKey('forged')])).to.equal('bad_signature'); // takes an on-demand refresh
    expect(srv.state.fetches).to.equal(2);
    srv.state.body = { keys: [k1.jwk, k2.jwk] }; // Benchling rotates right after
    await new Promise((r) => setTimeout(r, 1100));
    expect(await deliver(c, [k2])).to.equal('k2');
    expect(srv.state.fetches).to.equal(3);
  });

  it('backs off while refreshes find nothing new, so a stream of forgeries costs few fetches', async () => {
    const c = cache({ minOnDemandGapMs: 30_000, firstOnDemandGapMs: 200 });
    await c.warm();
    const forged = testKey('forged');
    const until = Date.now() + 2000;
    let sent = 0;
    while (Date.now() < until) {
      expect(await deliver(c, [forged])).to.equal('bad_signature');
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
    // Gaps of 0.2, 0.4, 0.8 s (then 1.6): at most 4 on-demand fetches in 2 s, whatever was sent.
    expect(sent).to.be.above(20);
    expect(srv.state.fetches - 1).to.be.within(2, 4);
  });

  it('gives up waiting for a slow JWKS after requestWaitMs and keeps answering from the cache', async () => {
    const c = cache({ requestWaitMs: 200, fetchTimeoutMs: 5000 });
    await c.warm();
    srv.state.delayMs = 2000;
    const started = performance.now();
    expect(await deliver(c, [testKey('unknown')])).to.equal('bad_signature');
    expect(performance.now() - started).to.be.below(600);
    expect(await deliver(c, [k1])).to.equal('k1');
  });

  it('keeps the previous keys when a refresh fails, and reports the failure', async () => {
    const c = cache();
    await c.warm();
    srv.state.status = 500;
    expect(await c.refresh('background')).to.equal(false);
    expect(c.keys().map((k) => k.kid)).to.deep.equal(['k1']);
    expect(c.status().lastError).to.equal('HTTP 500');
    srv.state.status = 200;
    srv.state.body = { keys: [] };
    expect(await c.refresh('background')).to.equal(false);
    expect(c.keys()).to.have.length(1);
  });

  it('throws a TransientError from warm() when the JWKS is unreachable, and fills the cache once it is back', async () => {
    const c = cache({ retryIntervalMs: 100, fetchTimeoutMs: 300 });
    srv.state.status = 503;
    const err = await c.warm().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TransientError);
    expect((err as TransientError).code).to.equal('JwksUnavailable');
    srv.state.status = 200;
    await new Promise((r) => setTimeout(r, 400));
    expect(c.keys().map((k) => k.kid)).to.deep.equal(['k1']);
  });

  it('aborts a fetch that takes longer than fetchTimeoutMs', async () => {
    srv.state.delayMs = 1000;
    const c = cache({ fetchTimeoutMs: 150 });
    const started = performance.now();
    await c.warm().catch(() => undefined);
    expect(performance.now() - started).to.be.below(800);
    expect(c.status().lastError).to.match(/timed out/);
  });

  it('refreshes in the background every refreshIntervalMs', async () => {
    const c = cache({ refreshIntervalMs: 100 });
    await c.warm();
    srv.state.body = { keys: [k2.jwk] };
    await new Promise((r) => setTimeout(r, 350));
    expect(srv.state.fetches).to.be.at.least(3);
    expect(c.keys().map((k) => k.kid)).to.deep.equal(['k2']);
    c.stop();
    const after = srv.state.fetches;
    await new Promise((r) => setTimeout(r, 250));
    expect(srv.state.fetches).to.equal(after);
  });

  it('rejects a bad url or option at construction, naming it', () => {
    expect(() => new JwksCache({ url: 'not a url' })).to.throw(/url/);
    expect(() => new JwksCache({ url: 'https://x/jwks', refreshIntervalMs: 0 })).to.throw(/refreshIntervalMs/);
  });
});
