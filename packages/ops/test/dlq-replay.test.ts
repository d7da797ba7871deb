import { expect } from 'chai';
import { DeleteMessageCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { entryKey, type JobMessage } from '@bp/shared';
import { type OpsDeps, peekDlq, ReplayMarkers, replayDlq } from '../src/index.ts';
import { deadLetteredJob, drain, opsStack, runOps } from './support.ts';

async function depth(deps: OpsDeps, url: string): Promise<number> {
  const res = await deps.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages) + Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

const executionIdsOf = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as JobMessage).executionId).sort();

describe('ops: DLQ peek and replay against real queues and tables', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let deps: OpsDeps & { destroy(): void };

  beforeEach(async () => {
    ({ env, deps } = await opsStack('replay'));
  });
  afterEach(() => deps.destroy());

  it('peeks messages with their execution’s last error and leaves every one on the DLQ, visible', async () => {
    const a = await deadLetteredJob(deps, { entryId: 'etr_peek_a', message: 'gave up after 3 attempts: HTTP 503' });
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.names.dlqUrl,
        MessageBody: '{"v":7}',
        MessageAttributes: { error: { DataType: 'String', StringValue: 'job message version 7 is not supported' } },
      }),
    );
    const peeked = await peekDlq(deps, { limit: 10 });
    expect(peeked).to.have.length(2);
    const byExecution = peeked.find((p) => p.executionId === a)!;
    expect(byExecution).to.deep.include({ entryId: 'etr_peek_a', executionStatus: 'FAILED' });
    expect(byExecution.lastError).to.deep.include({
      step: 'fetch-entry',
      class: 'BenchlingUnavailable',
      message: 'gave up after 3 attempts: HTTP 503',
    });
    const unreadable = peeked.find((p) => p.executionId === undefined)!;
    expect(unreadable.dlqReason).to.equal('job message version 7 is not supported');
    expect(unreadable.unreadable).to.match(/version 7/);
    // Released, not consumed: a second peek sees both again at once.
    expect(await peekDlq(deps, { limit: 10 })).to.have.length(2);
  });

  it('moves nothing on a dry run, and then moves only what the filter selects, reopening its execution', async () => {
    const a = await deadLetteredJob(deps, { entryId: 'etr_f_a', errorClass: 'BenchlingUnavailable' });
    const b = await deadLetteredJob(deps, { entryId: 'etr_f_b', errorClass: 'ZipBomb', message: 'export ZIP expands 900x' });
    const dry = await replayDlq(deps, { filter: { all: true }, dryRun: true });
    expect(dry.totals).to.include({ matched: 2, wouldMove: 2, moved: 0 });
    expect(await depth(deps, deps.names.dlqUrl)).to.equal(2);
    expect(await depth(deps, deps.names.jobsQueueUrl)).to.equal(0);
    expect((await deps.executions.get(a))!.status).to.equal('FAILED');

    const real = await replayDlq(deps, { filter: { errorMatches: /zipbomb/i }, ratePerSecond: 50 });
    expect(real.totals).to.include({ scanned: 2, matched: 1, moved: 1 });
    expect(real.events).to.have.length(1);
    expect(real.events[0]).to.include({ outcome: 'moved', executionId: b });
    expect(executionIdsOf(await drain(deps.sqs, deps.names.jobsQueueUrl))).to.deep.equal([b]);
    const reopened = (await deps.executions.get(b))!;
    expect(reopened.status).to.equal('QUEUED');
    expect(reopened.events.at(-1)).to.deep.include({ type: 'Reopened' });
    expect((await deps.executions.get(a))!.status, 'the other one is untouched').to.equal('FAILED');
    expect(await depth(deps, deps.names.dlqUrl), 'the unmatched message is back on the DLQ').to.equal(1);
  });

  it('refuses to run without a filter or --all, so "replay everything" is never an accident', async () => {
    let caught: unknown;
    try {
      await replayDlq(deps, { filter: {} });
    } catch (err) {
      caught = err;
    }
    expect(String(caught)).to.match(/--all/);
  });

  it('skips unreadable messages and ones whose execution already succeeded, leaving them on the DLQ', async () => {
    const done = await deadLetteredJob(deps, { entryId: 'etr_done', status: 'SUCCEEDED' });
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.names.dlqUrl, MessageBody: 'not json' }));
    const r = await replayDlq(deps, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ matched: 2, skipped: 2, moved: 0 });
    expect(r.events.find((e) => e.executionId === done)!.reason).to.match(/already SUCCEEDED/);
    expect(r.events.find((e) => e.executionId === undefined)!.reason).to.match(/not a valid job message/);
    expect(await depth(deps, deps.names.dlqUrl)).to.equal(2);
  });

  it('sends the job of a finished execution that still holds its entry, as it is, so the worker hands the entry on', async () => {
    // Handing the entry on failed on every receive (DynamoDB down): the execution SUCCEEDED, its
    // message went to the DLQ, and the entry is still leased to it with a change coalesced meanwhile.
    const holding = await deadLetteredJob(deps, { entryId: 'etr_held', status: 'SUCCEEDED' });
    const key = entryKey('ten_ops', 'etr_held');
    expect((await deps.entries.acquireEntryLease(key, holding, 60_000)).acquired).to.equal(true);
    const coalesced = { webhookId: 'wh_meanwhile', type: 'v2.entry.updated.fields', receivedAt: new Date().toISOString() };
    expect((await deps.entries.requestRerun(key, coalesced, 'ex_meanwhile')).leaseHeld).to.equal(true);
    // A finished execution whose entry is free (or someone else's) has nothing left to do.
    const released = await deadLetteredJob(deps, { entryId: 'etr_free', status: 'SUCCEEDED' });

    const dry = await replayDlq(deps, { filter: { all: true }, dryRun: true });
    expect(dry.events.find((e) => e.executionId === holding)).to.deep.include({ outcome: 'would-move' });
    const r = await replayDlq(deps, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ matched: 2, moved: 1, skipped: 1 });
    const moved = r.events.find((e) => e.executionId === holding)!;
    expect(moved.outcome).to.equal('moved');
    expect(moved.reason).to.match(/still holds entry etr_held, with a change made meanwhile/);
    expect(r.events.find((e) => e.executionId === released)).to.deep.include({
      outcome: 'skipped',
      reason: 'its execution already SUCCEEDED',
    });
    expect(executionIdsOf(await drain(deps.sqs, deps.names.jobsQueueUrl))).to.deep.equal([holding]);
    // Sent as it is: reopening would make the worker package the entry again instead of handing it on.
    expect((await deps.executions.get(holding))!.status).to.equal('SUCCEEDED');
    expect(await depth(deps, deps.names.dlqUrl), 'the skipped one stays').to.equal(1);
  });

  it('finishes a move an interrupted run had sent (marker written) by deleting it, without sending it again', async () => {
    const a = await deadLetteredJob(deps, { entryId: 'etr_marker' });
    const [peeked] = await peekDlq(deps);
    // As if a run had sent the message and written the marker, then died before DeleteMessage.
    await new ReplayMarkers({ doc: deps.doc, tableName: deps.names.dedupeTable, clock: deps.clock }).put({
      dlqMessageId: peeked!.messageId,
      executionId: a,
      jobsMessageId: 'earlier-copy',
      replayedBy: 'an earlier run',
    });
    const r = await replayDlq(deps, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ alreadyMoved: 1, moved: 0 });
    expect(r.events[0]!.reason).to.match(/an earlier run/);
    expect(await depth(deps, deps.names.dlqUrl)).to.equal(0);
    expect(await drain(deps.sqs, deps.names.jobsQueueUrl), 'not sent a second time').to.deep.equal([]);
  });

  it('deletes the DLQ copy of a message it sent even when the replay marker cannot be written', async () => {
    const a = await deadLetteredJob(deps, { entryId: 'etr_nomarker' });
    // DynamoDB throttles the marker write (a real table otherwise).
    const throttledDoc = Object.create(deps.doc) as typeof deps.doc;
    throttledDoc.send = ((command: unknown, ...rest: unknown[]) => {
      if (command instanceof PutCommand && command.input.TableName === deps.names.dedupeTable) {
        return Promise.reject(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' }));
      }
      return (deps.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as typeof deps.doc.send;
    const r = await replayDlq({ ...deps, doc: throttledDoc }, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ moved: 1, failed: 0 });
    expect(await depth(deps, deps.names.dlqUrl), 'no copy left to send again').to.equal(0);
    expect(executionIdsOf(await drain(deps.sqs, deps.names.jobsQueueUrl))).to.deep.equal([a]);
  });

  it('reports a DLQ copy it could not delete and goes on with the others', async () => {
    const a = await deadLetteredJob(deps, { entryId: 'etr_nodelete' });
    const [peeked] = await peekDlq(deps);
    await new ReplayMarkers({ doc: deps.doc, tableName: deps.names.dedupeTable, clock: deps.clock }).put({
      dlqMessageId: peeked!.messageId,
      executionId: a,
      jobsMessageId: 'earlier-copy',
      replayedBy: 'an earlier run',
    });
    const b = await deadLetteredJob(deps, { entryId: 'etr_nodelete_b' });
    // SQS refuses to delete A's copy (the first DLQ delete); everything else works.
    let deletes = 0;
    const flakySqs = Object.create(deps.sqs) as typeof deps.sqs;
    flakySqs.send = ((command: unknown, ...rest: unknown[]) => {
      if (command instanceof DeleteMessageCommand && command.input.QueueUrl === deps.names.dlqUrl && deletes++ === 0) {
        return Promise.reject(Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }));
      }
      return (deps.sqs.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as typeof deps.sqs.send;
    const r = await replayDlq({ ...deps, sqs: flakySqs }, { filter: { all: true }, ratePerSecond: 50 });
    expect(r.totals).to.include({ failed: 1, moved: 1 });
    expect(r.events.find((e) => e.executionId === a)).to.deep.include({ outcome: 'failed' });
    expect(r.events.find((e) => e.executionId === a)!.reason).to.match(/already sent, but not deleted/);
    expect(executionIdsOf(await drain(deps.sqs, deps.names.jobsQueueUrl)), 'B moved; A not sent again').to.deep.equal([b]);
  });

  it('killed mid-run with a slow --rate, then rerun: every message reaches the jobs queue exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await deadLetteredJob(deps, { entryId: `etr_kill_${i}` }));

    const killed = await runOps(['dlq', 'replay', '--all', '--rate', '2/s'], env, {
      onStderr: (text, child) => {
        if ((text.match(/\] moved /g) ?? []).length >= 2 && !child.killed) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).to.equal('SIGKILL');
    const movedBeforeKill = (killed.stderr.match(/\] moved /g) ?? []).length;
    expect(movedBeforeKill).to.be.within(2, 5);
    expect(await depth(deps, deps.names.dlqUrl), 'the rest are still on the DLQ').to.be.at.least(1);

    const rerun = await runOps(['dlq', 'replay', '--all', '--rate', '50/s'], env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    expect(rerun.stdout).to.match(/moved \d+ of \d+ matching/);

    expect(executionIdsOf(await drain(deps.sqs, deps.names.jobsQueueUrl))).to.deep.equal([...ids].sort());
    expect(await depth(deps, deps.names.dlqUrl)).to.equal(0);
    for (const id of ids) expect((await deps.executions.get(id))!.status, id).to.equal('QUEUED');
  });

  it('stops between two messages on SIGINT, exits 130, and releases what it had not moved at once', async () => {
    for (let i = 0; i < 3; i++) await deadLetteredJob(deps, { entryId: `etr_int_${i}` });
    const stopped = await runOps(['dlq', 'replay', '--all', '--rate', '1/s'], env, {
      onStderr: (text, child) => {
        if (/\] moved /.test(text) && !child.killed) child.kill('SIGINT');
      },
    });
    expect(stopped.code, stopped.stderr).to.equal(130);
    expect(stopped.stdout).to.match(/^moved 1 of 1 matching/);
    expect(stopped.stdout).to.match(/interrupted: run the same command again/);
    // Nothing is left hidden: both remaining messages are visible right away.
    expect((await peekDlq(deps)).length).to.equal(2);
  });
});
