import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { expect } from 'chai';
import { keyFromJwk, verifyWebhook } from '@bp/shared/webhook/verify';
import { useSimulator } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../src/cli.ts');

/**
 * The simulator's canvas controls: schema conformance of writes (Benchling's 400), the list and
 * preview pages, a preview click sending the signed webhook, and `sim canvas show`.
 */
describe('simulated canvases: conformance, list, preview, click, CLI', function () {
  this.timeout(60_000);
  const suite = useSimulator({ rateLimit: { limit: 10_000, windowSeconds: 30 } });
  const base = (blocks: unknown[], extra: Record<string, unknown> = {}) => ({
    appId: suite.sim.options.appId,
    featureId: 'quilt_entry',
    resourceId: 'etr_preview1',
    blocks,
    ...extra,
  });

  it('refuses blocks and data Benchling refuses, with its 400 error body', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['unknown block type', base([{ type: 'IMAGE', id: 'i', url: 'x' }]), /type must be one of/],
      ['unknown button field', base([{ type: 'BUTTON', id: 'b', text: 'Go', style: 'primary' }]), /unknown BUTTON properties style/],
      ['unknown section field', base([{ type: 'SECTION', id: 's', children: [], title: 'x' }]), /unknown SECTION properties title/],
      [
        'section inside a section',
        base([{ type: 'SECTION', id: 's', children: [{ type: 'SECTION', id: 't', children: [] }] }]),
        /cannot be nested/,
      ],
      ['button without text', base([{ type: 'BUTTON', id: 'b' }]), /text is required/],
      ['data that is not JSON', base([], { data: '{not json' }), /valid JSON/],
      ['data of 5 KB', base([], { data: JSON.stringify({ x: 'y'.repeat(5 * 1024) }) }), /less than 5kb/],
      ['table without its source', base([{ type: 'TABLE', id: 't', name: 'T' }]), /does not match AppCanvasCreate/],
    ];
    for (const [what, body, message] of cases) {
      const r = await suite.call('POST', '/app-canvases', body);
      expect(r.status, what).to.equal(400);
      expect(r.body.error.type, what).to.equal('invalid_request_error');
      expect(r.body.error.message, what).to.match(message);
    }
    const ok = await suite.call(
      'POST',
      '/app-canvases',
      base([{ type: 'SECTION', id: 's', children: [{ type: 'BUTTON', id: 'b', text: 'Go', enabled: false }] }], { data: '{"v":1}' }),
    );
    expect(ok.status).to.equal(201);
    const patched = await suite.call('PATCH', `/app-canvases/${ok.body.id}`, { data: '{"v":' });
    expect(patched.status).to.equal(400);
  });

  it('lists canvases by entry, previews one as HTML, and sends the signed click webhook to the target', async () => {
    const blocks = [
      {
        type: 'MARKDOWN',
        id: 'm',
        value: '### Title\n\n| a | b |\n|---|---|\n| 1 | [link](https://example.com) |\n\n<script>alert(1)</script>',
      },
      {
        type: 'SECTION',
        id: 's',
        children: [
          { type: 'BUTTON', id: 'nav:files', text: 'Browse files' },
          { type: 'BUTTON', id: 'update-package', text: 'Updating…', enabled: false },
        ],
      },
    ];
    const created = await suite.call('POST', '/app-canvases', { ...base(blocks), resourceId: 'etr_preview2' });
    const id = created.body.id as string;
    const list = (await (await fetch(`${suite.sim.url}/_sim/canvases?resourceId=etr_preview2`)).json()) as {
      canvases: Array<{ id: string; versions: number }>;
    };
    expect(list.canvases.map((c) => c.id)).to.deep.equal([id]);

    const html = await (await fetch(`${suite.sim.url}/_sim/canvases/${id}/preview`)).text();
    expect(html).to.include('<h3>Title</h3>');
    expect(html).to.include('<a href="https://example.com">link</a>');
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).to.match(/<button type="button" data-button-id="nav:files">Browse files<\/button>/);
    expect(html).to.match(/data-button-id="update-package" disabled>/);

    const noTarget = await fetch(`${suite.sim.url}/_sim/canvases/${id}/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"buttonId":"nav:files"}',
    });
    expect(noTarget.status).to.equal(409);

    const received: Array<{ headers: Record<string, string>; body: string; path: string }> = [];
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.post(/.*/, (req, res) => {
      received.push({ headers: req.headers as Record<string, string>, body: (req.body as Buffer).toString('utf8'), path: req.path });
      res.status(202).json({ executionId: 'ex_1' });
    });
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const put = await fetch(`${suite.sim.url}/_sim/webhook-target`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
      });
      expect(put.status).to.equal(200);
      const click = await fetch(`${suite.sim.url}/_sim/canvases/${id}/click`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"buttonId":"nav:files"}',
      });
      expect(((await click.json()) as { status: number }).status).to.equal(202);
      expect(received).to.have.length(1);
      expect(received[0]!.path).to.equal('/canvas');
      const message = JSON.parse(received[0]!.body).message;
      expect(message).to.include({ type: 'v2.canvas.userInteracted', canvasId: id, buttonId: 'nav:files', featureId: 'quilt_entry' });
      const keys = suite.sim.keys().map((k) => keyFromJwk(k.publicJwk)!);
      expect(
        verifyWebhook({ headers: received[0]!.headers, rawBody: Buffer.from(received[0]!.body), keys, now: Date.now() }).webhookId,
      ).to.be.a('string');
    } finally {
      server.close();
    }
  });

  it('prints a canvas with `sim canvas show`, as text and as JSON', async () => {
    const created = await suite.call('POST', '/app-canvases', {
      ...base([
        { type: 'MARKDOWN', value: 'Hello **there**' },
        { type: 'BUTTON', id: 'update-package', text: 'Update package', enabled: false },
      ]),
      resourceId: 'etr_preview3',
    });
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', cli, 'canvas', 'show', ...args, '--sim', suite.sim.url], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('exit', (code) => resolve({ code, stdout }));
      });
    const text = await run([created.body.id]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.include(`canvas ${created.body.id} · entry etr_preview3`);
    expect(text.stdout).to.include('Hello **there**');
    expect(text.stdout).to.include('[Update package] (disabled) → update-package');
    expect(text.stdout).to.include(`/_sim/canvases/${created.body.id}/preview`);
    const json = await run([created.body.id, '--json']);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).to.deep.include({ id: created.body.id, versions: 1 });
    expect((await run(['cnvs_missing'])).code).to.equal(1);
  });
});
