import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { CANVAS_CREATED_TYPES, ENTRY_EVENT_TYPES, LIFECYCLE_TYPES, classifyWebhook } from '@bp/shared/webhook/payload';
import { buildWebhookPayload } from '../../packages/benchling-sim/src/webhook-payloads.ts';
import { workerConfigFromEnv } from '../../services/worker/src/config.ts';
import { REPO_ROOT } from './support/synth.ts';

/** The parts of app-manifest.yaml these tests read. */
interface AppManifest {
  manifestVersion: number;
  info: { name: string };
  features: unknown[];
  subscriptions: { deliveryMethod: string; messages: { type: string }[] };
}

// A real YAML parser (the simulator's dev dependency), not a regular expression.
const YAML = createRequire(path.join(REPO_ROOT, 'packages/benchling-sim/package.json'))('yaml') as { parse(s: string): AppManifest };

/** Types the ingress handles but the manifest deliberately leaves out. */
const NOT_SUBSCRIBED: Record<string, string> = {
  'v2-beta.canvas.created': 'beta twin of v2.canvas.created: subscribing to both would deliver every canvas twice',
  'v2-beta.app.configuration.updated': 'the app declares no app configuration',
};

describe('the Benchling app manifest (app-manifest.yaml)', () => {
  const manifest = YAML.parse(readFileSync(path.join(REPO_ROOT, 'app-manifest.yaml'), 'utf8'));
  const subscribed: string[] = manifest.subscriptions.messages.map((m) => m.type);

  it('declares the canvas feature the worker creates canvases for', () => {
    expect(manifest.manifestVersion).to.equal(1);
    expect(manifest.info.name).to.be.a('string').and.not.equal('');
    const minimal = {
      JOBS_QUEUE_URL: 'q',
      DLQ_URL: 'd',
      PACKAGE_BUCKET: 'b',
      BENCHLING_CLIENT_ID: 'i',
      BENCHLING_CLIENT_SECRET: 's',
      BENCHLING_TENANTS: 't=https://t.benchling.com',
    };
    expect(manifest.features).to.deep.equal([{ name: 'Quilt Package', id: workerConfigFromEnv(minimal).canvasFeatureId, type: 'CANVAS' }]);
  });

  it('subscribes by webhook to every event type the ingress acts on, and to nothing it would ignore', () => {
    expect(manifest.subscriptions.deliveryMethod).to.equal('WEBHOOK');
    expect(new Set(subscribed).size).to.equal(subscribed.length);
    const handled = [
      ...ENTRY_EVENT_TYPES,
      ...LIFECYCLE_TYPES,
      ...CANVAS_CREATED_TYPES,
      'v2.canvas.initialized',
      'v2.canvas.userInteracted',
    ];
    expect([...subscribed].sort()).to.deep.equal(handled.filter((t) => !(t in NOT_SUBSCRIBED)).sort());
    for (const type of subscribed) {
      const payload = buildWebhookPayload(type, {
        buttonId: 'update-package',
        featureId: 'quilt_entry',
        canvasId: 'cnvs_1',
        entryId: 'etr_1',
      });
      expect(classifyWebhook(payload, { updateButtonIds: ['update-package'] }).action, type).to.equal('enqueue');
    }
  });
});
