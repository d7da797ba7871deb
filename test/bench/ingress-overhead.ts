import { jobFor } from '@bp/ingress/webhook-route';
import { JobMessageSchema } from '@bp/shared';
import { keyFromJwk } from '@bp/shared/webhook/jwks';
import { classifyWebhookBody } from '@bp/shared/webhook/payload';
import { verifyWebhook } from '@bp/shared/webhook/verify';
import type { SigningKey } from '@bp/benchling-sim/signing';
import type { Delivery } from './load.ts';

/**
 * In-process microseconds per delivery for the work only the ingress does: signature
 * verification over the raw bytes, payload validation and classification, and the job-message
 * check. No I/O, so it isolates the ingress's own cost from the emulators'.
 */
export function measureVerifyAndValidate(key: SigningKey, deliveries: Delivery[]): { microsPerRequest: number; count: number } {
  const keys = [keyFromJwk(key.publicJwk)!];
  const cfg = { updateButtonIds: ['update-package'] };
  const bodies = deliveries.map((d) => ({ headers: d.headers, rawBody: Buffer.from(d.body) }));
  const run = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const b = bodies[i]!;
      const v = verifyWebhook({ headers: b.headers, rawBody: b.rawBody, keys, now: Date.now() });
      const d = classifyWebhookBody(b.rawBody, cfg);
      if (d.action !== 'enqueue') throw new Error('bench delivery was not enqueued');
      JobMessageSchema.parse({ ...jobFor(d, v.webhookId, new Date()), executionId: 'ex_x' });
    }
  };
  const warm = Math.min(200, bodies.length);
  run(0, warm);
  const started = performance.now();
  run(warm, bodies.length);
  const count = bodies.length - warm;
  return { microsPerRequest: ((performance.now() - started) * 1000) / count, count };
}
