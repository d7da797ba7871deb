import { spawn } from 'node:child_process';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { expect } from 'chai';
import { localPartners } from '@bp/shared/partners/local-partners';
import { localPartnerSecret } from '@bp/shared/partners/local-secrets';
import { partnerFileUrl, runFileSha256, signStandardWebhook, startPartnerFileServer } from '../src/index.ts';
import { parseByteSize } from '../src/partner-events.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const cli = path.resolve(here, '../src/cli.ts');

describe('the partner simulator', function () {
  this.timeout(60_000);
  let files: Awaited<ReturnType<typeof startPartnerFileServer>>;
  before(async () => {
    files = await startPartnerFileServer();
  });
  after(async () => files?.close());

  it('signs like the Standard Webhooks reference (its published test vector)', () => {
    const sig = signStandardWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).to.equal('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with the secrets the local stack seeds in the registry, and refuses to guess one for another partner', () => {
    for (const p of localPartners('bp-local-packages')) expect(localPartnerSecret(p.id), p.id).to.equal(p.secret);
    expect(() => localPartnerSecret('acme')).to.throw(/--secret/);
  });

  it('serves a run file deterministically, whole or by Range, with a stable ETag', async () => {
    const size = 3 * 1024 * 1024 + 123;
    const url = partnerFileUrl(files.url, 'RUN A/1', 'reads/x.fastq.gz', size);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(whole.length).to.equal(size);
    expect(createHash('sha256').update(whole).digest('hex')).to.equal(runFileSha256('RUN A/1', 'reads/x.fastq.gz', size));
    const res = await fetch(url, { headers: { range: 'bytes=1000001-2000000' } });
    expect(res.status).to.equal(206);
    expect(res.headers.get('content-range')).to.equal(`bytes 1000001-2000000/${size}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(1000001, 2000001))).to.equal(true);
    const again = await fetch(url, { method: 'HEAD' });
    expect(again.headers.get('etag')).to.equal(res.headers.get('etag'));
    expect(
      (await fetch(`${url}&redirect=${encodeURIComponent('http://elsewhere.invalid/')}`, { redirect: 'manual' })).headers.get('location'),
    ).to.equal('http://elsewhere.invalid/');
  });

  it('answers a suffix range, a backward range, an unsatisfiable range and a failed If-Match as S3 does', async () => {
    const size = 1000;
    const url = partnerFileUrl(files.url, 'RUN B', 'qc/summary.json', size);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag')!;
    const tail = await fetch(url, { headers: { range: 'bytes=-10', 'if-match': etag } });
    expect([tail.status, tail.headers.get('content-range')]).to.deep.equal([206, `bytes 990-999/${size}`]);
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(990))).to.equal(true);
    const backward = await fetch(url, { headers: { range: 'bytes=10-5' } });
    expect([backward.status, (await backward.arrayBuffer()).byteLength]).to.deep.equal([200, size]);
    const past = await fetch(url, { headers: { range: `bytes=${size}-` } });
    expect([past.status, past.headers.get('content-range')]).to.deep.equal([416, `bytes */${size}`]);
    const changed = await fetch(url, { headers: { range: 'bytes=0-9', 'if-match': '"another-object"' } });
    expect(changed.status).to.equal(412);
  });

  it('parses sizes like 200MB and 2GB', () => {
    expect([parseByteSize('200MB'), parseByteSize('2GB'), parseByteSize('512KiB'), parseByteSize('10')]).to.deep.equal([
      200 * 1024 ** 2,
      2 * 1024 ** 3,
      512 * 1024,
      10,
    ]);
  });

  it('`partner send` posts a signed sequencing.complete whose files the simulator serves', async () => {
    const received: Array<{ headers: Record<string, string>; body: string; path: string }> = [];
    const app = express();
    app.post('/webhooks/sequencing/:partner', express.text({ type: '*/*' }), (req, res) => {
      received.push({ headers: req.headers as Record<string, string>, body: req.body as string, path: req.path });
      res.status(202).json({ eventId: 'pev_1' });
    });
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const to = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/sequencing/ont`;
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'partner',
          'send',
          '--partner',
          'ont',
          '--type',
          'sequencing.complete',
          '--run',
          'RUN-CLI',
          '--files',
          '2',
          '--size',
          '1MB',
          '--to',
          to,
          '--sim',
          files.url,
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.on('exit', r));
      expect(code, out).to.equal(0);
      expect(out).to.match(/HTTP 202/);
      const [got] = received;
      // Verified here independently of the simulator's signer.
      const key = Buffer.from(localPartnerSecret('ont').slice(6), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${got!.headers['webhook-id']}.${got!.headers['webhook-timestamp']}.${got!.body}`)
        .digest();
      expect(timingSafeEqual(Buffer.from(got!.headers['webhook-signature']!.replace(/^v1,/, ''), 'base64'), expected)).to.equal(true);
      expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).to.be.lessThan(60);
      const event = JSON.parse(got!.body) as {
        type: string;
        run: { id: string };
        files: Array<{ url: string; size: number; sha256: string }>;
      };
      expect([event.type, event.run.id, event.files.length]).to.deep.equal(['sequencing.complete', 'RUN-CLI', 2]);
      expect(event.files.reduce((n, f) => n + f.size, 0)).to.equal(1024 * 1024);
      for (const f of event.files) {
        const bytes = Buffer.from(await (await fetch(f.url)).arrayBuffer());
        expect(createHash('sha256').update(bytes).digest('hex')).to.equal(f.sha256);
      }
    } finally {
      server.close();
    }
  });
});
