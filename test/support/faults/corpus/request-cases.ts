import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { httpBytes } from '../raw-http.ts';
import { type CorpusContext, payload, signature, signedHttp, type WebhookCase } from './case.ts';

/*
 * Hostile requests that fail before the body is read as a webhook: signatures, timestamps,
 * headers, HTTP framing and routes. Every signature case carries a body that would otherwise be
 * accepted, so a 401 is the signature check's doing and nothing else's.
 */

export function signatureCases(ctx: CorpusContext): WebhookCase[] {
  const bad = (name: string, sig: string | undefined, reason = 'bad_signature'): WebhookCase => {
    const body = JSON.stringify(payload(ctx, 'v2.entry.created'));
    return {
      category: 'signature',
      name,
      request: { http: signedHttp(ctx, body, { headers: { 'webhook-signature': sig } }) },
      expect: { status: 401, reason },
    };
  };
  // A genuine signature over another delivery, to cut, flip and re-label.
  const body = JSON.stringify(payload(ctx, 'v2.entry.created'));
  const id = ctx.nextId();
  const genuine = signature(ctx.key, id, String(ctx.now), body);
  const sigBytes = Buffer.from(genuine.split(',')[1]!, 'base64');
  const b64 = (b: Buffer) => `v1bder,${b.toString('base64')}`;
  const flipped = Buffer.from(sigBytes);
  flipped[flipped.length - 5]! ^= 0x01;
  const sameDelivery = (name: string, sig: string, over: { id?: string; timestamp?: string; body?: string } = {}): WebhookCase => ({
    category: 'signature',
    name,
    request: {
      http: signedHttp(ctx, over.body ?? body, {
        id: over.id ?? id,
        timestamp: over.timestamp ?? String(ctx.now),
        headers: { 'webhook-signature': sig },
      }),
    },
    expect: { status: 401, reason: 'bad_signature' },
  });
  const reserialised = JSON.stringify(JSON.parse(body), null, 1);
  return [
    bad('no signature header', undefined, 'missing_header'),
    bad('empty signature header', '', 'missing_header'),
    bad('whitespace-only signature header', '   ', 'missing_header'),
    bad('garbled base64', 'v1bder,@@@not*base64@@@'),
    bad('random bytes as the signature', b64(randomBytes(72))),
    bad('signed with a key Benchling never published', signature(ctx.stranger, 'x', 'y', 'z')),
    sameDelivery('signed with an unpublished key over this very delivery', signature(ctx.stranger, id, String(ctx.now), body)),
    sameDelivery('symmetric v1 tag instead of v1bder', `v1,${sigBytes.toString('base64')}`),
    sameDelivery('tag without "der"', `v1b,${sigBytes.toString('base64')}`),
    sameDelivery('upper-case tag', `V1BDER,${sigBytes.toString('base64')}`),
    sameDelivery('tag and signature without a comma', `v1bder${sigBytes.toString('base64')}`),
    sameDelivery('tag with an empty signature', 'v1bder,'),
    sameDelivery('truncated signature', b64(sigBytes.subarray(0, sigBytes.length - 6))),
    sameDelivery('signature with one bit flipped', b64(flipped)),
    sameDelivery('DER with trailing junk', b64(Buffer.concat([sigBytes, Buffer.from([0, 0])]))),
    sameDelivery('zero r and s', b64(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]))),
    sameDelivery('SHA-1 instead of SHA-256', signature(ctx.key, id, String(ctx.now), body, 'sha1')),
    sameDelivery('signature of another webhook-id', genuine, { id: `${id}x` }),
    sameDelivery('signature of another timestamp', genuine, { timestamp: String(ctx.now - 1) }),
    sameDelivery('signature of another body', genuine, {
      body: JSON.stringify(payload(ctx, 'v2.entry.created', { entryId: 'etr_other' })),
    }),
    sameDelivery('body re-serialised after signing', genuine, { body: reserialised }),
    sameDelivery('120 bogus signatures and no good one', Array.from({ length: 120 }, () => b64(randomBytes(70))).join(' ')),
    sameDelivery('8 KB signature header', b64(randomBytes(6000))),
    // More than 8 entries is refused before any hashing, even with the genuine signature among them.
    sameDelivery('2,000 junk "der,AA" entries', Array.from({ length: 2000 }, () => 'der,AA').join(' ')),
    sameDelivery('genuine signature behind 8 junk entries', `${Array.from({ length: 8 }, () => 'v1bder,AA').join(' ')} ${genuine}`),
    sameDelivery('signature of the empty string', signature(ctx.key, '', '', '')),
  ];
}

export function timestampCases(ctx: CorpusContext): WebhookCase[] {
  const at = (name: string, timestamp: string, reason = 'stale_timestamp'): WebhookCase => ({
    category: 'timestamp',
    name,
    request: { http: signedHttp(ctx, JSON.stringify(payload(ctx, 'v2.entry.created')), { timestamp }) },
    expect: { status: 401, reason },
  });
  const n = ctx.now;
  return [
    at('301 s old', String(n - 301)),
    at('10 minutes old', String(n - 600)),
    at('an hour old', String(n - 3600)),
    at('a day old', String(n - 86_400)),
    at('a year old', String(n - 31_536_000)),
    at('the epoch', '0'),
    at('one second after the epoch', '1'),
    // The corpus takes seconds to send: the cases just past the 300 s tolerance keep a margin for that.
    at('330 s ahead', String(n + 330)),
    at('15 minutes ahead', String(n + 900)),
    at('a day ahead', String(n + 86_400)),
    at('year 2286', '9999999999'),
    at('twelve nines', '999999999999'),
    at('milliseconds instead of seconds', String(n * 1000)),
    at('forty digits', '1'.repeat(40)),
    at('letters', 'abc'),
    at('decimal', `${n}.5`),
    at('exponent', '1.7e9'),
    at('negative', `-${n}`),
    at('hexadecimal', `0x${n.toString(16)}`),
    at('plus sign', `+${n}`),
    at('trailing unit', `${n}s`),
    at('thousands separators', n.toLocaleString('en-US')),
    at('NaN', 'NaN'),
    at('Infinity', 'Infinity'),
    at('null', 'null'),
    at('empty', '', 'missing_header'),
  ];
}

export function headerCases(ctx: CorpusContext): WebhookCase[] {
  const body = () => JSON.stringify(payload(ctx, 'v2.entry.created'));
  const drop = (name: string, headers: Record<string, undefined | string>): WebhookCase => ({
    category: 'headers',
    name,
    request: { http: signedHttp(ctx, body(), { headers }) },
    expect: { status: 401, reason: 'missing_header' },
  });
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  return [
    drop('no webhook-id', { 'webhook-id': undefined }),
    drop('empty webhook-id', { 'webhook-id': '' }),
    drop('no webhook-timestamp', { 'webhook-timestamp': undefined }),
    drop('no webhook headers at all', { 'webhook-id': undefined, 'webhook-timestamp': undefined, 'webhook-signature': undefined }),
    {
      category: 'headers',
      name: 'gzip bomb body (64 MiB of zeros in 64 KB)',
      request: { http: signedHttp(ctx, bomb, { headers: { 'content-encoding': 'gzip' } }) },
      expect: { status: 413 },
    },
    // Refused from the headers, before the body is inflated or even read.
    {
      category: 'headers',
      name: 'gzip bomb without webhook headers',
      request: { http: { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb } },
      expect: { status: 401, reason: 'missing_header' },
    },
    {
      category: 'headers',
      name: 'unknown content-encoding',
      request: { http: signedHttp(ctx, body(), { headers: { 'content-encoding': 'compress' } }) },
      expect: { status: 415 },
    },
    {
      category: 'headers',
      name: 'gzip content-encoding on a plain body',
      request: { http: signedHttp(ctx, body(), { headers: { 'content-encoding': 'gzip' } }) },
      expect: { status: 400 },
    },
    {
      category: 'headers',
      name: 'webhook-id longer than DynamoDB allows in a key (3000 chars)',
      request: { http: signedHttp(ctx, body(), { id: `msg_${'x'.repeat(3000)}` }) },
      expect: { status: 400, field: 'webhook-id' },
    },
  ];
}

/** Bytes no client library would produce: Node's HTTP parser answers before our code runs. */
export function framingCases(ctx: CorpusContext): WebhookCase[] {
  const body = JSON.stringify(payload(ctx, 'v2.entry.created'));
  const signed = signedHttp(ctx, body);
  const h = Object.entries(signed.headers);
  const raw = (name: string, bytes: Buffer, status: number, timeoutMs?: number): WebhookCase => ({
    category: 'framing',
    name,
    request: { raw: bytes, ...(timeoutMs ? { timeoutMs } : {}) },
    expect: { status },
  });
  const chunked = (payloadBytes: number) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const parts: Buffer[] = [];
    for (let sent = 0; sent < payloadBytes; sent += chunk.length)
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    parts.push(Buffer.from('0\r\n\r\n'));
    return Buffer.concat(parts);
  };
  return [
    raw(
      '20 KB header block',
      httpBytes({ headers: [...h, ['x-padding', 'p'.repeat(20_000)], ['content-length', String(Buffer.byteLength(body))]], body }),
      431,
    ),
    raw('negative content-length', httpBytes({ headers: [...h, ['content-length', '-1']], body }), 400),
    raw('non-numeric content-length', httpBytes({ headers: [...h, ['content-length', 'abc']], body }), 400),
    raw('two different content-lengths', httpBytes({ headers: [...h, ['content-length', '5'], ['content-length', '6']], body }), 400),
    raw(
      'content-length and chunked together',
      httpBytes({ headers: [...h, ['content-length', '5'], ['transfer-encoding', 'chunked']], body: '0\r\n\r\n' }),
      400,
    ),
    raw('bad chunk size', httpBytes({ headers: [...h, ['transfer-encoding', 'chunked']], body: 'zz\r\nhello\r\n0\r\n\r\n' }), 400),
    raw('2 MiB chunked body', httpBytes({ headers: [...h, ['transfer-encoding', 'chunked']], body: chunked(2 * 1024 * 1024) }), 413),
    raw('garbage request line', Buffer.from('HELLO WORLD\r\n\r\n'), 400),
    raw('space in the path', Buffer.from('POST /ev ent HTTP/1.1\r\nHost: x\r\n\r\n'), 400),
    raw(
      'NUL in a header value',
      Buffer.concat([
        Buffer.from('POST /event HTTP/1.1\r\nHost: x\r\nwebhook-id: a'),
        Buffer.from([0]),
        Buffer.from('b\r\ncontent-length: 0\r\n\r\n'),
      ]),
      400,
    ),
    raw(
      'header name with a space',
      httpBytes({
        headers: [
          ['bad header', 'x'],
          ['content-length', '0'],
        ],
      }),
      400,
    ),
    raw('body shorter than its content-length, then silence', httpBytes({ headers: [...h, ['content-length', '5000']], body }), 0, 1500),
    // The body deadline (BODY_TIMEOUT_MS, 3 s) cuts it: 408 and the connection closed.
    raw(
      'body shorter than its content-length, past the body deadline',
      httpBytes({ headers: [...h, ['content-length', '5000']], body }),
      408,
      6000,
    ),
    raw('declared 2 MiB body that never comes', httpBytes({ headers: [...h, ['content-length', String(2 * 1024 * 1024)]] }), 413, 3000),
    raw(
      'no webhook headers and a declared body that never comes',
      httpBytes({
        headers: [
          ['content-type', 'application/json'],
          ['content-length', '50000'],
        ],
      }),
      401,
      3000,
    ),
  ];
}

export function routingCases(ctx: CorpusContext): WebhookCase[] {
  const body = JSON.stringify(payload(ctx, 'v2.entry.created'));
  const at = (name: string, method: string, path: string): WebhookCase => ({
    category: 'routing',
    name,
    request: { http: { ...signedHttp(ctx, method === 'GET' || method === 'HEAD' ? '' : body, { path }), method } },
    expect: { status: 404 },
  });
  return [
    at('GET on the webhook path', 'GET', '/event'),
    at('PUT on the webhook path', 'PUT', '/event'),
    at('DELETE on the root', 'DELETE', '/'),
    at('HEAD on the webhook path', 'HEAD', '/event'),
    at('POST to an unknown path', 'POST', '/events'),
    at('POST to an encoded traversal', 'POST', '/event%2F..%2Fcanvas'),
  ];
}

/** Inputs that must still work: they prove the harness does not just reject everything. */
export function controlCases(ctx: CorpusContext): WebhookCase[] {
  const created = signedHttp(ctx, JSON.stringify(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_control' })));
  return [
    { category: 'control', name: 'a valid entry.created', request: { http: created }, expect: { status: 202, execution: 'SUCCEEDED' } },
    { category: 'control', name: 'the same delivery again', request: { http: created }, expect: { status: 200 } },
    {
      category: 'control',
      name: 'an unknown event type',
      request: { http: signedHttp(ctx, JSON.stringify(payload(ctx, 'v2.entry.archived'))) },
      expect: { status: 200 },
    },
    {
      category: 'control',
      name: 'a button this app does not own',
      request: {
        http: signedHttp(ctx, JSON.stringify(payload(ctx, 'v2.canvas.userInteracted', { buttonId: 'someone_else' })), { path: '/canvas' }),
      },
      expect: { status: 200 },
    },
    {
      category: 'control',
      name: 'stable routing, text/plain content type and a query string',
      request: {
        http: signedHttp(ctx, JSON.stringify(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_stable' })), {
          path: '/?src=benchling',
          headers: { 'content-type': 'text/plain' },
        }),
      },
      expect: { status: 202, execution: 'SUCCEEDED' },
    },
  ];
}
