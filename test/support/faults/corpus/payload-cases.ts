import { type CorpusContext, mutate, pathFor, payload, signedHttp, type WebhookCase } from './case.ts';

/*
 * Correctly signed bodies that are not webhooks we can act on. A signed body passes verification,
 * so these reach payload validation: 400 naming the field (never a 5xx Benchling would retry for
 * ever), 413 over the size limit, 200 for event types we ignore, and 202 where the design says to
 * tolerate (unknown extra fields, odd but well-formed strings); those jobs are then run by a worker.
 */

function signedBody(
  ctx: CorpusContext,
  category: string,
  name: string,
  body: string | Buffer,
  expect: WebhookCase['expect'],
  path = '/event',
): WebhookCase {
  return { category, name, request: { http: signedHttp(ctx, body, { path }) }, expect };
}

export function notJsonCases(ctx: CorpusContext): WebhookCase[] {
  const valid = JSON.stringify(payload(ctx, 'v2.entry.created'));
  const cases: Array<[string, string | Buffer]> = [
    ['plain text', 'not json'],
    ['an open brace', '{'],
    ['a cut-off object', valid.slice(0, valid.length / 2)],
    ['a cut-off array', '[1,2'],
    ['single quotes', "{'version':'0'}"],
    ['NaN literal', '{"version":NaN}'],
    ['a comment', '/* hi */{}'],
    ['trailing garbage', `${valid}x`],
    ['two documents', `${valid}${valid}`],
    ['a NUL byte after the document', Buffer.concat([Buffer.from(valid), Buffer.from([0])])],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a string', '"v2.entry.created"'],
    ['true', 'true'],
    ['an array', `[${valid}]`],
    ['an empty object', '{}'],
  ];
  return [
    signedBody(ctx, 'body: not a webhook', 'an empty body', '', { status: 400, field: '(body)' }),
    ...cases.map(([name, body]) => signedBody(ctx, 'body: not a webhook', name, body, { status: 400 })),
  ];
}

/** Every required field removed, and set to wrong types, for each message shape. */
export function fieldCases(ctx: CorpusContext): WebhookCase[] {
  const out: WebhookCase[] = [];
  const shapes: Array<{ type: string; required: string[]; o?: { buttonId?: string } }> = [
    {
      type: 'v2.entry.created',
      required: ['version', 'baseURL', 'tenantId', 'app', 'app.id', 'message', 'message.type', 'message.id', 'message.resourceId'],
    },
    { type: 'v2.canvas.initialized', required: ['message.resourceId', 'message.featureId'] },
    { type: 'v2.canvas.userInteracted', required: ['message.buttonId', 'message.canvasId'], o: { buttonId: 'update-package' } },
    { type: 'v2.canvas.created', required: ['message.canvasId'] },
  ];
  for (const s of shapes) {
    const base = payload(ctx, s.type, s.o);
    for (const field of s.required) {
      out.push(
        signedBody(
          ctx,
          'body: missing field',
          `${s.type} without ${field}`,
          JSON.stringify(mutate(base, field, undefined)),
          { status: 400, field },
          pathFor(s.type),
        ),
      );
    }
  }
  const entry = payload(ctx, 'v2.entry.created');
  const wrong: Array<[string, unknown[]]> = [
    ['version', [0, null, {}]],
    ['baseURL', ['not a url', 'ftp://ten.benchling.com', 'javascript:alert(1)', 42, '']],
    ['tenantId', ['', 42, null, []]],
    ['app', ['app_1', [], null]],
    ['app.id', ['', 7]],
    ['appDefinition', ['appdef', 5]],
    ['channel', [5, {}]],
    ['message', ['v2.entry.created', [], 7]],
    ['message.type', ['', 5, null, []]],
    ['message.id', ['', 5, {}]],
    ['message.resourceId', ['', 5, null, [], {}, [[[[['etr_nested']]]]]]],
  ];
  for (const [field, values] of wrong) {
    for (const v of values) {
      out.push(
        signedBody(ctx, 'body: wrong type', `${field} = ${JSON.stringify(v)}`, JSON.stringify(mutate(entry, field, v)), {
          status: 400,
          field,
        }),
      );
    }
  }
  const updated = payload(ctx, 'v2.entry.updated.fields');
  for (const v of ['fields.Name', [1], {}]) {
    out.push(
      signedBody(ctx, 'body: wrong type', `message.updates = ${JSON.stringify(v)}`, JSON.stringify(mutate(updated, 'message.updates', v)), {
        status: 400,
        field: 'message.updates',
      }),
    );
  }
  const canvas = payload(ctx, 'v2.canvas.userInteracted', { buttonId: 'update-package' });
  out.push(
    signedBody(
      ctx,
      'body: wrong type',
      'message.buttonId = 5',
      JSON.stringify(mutate(canvas, 'message.buttonId', 5)),
      { status: 400, field: 'message.buttonId' },
      '/canvas',
    ),
  );
  const init = payload(ctx, 'v2.canvas.initialized');
  out.push(
    signedBody(
      ctx,
      'body: wrong type',
      'message.featureId = false',
      JSON.stringify(mutate(init, 'message.featureId', false)),
      { status: 400, field: 'message.featureId' },
      '/canvas',
    ),
  );
  return out;
}

/** Byte- and character-level tricks. Well-formed strings are the tenant's to choose: accepted. */
export function unicodeCases(ctx: CorpusContext): WebhookCase[] {
  const valid = JSON.stringify(payload(ctx, 'v2.entry.created'));
  const withEntry = (entryId: string) => JSON.stringify(payload(ctx, 'v2.entry.created', { entryId }));
  const withType = (type: string) => JSON.stringify(mutate(payload(ctx, 'v2.entry.created'), 'message.type', type));
  const tenant = JSON.stringify(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_bytes' }));
  const i = tenant.indexOf(ctx.sim.options.tenantId);
  const invalidUtf8 = Buffer.concat([
    Buffer.from(tenant.slice(0, i + ctx.sim.options.tenantId.length)),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(tenant.slice(i + ctx.sim.options.tenantId.length)),
  ]);
  const q = valid.indexOf('"', valid.indexOf('"tenantId":"') + 12);
  const overlongQuote = Buffer.concat([Buffer.from(valid.slice(0, q)), Buffer.from([0xc0, 0xa2]), Buffer.from(valid.slice(q + 1))]);
  const u = 'body: unicode';
  const accepted = (name: string, body: string | Buffer): WebhookCase =>
    signedBody(ctx, u, name, body, { status: 202, execution: 'SUCCEEDED' });
  return [
    signedBody(ctx, u, 'UTF-8 byte-order mark before the JSON', `\uFEFF${valid}`, { status: 400 }),
    signedBody(ctx, u, 'UTF-16LE body', Buffer.from(`\uFEFF${valid}`, 'utf16le'), { status: 400 }),
    signedBody(ctx, u, 'overlong UTF-8 for a closing quote', overlongQuote, { status: 400 }),
    signedBody(ctx, u, 'event type with a Cyrillic "е"', withType('v2.entry.cr\u0435ated'), { status: 200 }),
    signedBody(ctx, u, 'event type with a zero-width space', withType('v2.entry.\u200bcreated'), { status: 200 }),
    signedBody(ctx, u, 'event type with a trailing space', withType('v2.entry.created '), { status: 200 }),
    signedBody(ctx, u, 'event type in full-width letters', withType('ｖ２.entry.created'), { status: 200 }),
    // The tenant id arrives as `ten_sim\uFFFD\uFFFD…`: a tenant this deployment does not serve.
    signedBody(ctx, u, 'invalid UTF-8 bytes inside the tenant id (not a served tenant)', invalidUtf8, { status: 202, execution: 'FAILED' }),
    accepted('right-to-left override in the entry id', withEntry('etr_corpus_\u202Etxt.exe')),
    signedBody(ctx, u, 'lone surrogate in the entry id', withEntry('etr_corpus_\ud800'), { status: 400, field: 'message.resourceId' }),
    accepted('NUL in the entry id', withEntry('etr_corpus_\u0000nul')),
    accepted('combining accents in the entry id', withEntry('etr_corpus_e\u0301\u0301\u0301')),
    accepted('line separator in the entry id', withEntry('etr_corpus_\u2028ls')),
    accepted('path traversal as the entry id', withEntry('../../../etc/passwd')),
    accepted('emoji entry id', withEntry('etr_corpus_🧪🧬')),
  ];
}

/** Objects built to confuse a parser or validator: prototype keys, depth, breadth, size. */
export function shapeCases(ctx: CorpusContext): WebhookCase[] {
  const entry = payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_shape' });
  const noTenant = mutate(entry, 'tenantId', undefined);
  // Accepted cases each get their own entry, or they would coalesce into one another (SUPERSEDED).
  let n = 0;
  const withExtra = (extra: string) =>
    `${JSON.stringify(payload(ctx, 'v2.entry.created', { entryId: `etr_corpus_extra${++n}` })).slice(0, -1)},"extra":${extra}}`;
  const s = 'body: shape and size';
  // The ingress's default MAX_BODY_BYTES: sizes are chosen on either side of it.
  const LIMIT = 64 * 1024;
  return [
    signedBody(
      ctx,
      s,
      '__proto__ supplying a missing tenantId',
      `${JSON.stringify(noTenant).slice(0, -1)},"__proto__":{"tenantId":"ten_evil"}}`,
      { status: 400, field: 'tenantId' },
    ),
    signedBody(
      ctx,
      s,
      '__proto__ supplying a missing resourceId',
      JSON.stringify(mutate(entry, 'message.resourceId', undefined)).replace('"type":', '"__proto__":{"resourceId":"etr_evil"},"type":'),
      { status: 400, field: 'message.resourceId' },
    ),
    signedBody(ctx, s, 'constructor.prototype in an extra field', withExtra('{"constructor":{"prototype":{"polluted":true}}}'), {
      status: 202,
      execution: 'SUCCEEDED',
    }),
    signedBody(ctx, s, 'array nested 30,000 deep in an extra field', withExtra(`${'['.repeat(30_000)}${']'.repeat(30_000)}`), {
      status: 202,
      execution: 'SUCCEEDED',
    }),
    signedBody(ctx, s, 'object nested 10,000 deep in an extra field', withExtra(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`), {
      status: 202,
      execution: 'SUCCEEDED',
    }),
    signedBody(ctx, s, 'array nested 600,000 deep (over the size limit)', withExtra(`${'['.repeat(600_000)}${']'.repeat(600_000)}`), {
      status: 413,
    }),
    signedBody(
      ctx,
      s,
      '5,000 keys in an extra field',
      withExtra(JSON.stringify(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i])))),
      { status: 202, execution: 'SUCCEEDED' },
    ),
    signedBody(ctx, s, '60 KB extra string (under the limit)', withExtra(JSON.stringify('x'.repeat(60 * 1024))), {
      status: 202,
      execution: 'SUCCEEDED',
    }),
    signedBody(ctx, s, 'just over the 64 KiB limit', withExtra(JSON.stringify('x'.repeat(LIMIT))), { status: 413 }),
    signedBody(ctx, s, '5 MiB body', withExtra(JSON.stringify('x'.repeat(80 * LIMIT))), { status: 413 }),
    signedBody(ctx, s, 'huge number', withExtra('1e400'), { status: 202, execution: 'SUCCEEDED' }),
    signedBody(
      ctx,
      s,
      'duplicate tenantId keys (JSON: the last one wins)',
      withExtra('0').replace('"tenantId":', '"tenantId":42,"tenantId":'),
      { status: 202, execution: 'SUCCEEDED' },
    ),
    signedBody(
      ctx,
      s,
      'base URL that is not Benchling (refused by the worker)',
      JSON.stringify(mutate(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_ssrf' }), 'baseURL', 'http://169.254.169.254')),
      {
        status: 202,
        execution: 'FAILED',
      },
    ),
    // BENCHLING_TENANTS: exact tenant ids and base URLs, no patterns (the worker refuses before any credential goes out).
    signedBody(
      ctx,
      s,
      'a tenant this deployment does not serve, at the served base URL',
      JSON.stringify(mutate(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_tenant1' }), 'tenantId', 'ten_other')),
      {
        status: 202,
        execution: 'FAILED',
      },
    ),
    signedBody(
      ctx,
      s,
      'the served tenant at a look-alike base URL',
      JSON.stringify(
        mutate(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_tenant2' }), 'baseURL', 'https://acme.benchling.com.evil.example'),
      ),
      {
        status: 202,
        execution: 'FAILED',
      },
    ),
    signedBody(
      ctx,
      s,
      'the served tenant at its base URL plus a path',
      JSON.stringify(mutate(payload(ctx, 'v2.entry.created', { entryId: 'etr_corpus_tenant3' }), 'baseURL', `${ctx.sim.url}/evil`)),
      {
        status: 202,
        execution: 'FAILED',
      },
    ),
  ];
}
