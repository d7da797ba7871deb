import { expect } from 'chai';
import { buildWorkerDeps, runJob, workerConfigFromEnv } from '../src/index.ts';
import { useWorker } from './support/worker-suite.ts';

/**
 * The execution lease must never outlive the message's invisibility: if it did, the message would
 * come back to another worker while the lease still turned it away (LeaseHeld), receive after
 * receive, until the redrive policy dead-lettered a job that was running fine. So each heartbeat
 * extends the message's visibility first and the leases only once that worked.
 */
describe('the execution lease and the message visibility', function () {
  this.timeout(60_000);
  // The export takes ~2.5 s, polled inside the attempt: a few heartbeats land while it runs.
  const suite = useWorker('leasevis', { sim: { exportDelayMs: 2500, tenantId: 'ten_leasevis' }, visibilityTimeoutSeconds: 10 });

  async function leaseExpiriesDuring(extendVisibility: () => Promise<unknown>, entryId: string): Promise<number[]> {
    const deps = await buildWorkerDeps(
      workerConfigFromEnv({ ...suite.env, HEARTBEAT_SECONDS: '1', EXPORT_INLINE_WAIT_MS: '5000' }),
      suite.aws,
      suite.deps.logger,
    );
    const job = await suite.queuedJob({
      tenantId: 'ten_leasevis',
      entryId,
      trigger: { webhookId: `wh_${entryId}`, type: 'v2.entry.created' },
    });
    const seen: number[] = [];
    let running = true;
    const watch = (async () => {
      while (running) {
        const r = await suite.deps.executions.get(job.executionId);
        if (r?.status === 'RUNNING' && r.leaseExpiresAt !== undefined) seen.push(r.leaseExpiresAt);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    try {
      const outcome = await runJob(deps, JSON.stringify(job), 1, new AbortController().signal, { extendVisibility });
      expect(outcome.action).to.be.oneOf(['done', 'retry']);
    } finally {
      running = false;
      await watch;
    }
    return [...new Set(seen)];
  }

  it('extends the lease with each heartbeat while the message’s visibility is extended', async () => {
    const expiries = await leaseExpiriesDuring(async () => undefined, 'etr_leasevis_ok1');
    expect(expiries.length, 'the lease was extended by heartbeats').to.be.greaterThan(1);
  });

  it('does not extend the lease when extending the visibility fails, so both lapse together', async () => {
    const expiries = await leaseExpiriesDuring(async () => {
      throw Object.assign(new Error('Value … for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.'), {
        name: 'ReceiptHandleIsInvalid',
      });
    }, 'etr_leasevis_lost1');
    expect(expiries.length, 'the lease was read while the attempt ran').to.be.greaterThan(0);
    expect(expiries, 'the lease kept the expiry beginAttempt gave it').to.have.length(1);
  });
});
