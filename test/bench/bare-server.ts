import express from 'express';
import { awsOptionsFromEnv, createAwsClients, type JobMessage, resourceNamesFromEnv } from '@bp/shared';
import { acceptWebhook, PendingMarks } from '@bp/ingress/accept';

/**
 * The benchmark's baseline: a bare Express route making the same AWS calls as the ingress
 * (the dedupe transaction, SendMessage, then the ENQUEUED mark after the answer) with no signature check, no payload
 * validation and no logging. Run as its own process, like the ingress, by test/bench/ingress.ts.
 */
const env = process.env;
const names = resourceNamesFromEnv(env);
const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 700, maxAttempts: 2 }));
const deps = { doc: aws.doc, sqs: aws.sqs, names, marks: new PendingMarks() };

const app = express();
app.get('/health/live', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/event', express.raw({ type: () => true, limit: 1024 * 1024 }), async (req, res) => {
  const webhookId = String(req.headers['webhook-id']);
  const job: Omit<JobMessage, 'executionId'> = {
    v: 1,
    kind: 'entry.package',
    tenantId: 'ten_bench',
    baseURL: 'https://bench.benchling.com',
    entryId: 'etr_bench',
    trigger: { webhookId, type: 'v2.entry.updated.fields', receivedAt: new Date().toISOString() },
  };
  try {
    const r = await acceptWebhook(deps, { webhookId, job }, { ttlDays: 7, signal: AbortSignal.timeout(2000) });
    res.status(r.outcome === 'accepted' ? 202 : r.outcome === 'duplicate' ? 200 : 409).json({ executionId: r.executionId });
  } catch {
    res.status(503).json({ error: 'unavailable' });
  }
});
const server = app.listen(Number(env.PORT ?? 0));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
