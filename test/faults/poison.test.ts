import { expect } from 'chai';
import { type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { newExecutionId, newQueuedExecution } from '@bp/shared';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { eventually, executionIdOf, isEmpty, queueDepth, receiveAll } from '../support/faults/queues.ts';
import { printTable } from '../support/faults/report.ts';

const MAX_RECEIVES = 3;

describe('poison and unreadable messages end in the dead-letter queue, never deleted silently', function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  /** Every DLQ message seen so far (they are only peeked, so each poll may show some again). */
  const dlq = new Map<string, Message>();
  const pollDlq = async () => {
    for (const m of await receiveAll(sys.aws.sqs, sys.env.DLQ_URL!, 2)) dlq.set(m.MessageId!, m);
    return [...dlq.values()];
  };

  before(async function () {
    this.timeout(60_000);
    sys = await startSystem({
      label: 'poison',
      workers: 1,
      maxReceiveCount: MAX_RECEIVES,
      visibilityTimeoutSeconds: 10,
      sim: { exportDelayMs: 100, rateLimit: { limit: 1_000_000, windowSeconds: 30 } },
    });
  });
  after(async () => sys?.stop());

  it(`moves an always-failing job to the DLQ after exactly ${MAX_RECEIVES} receives, FAILED with its attempts and last error`, async () => {
    // Every download of an export answers 500: a transient error that never goes away.
    sys.sim.faults.add({ path: '^/_sim/downloads/', status: 500 });
    const r = await sys.send({ type: 'v2.entry.created', entryId: 'etr_poison1' });
    expect(r.status).to.equal(202);
    const executionId = String(r.json.executionId);

    const inDlq = await eventually(
      'the poison job reaching the DLQ',
      async () => (await pollDlq()).find((m) => executionIdOf(m.Body) === executionId),
      { timeoutMs: 60_000, everyMs: 500 },
    );
    const exec = (await sys.executions.get(executionId))!;
    const downloads = sys.sim.state.requestsTo('GET /_sim/downloads/{file}');
    printTable(
      'poison job',
      ['what', 'value'],
      [
        ['execution status', exec.status],
        ['attempts (receives that ran the job)', exec.attempts],
        ['export downloads tried (one per receive)', downloads],
        ['DLQ ApproximateReceiveCount (as read from the DLQ)', inDlq.Attributes?.ApproximateReceiveCount ?? '-'],
        ['last error', `${exec.lastError?.step}: ${exec.lastError?.class}`],
      ],
    );
    expect(exec.status).to.equal('FAILED');
    expect(exec.attempts).to.equal(MAX_RECEIVES);
    expect(downloads, 'one download per receive').to.equal(MAX_RECEIVES);
    expect(exec.lastError).to.include({ step: 'transfer', class: 'DownloadUnavailable' });
    expect(exec.lastError!.message).to.match(new RegExp(`gave up after ${MAX_RECEIVES} attempts.*HTTP 500`));
    expect(exec.events.filter((e) => e.type === 'StepFailed')).to.have.length(MAX_RECEIVES - 1);
    // Moved by the redrive policy: the very message, received MAX_RECEIVES times from the jobs queue.
    expect(JSON.parse(inDlq.Body!)).to.include({ executionId, kind: 'entry.package', entryId: 'etr_poison1' });
    expect(Number(inDlq.Attributes?.ApproximateReceiveCount)).to.be.at.least(MAX_RECEIVES);
    expect(isEmpty(await queueDepth(sys.aws.sqs, sys.env.JOBS_QUEUE_URL!)), 'jobs queue empty').to.equal(true);
    sys.sim.faults.clear();
  });

  it('dead-letters unparseable, unknown-version/kind, invalid and orphaned messages with a reason; fails any execution named', async () => {
    // A QUEUED execution that a message of an unknown kind names: it must end FAILED, not hang.
    const named = newExecutionId();
    await sys.executions.create(
      newQueuedExecution({
        executionId: named,
        tenantId: 'ten_sim',
        kind: 'entry.package',
        entryId: 'etr_named',
        trigger: { webhookId: 'wh_named', type: 'v2.entry.created', receivedAt: new Date().toISOString() },
        now: new Date(),
      }),
    );
    const valid = {
      v: 1,
      kind: 'entry.package',
      tenantId: 'ten_sim',
      baseURL: sys.sim.url,
      entryId: 'etr_bad',
      trigger: { webhookId: 'wh_x', type: 'v2.entry.created', receivedAt: new Date().toISOString() },
    };
    const cases: Array<{ name: string; body: string; reason: RegExp }> = [
      { name: 'not JSON', body: '{"v":1,"kind":"entry.package",', reason: /not JSON/ },
      { name: 'JSON but not an object', body: '"just a string"', reason: /invalid/ },
      {
        name: 'unknown version',
        body: JSON.stringify({ ...valid, v: 2, executionId: newExecutionId() }),
        reason: /version 2 is not supported/,
      },
      {
        name: 'unknown kind naming an execution',
        body: JSON.stringify({ ...valid, kind: 'entry.explode', executionId: named }),
        reason: /kind/,
      },
      { name: 'missing fields', body: JSON.stringify({ v: 1, kind: 'entry.package', executionId: newExecutionId() }), reason: /invalid/ },
      {
        name: 'execution that does not exist',
        body: JSON.stringify({ ...valid, executionId: 'ex_never_created' }),
        reason: /does not exist/,
      },
    ];
    const sentIds = new Map<string, (typeof cases)[number]>();
    for (const c of cases) {
      const res = await sys.aws.sqs.send(new SendMessageCommand({ QueueUrl: sys.env.JOBS_QUEUE_URL, MessageBody: c.body }));
      sentIds.set(res.MessageId!, c);
    }

    const arrived = await eventually(
      'every bad message reaching the DLQ',
      async () => {
        const got = (await pollDlq()).filter((m) => sentIds.has(m.MessageAttributes?.sourceMessageId?.StringValue ?? ''));
        return got.length >= cases.length ? got : undefined;
      },
      { timeoutMs: 30_000, everyMs: 300 },
    );
    const rows: Array<[string, string]> = [];
    for (const m of arrived) {
      const c = sentIds.get(m.MessageAttributes!.sourceMessageId!.StringValue!)!;
      const reason = m.MessageAttributes?.error?.StringValue ?? '';
      rows.push([c.name, reason.slice(0, 90)]);
      expect(m.Body, c.name).to.equal(c.body);
      expect(reason, c.name).to.match(c.reason);
    }
    printTable('dead-lettered messages', ['message', 'reason attribute'], rows);
    expect(arrived).to.have.length(cases.length);
    expect(isEmpty(await queueDepth(sys.aws.sqs, sys.env.JOBS_QUEUE_URL!)), 'nothing left on the jobs queue').to.equal(true);
    const namedExec = (await sys.executions.get(named))!;
    expect(namedExec.status).to.equal('FAILED');
    expect(namedExec.lastError).to.include({ class: 'BadMessage', retryable: false });
  });
});
