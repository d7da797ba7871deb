import { expect } from 'chai';
import { classifyWebhook, classifyWebhookBody, WebhookPayloadError } from '../../src/webhook/payload.ts';

const cfg = { updateButtonIds: ['update-package'] };
const envelope = (message: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  version: '0',
  baseURL: 'https://acme.benchling.com/',
  tenantId: 'ten_acme',
  app: { id: 'app_1' },
  appDefinition: { id: 'appdef_1', versionNumber: '1.0.0' },
  channel: 'events',
  message,
  ...over,
});
const entry = (type: string, extra: Record<string, unknown> = {}) =>
  envelope({
    type,
    id: 'evt_1',
    createdAt: '2025-01-01T00:00:00Z',
    resourceId: 'etr_1',
    schema: { id: 'ts_1' },
    excludedProperties: [],
    deprecated: false,
    ...extra,
  });

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookPayloadError) return err.field;
    throw err;
  }
  return '(accepted)';
}

describe('webhook payloads (contract §2): what each type asks for', () => {
  it('turns entry created / updated.fields / updated.reviewRecord into entry.package for message.resourceId', () => {
    for (const type of ['v2.entry.created', 'v2.entry.updated.fields', 'v2.entry.updated.reviewRecord']) {
      const d = classifyWebhook(entry(type, { updates: ['fields.A'] }), cfg);
      expect(d).to.deep.include({ action: 'enqueue', kind: 'entry.package', type, entryId: 'etr_1', tenantId: 'ten_acme', appId: 'app_1' });
      expect(d.action === 'enqueue' && d.trigger).to.deep.equal({ eventId: 'evt_1', updates: ['fields.A'] });
    }
  });

  it('drops the trailing slash of baseURL so the API base is baseURL + `/api/v2`', () => {
    expect(classifyWebhook(entry('v2.entry.created'), cfg)).to.deep.include({ baseURL: 'https://acme.benchling.com' });
  });

  it('turns v2.canvas.initialized into canvas.init with the entry and feature', () => {
    const d = classifyWebhook(
      envelope({ type: 'v2.canvas.initialized', featureId: 'quilt_entry', resourceId: 'etr_2', userId: 'ent_u' }),
      cfg,
    );
    expect(d).to.deep.include({ action: 'enqueue', kind: 'canvas.init', entryId: 'etr_2' });
    expect(d.action === 'enqueue' && d.trigger).to.deep.equal({ featureId: 'quilt_entry', userId: 'ent_u' });
  });

  it('turns both canvas.created variants into entry.package with the canvas id, and the entry when given', () => {
    const withEntry = classifyWebhook(
      envelope({ type: 'v2.canvas.created', canvasId: 'cnvs_1', featureId: 'f', userId: 'u', resourceId: 'etr_3' }),
      cfg,
    );
    const beta = classifyWebhook(envelope({ type: 'v2-beta.canvas.created', canvasId: 'cnvs_2', featureId: 'f', userId: 'u' }), cfg);
    expect(withEntry).to.deep.include({ kind: 'entry.package', canvasId: 'cnvs_1', entryId: 'etr_3' });
    expect(beta).to.deep.include({ kind: 'entry.package', canvasId: 'cnvs_2' });
    expect(beta).not.to.have.property('entryId');
  });

  it('packages on a configured button, re-renders the canvas on a navigation button (nav:…), and ignores other buttons', () => {
    const click = (buttonId: string) =>
      classifyWebhook(envelope({ type: 'v2.canvas.userInteracted', buttonId, canvasId: 'cnvs_1', featureId: 'f', userId: 'u' }), cfg);
    expect(click('update-package')).to.deep.include({ action: 'enqueue', kind: 'entry.package', canvasId: 'cnvs_1' });
    expect(click('nav:files:2')).to.deep.include({
      action: 'enqueue',
      kind: 'canvas.view',
      canvasId: 'cnvs_1',
      trigger: { buttonId: 'nav:files:2', featureId: 'f', userId: 'u' },
    });
    expect(click('something-else')).to.deep.include({ action: 'ignore', reason: 'button_not_configured' });
  });

  it('turns every lifecycle type into app.lifecycle', () => {
    for (const type of ['v2.app.installed', 'v2.app.activateRequested', 'v2.app.deactivated', 'v2-beta.app.configuration.updated']) {
      expect(classifyWebhook(envelope({ type }, { channel: 'app_signals' }), cfg)).to.deep.include({
        action: 'enqueue',
        kind: 'app.lifecycle',
        type,
      });
    }
  });

  it('ignores types it does not handle', () => {
    expect(classifyWebhook(envelope({ type: 'v2.assayRun.created', id: 'evt_9' }), cfg)).to.deep.equal({
      action: 'ignore',
      type: 'v2.assayRun.created',
      tenantId: 'ten_acme',
      reason: 'unsupported_type',
    });
  });

  it('tolerates unknown fields everywhere and a null or missing appDefinition', () => {
    const p = { ...entry('v2.entry.created', { surprise: [1, 2] }), appDefinition: { id: null }, newTopLevel: true };
    expect(classifyWebhook(p, cfg).action).to.equal('enqueue');
    const { appDefinition: _drop, ...noAppDef } = entry('v2.entry.created');
    expect(classifyWebhook(noAppDef, cfg).action).to.equal('enqueue');
  });

  it('names the field that is missing or wrong', () => {
    const without = (key: string) => {
      const p: Record<string, unknown> = entry('v2.entry.created');
      delete p[key];
      return p;
    };
    expect(fieldOf(() => classifyWebhook(without('tenantId'), cfg))).to.equal('tenantId');
    expect(fieldOf(() => classifyWebhook(without('baseURL'), cfg))).to.equal('baseURL');
    expect(fieldOf(() => classifyWebhook(without('message'), cfg))).to.equal('message');
    expect(fieldOf(() => classifyWebhook(entry('v2.entry.created', { resourceId: undefined }), cfg))).to.equal('message.resourceId');
    expect(fieldOf(() => classifyWebhook(envelope({ type: 'v2.canvas.initialized', resourceId: 'etr_1' }), cfg))).to.equal(
      'message.featureId',
    );
    expect(fieldOf(() => classifyWebhook(envelope({ type: 'v2.canvas.userInteracted', canvasId: 'c' }), cfg))).to.equal('message.buttonId');
    expect(fieldOf(() => classifyWebhook({ ...entry('v2.entry.created'), baseURL: 'javascript:alert(1)' }, cfg))).to.equal('baseURL');
    expect(fieldOf(() => classifyWebhook({ ...entry('v2.entry.created'), app: { id: 42 } }, cfg))).to.equal('app.id');
    expect(fieldOf(() => classifyWebhook([1, 2], cfg))).to.equal('(body)');
  });

  it('says "is required" for a missing field and never echoes field values', () => {
    const err = (() => {
      try {
        classifyWebhook({ ...entry('v2.entry.created'), tenantId: 987654321 }, cfg);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err!.message).to.match(/^tenantId is invalid/);
    expect(err!.message).not.to.include('987654321');
    expect(() => classifyWebhook(entry('v2.entry.created', { resourceId: undefined }), cfg)).to.throw('message.resourceId is required');
  });

  it('rejects bodies that are empty or not JSON', () => {
    expect(fieldOf(() => classifyWebhookBody(Buffer.alloc(0), cfg))).to.equal('(body)');
    expect(() => classifyWebhookBody(Buffer.from('{"version":'), cfg)).to.throw('not valid JSON');
    expect(classifyWebhookBody(Buffer.from(JSON.stringify(entry('v2.entry.created'))), cfg).action).to.equal('enqueue');
  });
});
