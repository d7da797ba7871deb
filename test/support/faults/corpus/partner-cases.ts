import { createHmac, randomBytes } from 'node:crypto';
import { LOCAL_PARTNER_SECRETS } from '@bp/shared/partners/local-partners';
import { signWebhook } from '@bp/shared/partners/standard-webhooks';

/**
 * Hostile (and a few control) inputs to POST /webhooks/sequencing/:partnerId with the answer
 * docs/partners.md documents for each: 401 with a reason for signatures and timestamps, 404/403
 * for unknown/inactive partners, 400 naming the field for malformed bodies and unsafe files,
 * 422 naming the type, 413 for size, 202 for the controls.
 */
export interface PartnerCase {
  category: string;
  name: string;
  partnerId: string;
  method?: string;
  headers: Record<string, string>;
  body: string | Buffer;
  expect: { status: number; reason?: string; field?: string; type?: string };
}

export interface PartnerCorpusContext {
  now: number;
  bucket: string;
  /** A partner that exists and is inactive. */
  inactivePartner: string;
  nextId(): string;
}

const PACBIO: string = LOCAL_PARTNER_SECRETS.pacbio;
const LOOPBACK = 'http://127.0.0.1:9999/runs';

function event(ctx: PartnerCorpusContext, o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `evt_${ctx.nextId()}`,
    type: 'sequencing.complete',
    timestamp: new Date(ctx.now * 1000).toISOString(),
    run: { id: `RUN_${ctx.nextId()}` },
    files: [{ path: 'reads/a.fastq.gz', url: `${LOOPBACK}/a.fastq.gz`, size: 3 }],
    ...o,
  };
}

function ica(ctx: PartnerCorpusContext, eventCode: string, o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    correlationId: ctx.nextId(),
    timestamp: new Date(ctx.now * 1000).toISOString(),
    eventCode,
    eventParameters: { analysisStatus: 'SUCCEEDED' },
    projectId: 'prj',
    payloadVersion: 'v4',
    payload: { id: `ana_${ctx.nextId()}`, status: 'SUCCEEDED' },
    ...o,
  };
}

/** A delivery signed with `secrets` (headers overridable; `undefined` drops one). */
function signed(
  ctx: PartnerCorpusContext,
  body: unknown,
  o: { secrets?: string[]; id?: string; ts?: string; headers?: Record<string, string | undefined> } = {},
) {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const id = o.id ?? ctx.nextId();
  const ts = o.ts ?? String(ctx.now);
  const sig = (o.secrets ?? [PACBIO]).map((s) => signWebhook({ secret: s, webhookId: id, timestamp: ts, body: text })).join(' ');
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': sig,
    ...o.headers,
  };
  return { headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>, body: text };
}

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const key = (s: string) => Buffer.from(s.slice(6), 'base64');

export function partnerCases(ctx: PartnerCorpusContext): PartnerCase[] {
  const cases: PartnerCase[] = [];
  const add = (
    category: string,
    name: string,
    req: { headers: Record<string, string>; body: string | Buffer },
    expect: PartnerCase['expect'],
    partnerId = 'pacbio',
    method?: string,
  ) => cases.push({ category, name, partnerId, headers: req.headers, body: req.body, expect, ...(method ? { method } : {}) });

  // Forged signatures.
  const forged = (name: string, sig: (id: string, ts: string, body: string) => string, reason = 'bad_signature') => {
    const body = JSON.stringify(event(ctx));
    const id = ctx.nextId();
    add('forged signature', name, signed(ctx, body, { id, headers: { 'webhook-signature': sig(id, String(ctx.now), body) } }), {
      status: 401,
      reason,
    });
  };
  const hmac = (k: Buffer | string, id: string, ts: string, body: string, algo = 'sha256') =>
    createHmac(algo, k).update(`${id}.${ts}.${body}`).digest('base64');
  forged('a random secret', (id, ts, b) => `v1,${hmac(key(secret()), id, ts, b)}`);
  forged("another partner's secret", (id, ts, b) => `v1,${hmac(key(LOCAL_PARTNER_SECRETS.ont), id, ts, b)}`);
  forged('the signature of another body', (id, ts) => `v1,${hmac(key(PACBIO), id, ts, '{}')}`);
  forged('the signature of another webhook-id', (_id, ts, b) => `v1,${hmac(key(PACBIO), 'msg_other', ts, b)}`);
  forged('the signature of another timestamp', (id, ts, b) => `v1,${hmac(key(PACBIO), id, String(Number(ts) - 1), b)}`);
  forged('the whsec_ string as the key (not base64-decoded)', (id, ts, b) => `v1,${hmac(PACBIO, id, ts, b)}`);
  forged('HMAC-SHA1 instead of SHA-256', (id, ts, b) => `v1,${hmac(key(PACBIO), id, ts, b, 'sha1')}`);
  forged('HMAC-SHA512 instead of SHA-256', (id, ts, b) => `v1,${hmac(key(PACBIO), id, ts, b, 'sha512')}`);
  forged('the signature cut short', (id, ts, b) => `v1,${hmac(key(PACBIO), id, ts, b).slice(0, 20)}`);
  forged('an empty v1 entry', () => 'v1,');
  forged('v1 entry that is not base64', () => 'v1,!!!not-base64!!!');
  forged('hex instead of base64', (id, ts, b) => `v1,${createHmac('sha256', key(PACBIO)).update(`${id}.${ts}.${b}`).digest('hex')}`);
  forged('only a v1a (ed25519) entry', (id, ts, b) => `v1a,${hmac(key(PACBIO), id, ts, b)}`, 'no_v1_signature');
  forged('a v2 entry', (id, ts, b) => `v2,${hmac(key(PACBIO), id, ts, b)}`, 'no_v1_signature');
  forged('upper-case V1', (id, ts, b) => `V1,${hmac(key(PACBIO), id, ts, b)}`, 'no_v1_signature');
  forged(
    'nine entries, the valid one last',
    (id, ts, b) => [...Array.from({ length: 8 }, () => 'v1,AAAA'), `v1,${hmac(key(PACBIO), id, ts, b)}`].join(' '),
    'too_many_signatures',
  );
  forged('a 2,000-character header', () => `v1,${'A'.repeat(2000)}`, 'too_many_signatures');
  {
    const pretty = event(ctx);
    const id = ctx.nextId();
    const sig = signWebhook({ secret: PACBIO, webhookId: id, timestamp: ctx.now, body: JSON.stringify(pretty, null, 2) });
    add('forged signature', 'signed pretty-printed, sent compact', signed(ctx, pretty, { id, headers: { 'webhook-signature': sig } }), {
      status: 401,
      reason: 'bad_signature',
    });
  }
  for (const h of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    add('forged signature', `no ${h} header`, signed(ctx, event(ctx), { headers: { [h]: undefined } }), {
      status: 401,
      reason: 'missing_headers',
    });
  }
  add('forged signature', 'an empty webhook-signature', signed(ctx, event(ctx), { headers: { 'webhook-signature': '' } }), {
    status: 401,
    reason: 'missing_headers',
  });

  // Timestamps.
  const stamp = (name: string, ts: string, reason: string) =>
    add('timestamp', name, signed(ctx, event(ctx), { ts }), { status: 401, reason });
  stamp('301 s old', String(ctx.now - 301), 'stale_timestamp');
  // Cases are built before they are sent (up to a minute): "ahead" keeps a margin.
  stamp('6 minutes ahead', String(ctx.now + 360), 'stale_timestamp');
  stamp('a day old', String(ctx.now - 86_400), 'stale_timestamp');
  stamp('zero', '0', 'stale_timestamp');
  stamp('year 5138', '99999999999', 'stale_timestamp');
  stamp('milliseconds', String(ctx.now * 1000), 'bad_timestamp');
  stamp('negative', '-1', 'bad_timestamp');
  stamp('exponent notation', '1.7e9', 'bad_timestamp');
  stamp('hex', '0x6900000', 'bad_timestamp');
  stamp('ISO date', new Date(ctx.now * 1000).toISOString(), 'bad_timestamp');
  stamp('fractional seconds', `${ctx.now}.5`, 'bad_timestamp');

  // Partners and routing.
  add('partner', 'an unknown partner', signed(ctx, event(ctx)), { status: 404 }, 'nobody');
  add('partner', 'an upper-case partner id', signed(ctx, event(ctx)), { status: 404 }, 'PACBIO');
  add('partner', 'an encoded traversal as the partner id', signed(ctx, event(ctx)), { status: 404 }, '..%2Fpacbio');
  add('partner', 'a 300-character partner id', signed(ctx, event(ctx)), { status: 404 }, 'p'.repeat(300));
  add('partner', 'an inactive partner, correctly signed', signed(ctx, event(ctx)), { status: 403 }, ctx.inactivePartner);
  add('partner', 'GET instead of POST', { headers: {}, body: '' }, { status: 404 }, 'pacbio', 'GET');

  // Bodies.
  const malformed = (name: string, body: string | Buffer, field = '(body)') => add('body', name, signed(ctx, body), { status: 400, field });
  malformed('not JSON', '{"id": "x", ');
  malformed('a JSON array', '[1,2,3]');
  malformed('a JSON string', '"sequencing.complete"');
  malformed('JSON null', 'null');
  malformed('an empty body', '');
  malformed('a byte-order mark before the JSON', `\ufeff${JSON.stringify(event(ctx))}`);
  malformed('invalid UTF-8 outside strings', Buffer.concat([Buffer.from('{"id":"x",'), Buffer.from([0xff, 0xfe]), Buffer.from('}')]));
  malformed('nested 100,000 deep', '['.repeat(100_000) + ']'.repeat(100_000));
  malformed('data nested 40 deep', JSON.stringify(event(ctx, { data: JSON.parse(['{"a":'.repeat(40), '1', '}'.repeat(40)].join('')) })));
  malformed('no type', JSON.stringify(event(ctx, { type: undefined })), 'type');
  malformed('a numeric type', JSON.stringify(event(ctx, { type: 7 })), 'type');
  malformed('a 200-character type', JSON.stringify(event(ctx, { type: 'x'.repeat(200) })), 'type');
  malformed('no id', JSON.stringify(event(ctx, { id: undefined })), 'id');
  malformed('no run', JSON.stringify(event(ctx, { run: undefined })), 'run');
  malformed('an empty run id', JSON.stringify(event(ctx, { run: { id: '' } })), 'run.id');
  malformed('a 300-character run id', JSON.stringify(event(ctx, { run: { id: 'r'.repeat(300) } })), 'run.id');
  malformed('no timestamp', JSON.stringify(event(ctx, { timestamp: undefined })), 'timestamp');
  malformed('samples not a list', JSON.stringify(event(ctx, { samples: { id: 's' } })), 'samples');
  malformed('a negative file size', JSON.stringify(event(ctx, { files: [{ path: 'a', url: `${LOOPBACK}/a`, size: -1 }] })), 'files.0.size');
  malformed(
    'a sha256 that is not hex',
    JSON.stringify(event(ctx, { files: [{ path: 'a', url: `${LOOPBACK}/a`, sha256: 'z'.repeat(64) }] })),
    'files.0.sha256',
  );
  malformed('data as a list', JSON.stringify(event(ctx, { data: [1] })), 'data');
  // More files than a job may carry do not fit in PARTNER_MAX_BODY_BYTES (256 KiB) either: refused by size.
  add(
    'body',
    '10,001 files',
    signed(ctx, event(ctx, { files: Array.from({ length: 10_001 }, (_, i) => ({ path: `f${i}`, url: `${LOOPBACK}/${i}` })) })),
    { status: 413 },
  );
  add('body', 'a body over PARTNER_MAX_BODY_BYTES (2 MB)', signed(ctx, event(ctx, { data: { blob: 'x'.repeat(2 * 1024 * 1024) } })), {
    status: 413,
  });
  add(
    'body',
    'a 600 KB body (over the limit, and a job too big for SQS)',
    signed(ctx, event(ctx, { data: { blob: 'x'.repeat(600 * 1024) } })),
    { status: 413 },
  );

  // Event types.
  const unsupported = (name: string, body: unknown, type: string, partnerId = 'pacbio', secrets = [PACBIO]) =>
    add('event type', name, signed(ctx, body, { secrets }), { status: 422, type }, partnerId);
  unsupported('an unknown type', event(ctx, { type: 'run.started' }), 'run.started');
  unsupported('a known type in upper case', event(ctx, { type: 'QC.COMPLETE' }), 'QC.COMPLETE');
  unsupported(
    'a type the partner does not send (ont: analysis.complete)',
    event(ctx, { type: 'analysis.complete', files: undefined }),
    'analysis.complete',
    'ont',
    [LOCAL_PARTNER_SECRETS.ont],
  );
  unsupported(
    'the last of duplicate "type" keys wins',
    `{"type":"qc.complete","type":"run.started","id":"x","timestamp":"t","run":{"id":"r"}}`,
    'run.started',
  );
  unsupported('an ICA data event', ica(ctx, 'ICA_DATA_100'), 'ICA_DATA_100', 'illumina', [LOCAL_PARTNER_SECRETS.illumina]);
  unsupported(
    'ICA status change to INPROGRESS',
    ica(ctx, 'ICA_EXEC_028', { eventParameters: { analysisStatus: 'INPROGRESS' } }),
    'ICA_EXEC_028',
    'illumina',
    [LOCAL_PARTNER_SECRETS.illumina],
  );
  add('event type', 'an ICA envelope to a standard partner', signed(ctx, ica(ctx, 'ICA_EXEC_002')), { status: 400, field: 'type' });
  add(
    'event type',
    'an ICA envelope without payload',
    signed(ctx, ica(ctx, 'ICA_EXEC_002', { payload: undefined }), { secrets: [LOCAL_PARTNER_SECRETS.illumina] }),
    { status: 400, field: 'payload' },
    'illumina',
  );
  add(
    'event type',
    'a numeric ICA eventCode',
    signed(ctx, ica(ctx, 'x', { eventCode: 2 }), { secrets: [LOCAL_PARTNER_SECRETS.illumina] }),
    { status: 400, field: 'eventCode' },
    'illumina',
  );

  // Path traversal in files[].path.
  const badPath = (name: string, path: string, index = 0, files?: unknown[]) =>
    add('files[].path', name, signed(ctx, event(ctx, { files: files ?? [{ path, url: `${LOOPBACK}/x` }] })), {
      status: 400,
      field: `files.${index}.path`,
    });
  badPath('../../etc/passwd', '../../etc/passwd');
  badPath('an absolute path', '/etc/passwd');
  badPath('a Windows drive', 'C:\\Windows\\system32\\x');
  badPath('a drive with a forward slash', 'c:/x');
  badPath('.. in the middle', 'a/../../b');
  badPath('backslash traversal', '..\\..\\x');
  badPath('a UNC path', '\\\\server\\share\\x');
  badPath('a . segment', 'a/./b');
  badPath('an empty segment', 'a//b');
  badPath('a NUL character', 'a\u0000b');
  badPath('just ..', '..');
  badPath('an empty path', '');
  badPath('the same path twice', '', 1, [
    { path: 'a/b', url: `${LOOPBACK}/1` },
    { path: 'a/b', url: `${LOOPBACK}/2` },
  ]);
  badPath('the same path in NFC and NFD', '', 1, [
    { path: 'caf\u00e9', url: `${LOOPBACK}/1` },
    { path: 'cafe\u0301', url: `${LOOPBACK}/2` },
  ]);

  // SSRF-style and disallowed source URLs.
  const badUrl = (name: string, url: string) =>
    add('files[].url', name, signed(ctx, event(ctx, { files: [{ path: 'a', url }] })), { status: 400, field: 'files.0.url' });
  badUrl('the EC2 metadata address', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/');
  badUrl('the IPv6 EC2 metadata address', 'http://[fd00:ec2::254]/latest/meta-data/');
  badUrl('metadata as an IPv4-mapped IPv6 address', 'http://[::ffff:169.254.169.254]/');
  badUrl('an IPv6 link-local address', 'http://[fe80::1]:9999/x');
  badUrl('file://', 'file:///etc/passwd');
  badUrl('gopher://', 'gopher://127.0.0.1:6379/_FLUSHALL');
  badUrl('ftp://', 'ftp://127.0.0.1/x');
  badUrl('data:', 'data:text/plain,hello');
  badUrl('javascript:', 'javascript:alert(1)');
  badUrl('credentials in the URL', 'http://user:pw@127.0.0.1:9999/x');
  badUrl('an allowed host as user info', 'http://127.0.0.1:9999@evil.example/x');
  badUrl('a host outside the patterns', 'https://evil.example.com/x');
  badUrl('an allowed host as a subdomain prefix', 'http://127.0.0.1.evil.example:9999/x');
  badUrl('a metadata host behind a wildcard DNS name', 'http://169.254.169.254.nip.io/');
  badUrl('an obfuscated loopback', 'http://0x7f.1:9999/x');
  badUrl('another bucket', 's3://someone-else/partners/x');
  badUrl('the right bucket outside the prefix', `s3://${ctx.bucket}/private/x`);
  badUrl('not a URL', 'reads/a.fastq.gz');

  // Controls: what a partner should send is accepted.
  add('control', 'a valid standard event with a loopback file', signed(ctx, event(ctx)), { status: 202 });
  add(
    'control',
    'a valid event with an allowed s3:// source',
    signed(ctx, event(ctx, { files: [{ path: 'a.bam', url: `s3://${ctx.bucket}/partners/run/a.bam` }] })),
    { status: 202 },
  );
  add(
    'control',
    'a valid ICA ICA_EXEC_002',
    signed(ctx, ica(ctx, 'ICA_EXEC_002'), { secrets: [LOCAL_PARTNER_SECRETS.illumina] }),
    { status: 202 },
    'illumina',
  );
  add('control', 'two signatures (rotation), one valid', signed(ctx, event(ctx), { secrets: [secret(), PACBIO] }), { status: 202 });
  add(
    'control',
    'a v1a entry beside a valid v1',
    (() => {
      const d = signed(ctx, event(ctx));
      return { ...d, headers: { ...d.headers, 'webhook-signature': `v1a,AAAA ${d.headers['webhook-signature']}` } };
    })(),
    { status: 202 },
  );
  return cases;
}
