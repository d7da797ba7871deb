import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { FastPrng } from '@bp/benchling-sim/prng';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { type Delivery, deliverLikeBenchling } from '../support/faults/deliveries.ts';
import {
  type AcknowledgedWebhook,
  allExecutions,
  checkRevisions,
  classifyOutcomes,
  countOutcomes,
  overlappingWindows,
  workWindows,
} from '../support/faults/invariants.ts';
import { eventually, executionIdOf, isEmpty, queueDepth, receiveAll } from '../support/faults/queues.ts';
import { printTable, seconds } from '../support/faults/report.ts';
import { WorkerPool } from '../support/faults/service-processes.ts';

/** Change with BP_CHAOS_SEED to explore other schedules; the default keeps runs comparable. */
const SEED = Number(process.env.BP_CHAOS_SEED ?? 20_261_123);
const WORKERS = 3;
const ENTRIES = 100;
const WEBHOOKS_PER_ENTRY = 3;
/** Gap between webhook sends: 300 webhooks over about 40 s. */
const SEND_SPACING_MS = 130;
/** A SIGKILL every 2.5–5 s while webhooks arrive, and for a while after. */
const KILL_GAP_MS: [number, number] = [2500, 5000];
const KEEP_KILLING_AFTER_SENDS_MS = 10_000;
const QUIESCE_TIMEOUT_MS = 100_000;

/** 90 ordinary entries, 5 whose export fails, 5 that do not exist: FAILED must carry a reason. */
function entryIds(): string[] {
  return Array.from({ length: ENTRIES }, (_, i) => (i < 5 ? `etr_fail_chaos${i}` : i < 10 ? `etr_missing_chaos${i}` : `etr_chaos${i}`));
}

function shuffled<T>(items: T[], prng: FastPrng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe('chaos: worker processes SIGKILLed at random while 300 webhooks for 100 entries arrive', function () {
  this.timeout(300_000);
  let sys: RunningSystem;
  let pool: WorkerPool;

  before(async function () {
    this.timeout(60_000);
    sys = await startSystem({
      label: 'chaos',
      workers: 0,
      visibilityTimeoutSeconds: 10,
      maxReceiveCount: 5,
      sim: { exportDelayMs: 300, rateLimit: { limit: 1_000_000, windowSeconds: 30 } },
    });
    pool = new WorkerPool({
      label: 'chaos',
      env: { ...sys.env, LOG_LEVEL: 'info', HEARTBEAT_SECONDS: '3', WORKER_CONCURRENCY: '3', SHUTDOWN_GRACE_SECONDS: '3' },
    });
    const started = Array.from({ length: WORKERS }, (_, i) => pool.start(i + 1));
    await Promise.all(started.map((w) => w.waitForLog('worker started', 45_000)));
  });
  after(async function () {
    this.timeout(60_000);
    await pool?.stopAll(10_000);
    await sys?.stop();
  });

  it('ends each acked webhook SUCCEEDED, FAILED with a reason, SUPERSEDED or in the DLQ; one run per entry; full revisions', async () => {
    const prng = new FastPrng(SEED);
    const plan = shuffled(
      entryIds().flatMap((entryId) => [
        { entryId, type: 'v2.entry.created' },
        ...Array.from({ length: WEBHOOKS_PER_ENTRY - 1 }, () => ({ entryId, type: 'v2.entry.updated.fields', updates: ['fields.Status'] })),
      ]),
      prng,
    );
    const t0 = Date.now();

    // Webhooks at a steady pace, each resent like Benchling would until acknowledged.
    let sendsDoneAt: number | undefined;
    const sending = Promise.all(
      plan.map(async (w, i): Promise<Delivery> => {
        await sleep(i * SEND_SPACING_MS);
        return deliverLikeBenchling(sys.sim, sys.ingressUrl, w, { tries: 6 });
      }),
    ).finally(() => (sendsDoneAt = Date.now()));

    // Meanwhile: SIGKILL a random live worker every few seconds and restart its slot.
    let kills = 0;
    const killing = (async () => {
      await sleep(2000);
      while (sendsDoneAt === undefined || Date.now() < sendsDoneAt + KEEP_KILLING_AFTER_SENDS_MS) {
        await sleep(prng.int(...KILL_GAP_MS));
        const live = pool.liveSlots();
        if (live.length === 0) continue;
        const slot = live[prng.int(0, live.length - 1)]!;
        await pool.get(slot)!.kill('SIGKILL');
        kills++;
        await sleep(prng.int(300, 1500));
        pool.start(slot);
      }
    })();

    const deliveries = await sending;
    await killing;
    const killsEndedAt = Date.now();

    // Settle: the jobs queue empty, and every execution finished or dead-lettered.
    const names = { jobs: sys.env.JOBS_QUEUE_URL!, dlq: sys.env.DLQ_URL! };
    // DLQ messages are only peeked (hidden a few seconds each time), so keep every id ever seen.
    const dlqIds = new Set<string>();
    await eventually(
      'the system settling',
      async () => {
        if (!isEmpty(await queueDepth(sys.aws.sqs, names.jobs))) return undefined;
        for (const m of await receiveAll(sys.aws.sqs, names.dlq, 5)) dlqIds.add(executionIdOf(m.Body) ?? `unreadable:${m.MessageId}`);
        const open = (await allExecutions(sys.executions)).filter(
          (e) => (e.status === 'RUNNING' || e.status === 'QUEUED') && !dlqIds.has(e.executionId),
        );
        return open.length === 0 ? true : undefined;
      },
      {
        timeoutMs: QUIESCE_TIMEOUT_MS,
        everyMs: 1000,
        describe: async () => {
          const open = (await allExecutions(sys.executions)).filter((e) => e.status === 'RUNNING' || e.status === 'QUEUED');
          return (
            `queue ${JSON.stringify(await queueDepth(sys.aws.sqs, names.jobs))}; open: ` +
            `${open.map((e) => `${e.executionId} ${e.status} ${e.step}`).join(', ')}`
          );
        },
      },
    );
    const settledAt = Date.now();

    const executions = await allExecutions(sys.executions);
    const acked: AcknowledgedWebhook[] = deliveries
      .filter((d) => d.executionId)
      .map((d) => ({ webhookId: d.webhookId, entryId: d.entryId, executionId: d.executionId! }));
    const rows = classifyOutcomes(acked, executions, dlqIds);
    const counts = countOutcomes(rows);

    const endedAt = (workerId: string) => {
      const p = pool.history.find((h) => h.id === workerId);
      return p?.signal === 'SIGKILL' ? p.signalledAt : p?.exitedAt;
    };
    const windows = workWindows(executions, endedAt, Date.now());
    const overlaps = overlappingWindows(windows);
    const revisions = await checkRevisions(sys.aws.s3, sys.env.PACKAGE_BUCKET!);
    const takeovers = executions
      .flatMap((e) => e.events)
      .filter((ev) => ev.type === 'AttemptStarted' && /took over/.test(ev.detail ?? '')).length;
    const cutByKill = windows.filter((w) => w.endedBy === 'killed').length;
    const exportsStarted = [...sys.sim.state.exportsStarted.values()].reduce((a, b) => a + b, 0);
    // A kill between POST /exports and its checkpoint makes the resumed attempt start the export again.
    const exportsCheckpointed = executions.filter((e) => e.outputs['start-export'] !== undefined).length;

    // Everything the verdict rests on, for a post-mortem of a failed run.
    await writeFile(
      path.join(pool.logDir, 'chaos-state.json'),
      JSON.stringify(
        {
          seed: SEED,
          deliveries,
          executions,
          dlq: [...dlqIds],
          rows,
          workers: pool.history.map((p) => ({
            id: p.id,
            startedAt: p.startedAt,
            signal: p.signal,
            signalledAt: p.signalledAt,
            exitedAt: p.exitedAt,
          })),
        },
        null,
        1,
      ),
    );

    printTable(
      `chaos run (seed ${SEED})`,
      ['what', 'count'],
      [
        ['webhooks sent', deliveries.length],
        ['acknowledged (202, or 200 duplicate to a resend)', acked.length],
        ['resent by the Benchling-like sender', deliveries.filter((d) => d.statuses.length > 1).length],
        ['worker processes SIGKILLed (and restarted)', kills],
        ['job attempts cut by a kill', cutByKill],
        ['lease takeovers after a kill', takeovers],
        ['SUCCEEDED', counts.SUCCEEDED],
        ['FAILED (with reason)', counts.FAILED],
        ['SUPERSEDED (packaged by a later run)', counts.SUPERSEDED],
        ['DLQ', counts.DLQ],
        ['lost', counts.LOST],
        ['executions incl. follow-ups', executions.length],
        ['exports started at Benchling / checkpointed', `${exportsStarted} / ${exportsCheckpointed}`],
        ['package revisions checked / files checked', `${revisions.revisions} / ${revisions.filesChecked}`],
        ['revision problems', revisions.problems.length],
        ['objects the S3 listing skipped (found by HEAD)', revisions.listingMisses],
        ['entries with two runs at once', new Set(overlaps.map(([a]) => a.entryKey)).size],
        [
          'seconds: sending / killing / settled',
          `${seconds(sendsDoneAt! - t0)} / ${seconds(killsEndedAt - t0)} / ${seconds(settledAt - t0)}`,
        ],
      ],
    );

    expect(
      deliveries.filter((d) => !d.executionId).map((d) => `${d.webhookId} ${d.statuses.join(',')}`),
      'webhooks never acknowledged',
    ).to.deep.equal([]);
    expect(kills, 'kills actually happened').to.be.at.least(8);
    expect(cutByKill, 'kills hit jobs in flight').to.be.at.least(1);
    expect(
      rows.filter((r) => r.outcome === 'LOST').map((r) => `${r.webhook.executionId} (${r.webhook.entryId}): ${r.detail}`),
      'lost webhooks',
    ).to.deep.equal([]);
    expect(counts.FAILED, 'the failing and missing entries failed with reasons').to.be.at.least(10);
    expect(counts.SUCCEEDED).to.be.greaterThan(0);
    expect(
      overlaps.map(
        ([a, b]) =>
          `${a.entryKey}: ${a.executionId}@${a.workerId} [${a.start}-${a.end} ${a.endedBy}] vs ` +
          `${b.executionId}@${b.workerId} [${b.start}-${b.end} ${b.endedBy}]`,
      ),
      'entries packaged by two executions at once',
    ).to.deep.equal([]);
    expect(revisions.problems, 'revisions lacking files').to.deep.equal([]);
    // Every ordinary entry ended with a published package.
    const published = new Set(executions.filter((e) => e.status === 'SUCCEEDED').map((e) => e.entryId));
    const unpublished = entryIds().filter(
      (id) => id.startsWith('etr_chaos') && !published.has(id) && !rows.some((r) => r.webhook.entryId === id && r.outcome === 'DLQ'),
    );
    expect(unpublished, 'ordinary entries without a package').to.deep.equal([]);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
