import { expect } from 'chai';
import { useSimulator } from './helpers.ts';

describe('simulated app canvases and app sessions', function () {
  this.timeout(30_000);
  const suite = useSimulator({ rateLimit: { limit: 10_000, windowSeconds: 30 } });

  const createCanvas = (overrides: Record<string, unknown> = {}) =>
    suite.call('POST', '/app-canvases', {
      appId: suite.sim.options.appId,
      featureId: 'quilt_entry',
      resourceId: 'etr_canvas1',
      blocks: [
        { type: 'MARKDOWN', value: 'Updating…' },
        { type: 'BUTTON', id: 'package_now', text: 'Package now', enabled: false },
      ],
      ...overrides,
    });

  describe('canvases', () => {
    it('creates a canvas (201, cnvs_ id) and keeps every version written, so a test can replay what users saw', async () => {
      const created = await createCanvas();
      expect(created.status).to.equal(201);
      expect(created.body.id).to.match(/^cnvs_\w+$/);
      expect(created.body).to.deep.include({
        app: { id: suite.sim.options.appId },
        featureId: 'quilt_entry',
        resourceId: 'etr_canvas1',
        enabled: true,
        sessionId: null,
      });

      const published = [
        { type: 'MARKDOWN', value: '[Open package](https://example.com/b/pkg)' },
        { type: 'BUTTON', id: 'package_now', text: 'Package now', enabled: true },
      ];
      const patched = await suite.call('PATCH', `/app-canvases/${created.body.id}`, { blocks: published });
      expect(patched.status).to.equal(200);
      expect(patched.body.blocks).to.deep.equal(published);
      expect(patched.body.featureId).to.equal('quilt_entry');

      const got = await suite.call('GET', `/app-canvases/${created.body.id}`);
      expect(got.body).to.deep.equal(patched.body);

      const history = suite.sim.state.canvases.get(created.body.id)!.history as { blocks: { value?: string; enabled?: boolean }[] }[];
      expect(history.map((v) => v.blocks[0]?.value)).to.deep.equal(['Updating…', '[Open package](https://example.com/b/pkg)']);
      expect(history.map((v) => v.blocks[1]?.enabled)).to.deep.equal([false, true]);
      expect(suite.sim.state.canvasesFor('etr_canvas1').map((c) => c.current.id)).to.include(created.body.id);
    });

    it('answers 404 for an unknown canvas', async () => {
      expect((await suite.call('GET', '/app-canvases/cnvs_nope')).status).to.equal(404);
      expect((await suite.call('PATCH', '/app-canvases/cnvs_nope', { enabled: false })).status).to.equal(404);
    });

    it('refuses malformed canvases with 400', async () => {
      expect((await createCanvas({ blocks: undefined })).status, 'no blocks').to.equal(400);
      expect((await createCanvas({ featureId: undefined })).status, 'no featureId').to.equal(400);
      expect((await createCanvas({ blocks: [{ type: 'BUTTON', text: 'no id' }] })).status, 'button without id').to.equal(400);
      expect((await createCanvas({ blocks: [{ type: 'MARKDOWN' }] })).status, 'markdown without value').to.equal(400);
      expect((await createCanvas({ blocks: [{ type: 'BLINK', id: 'x' }] })).status, 'unknown block type').to.equal(400);
      expect(
        (await createCanvas({ blocks: [{ type: 'SECTION', id: 's', children: [{ type: 'SECTION', id: 't', children: [] }] }] })).status,
        'nested section',
      ).to.equal(400);
      expect((await createCanvas({ colour: 'red' })).status, 'unknown property').to.equal(400);
      expect((await createCanvas({ sessionId: 'sesn_unknown' })).status, 'unknown session').to.equal(400);
      const created = await createCanvas();
      expect(
        (await suite.call('PATCH', `/app-canvases/${created.body.id}`, { appId: suite.sim.options.appId })).status,
        'appId in PATCH',
      ).to.equal(400);
    });

    it('refuses a canvas for another app with 403', async () => {
      expect((await createCanvas({ appId: 'app_other' })).status).to.equal(403);
    });
  });

  describe('app sessions', () => {
    const createSession = (overrides: Record<string, unknown> = {}) =>
      suite.call('POST', '/app-sessions', { appId: suite.sim.options.appId, name: 'Packaging', timeoutSeconds: 600, ...overrides });

    it('creates a RUNNING session, appends messages on PATCH and ends with the status set', async () => {
      const created = await createSession({ messages: [{ content: 'Export started', style: 'INFO' }] });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ status: 'RUNNING', name: 'Packaging', timeoutSeconds: 600 });
      expect(created.body.id).to.match(/^sesn_/);

      const p1 = await suite.call('PATCH', `/app-sessions/${created.body.id}`, { messages: [{ content: 'Uploading 3 files' }] });
      expect(p1.status).to.equal(200);
      const p2 = await suite.call('PATCH', `/app-sessions/${created.body.id}`, {
        messages: [{ content: 'Published ✓', style: 'SUCCESS' }],
        status: 'SUCCEEDED',
      });
      expect(p2.body.status).to.equal('SUCCEEDED');
      expect(p2.body.messages.map((m: { content: string }) => m.content)).to.deep.equal([
        'Export started',
        'Uploading 3 files',
        'Published ✓',
      ]);
      expect((await suite.call('GET', `/app-sessions/${created.body.id}`)).body).to.deep.equal(p2.body);
      expect(suite.sim.state.sessions.get(created.body.id)!.history).to.have.length(3);
    });

    it('refuses message content outside 3–200 characters and more than 10 messages per PATCH', async () => {
      const s = (await createSession()).body;
      const patch = (body: unknown) => suite.call('PATCH', `/app-sessions/${s.id}`, body);
      expect((await patch({ messages: [{ content: 'ab' }] })).status).to.equal(400);
      expect((await patch({ messages: [{ content: 'x'.repeat(201) }] })).status).to.equal(400);
      expect((await patch({ messages: [{ content: 'abc' }, { content: 'x'.repeat(200) }] })).status).to.equal(200);
      // Characters, not UTF-16 units: 200 emoji are 200 characters (400 units).
      expect((await patch({ messages: [{ content: '🧪'.repeat(200) }] })).status).to.equal(200);
      expect((await patch({ messages: [{ content: '🧪'.repeat(201) }] })).status).to.equal(400);
      const eleven = Array.from({ length: 11 }, (_, i) => ({ content: `message ${i}` }));
      expect((await patch({ messages: eleven })).status).to.equal(400);
      expect((await patch({ messages: eleven.slice(0, 10) })).status).to.equal(200);
      expect((await patch({ messages: [{ content: 'fine', style: 'LOUD' }] })).status).to.equal(400);
    });

    it('accepts only SUCCEEDED, FAILED and COMPLETED_WITH_WARNINGS as statuses, and no update after a final one', async () => {
      const s = (await createSession()).body;
      expect((await suite.call('PATCH', `/app-sessions/${s.id}`, { status: 'RUNNING' })).status).to.equal(400);
      expect((await suite.call('PATCH', `/app-sessions/${s.id}`, { status: 'COMPLETED_WITH_WARNINGS' })).status).to.equal(200);
      expect((await suite.call('PATCH', `/app-sessions/${s.id}`, { messages: [{ content: 'late' }] })).status).to.equal(400);
    });

    it('refuses bad sessions: short name, bad timeout, other app', async () => {
      expect((await createSession({ name: 'ab' })).status).to.equal(400);
      expect((await createSession({ timeoutSeconds: 0 })).status).to.equal(400);
      expect((await createSession({ appId: 'app_other' })).status).to.equal(403);
    });

    it('lets a canvas reference a session by id', async () => {
      const s = (await createSession()).body;
      const c = await createCanvas({ sessionId: s.id });
      expect(c.status).to.equal(201);
      expect(c.body.sessionId).to.equal(s.id);
    });
  });
});
