import { expect } from 'chai';
import { BadMessageError, KindNotHandledError, PermanentError, TransientError } from '@bp/shared';
import { ExecutionNotFoundError, LeaseHeldError, LeaseLostError } from '@bp/shared/executions/index';
import { decideOutcome, type OutcomeContext, retryDelaySeconds } from '../../src/runner/outcome.ts';

/** Pure unit tests: decideOutcome is the one place an error becomes what happens next. */
describe('decideOutcome', () => {
  const base: OutcomeContext = {
    receiveCount: 1,
    maxReceiveCount: 5,
    queueMaxReceiveCount: 5,
    shuttingDown: false,
    visibilityTimeoutSeconds: 60,
    random: () => 0.5,
  };
  const now = Date.now();

  it('waits out another worker’s live execution lease, touching nothing', () => {
    const err = new LeaseHeldError({ executionId: 'ex_1', owner: 'w2', leaseExpiresAt: now + 12_300, now });
    expect(decideOutcome(err, base)).to.deep.include({
      cause: 'lease-held',
      message: { action: 'retry', delaySeconds: 13 },
      execution: 'untouched',
      resource: 'keep',
    });
  });

  it('caps a lease wait at one visibility timeout and at least one second', () => {
    const long = new LeaseHeldError({ executionId: 'ex_1', owner: 'w2', leaseExpiresAt: now + 600_000, now });
    expect(decideOutcome(long, base).message).to.deep.equal({ action: 'retry', delaySeconds: 60 });
    const lapsing = new LeaseHeldError({ executionId: 'ex_1', owner: 'w2', leaseExpiresAt: now, now });
    expect(decideOutcome(lapsing, base).message).to.deep.equal({ action: 'retry', delaySeconds: 1 });
  });

  it('leaves an execution another worker took over, and its entry, to that worker', () => {
    const err = new LeaseLostError({
      lease: 'execution',
      id: 'ex_1',
      workerId: 'w1',
      owner: 'w2',
      status: 'RUNNING',
      action: 'checkpoint',
    });
    expect(decideOutcome(err, { ...base, receiveCount: 5 })).to.deep.include({
      cause: 'taken-over',
      execution: 'untouched',
      resource: 'keep',
      message: { action: 'retry', delaySeconds: 60 },
    });
  });

  it('deletes the message of an execution finished elsewhere, ending its hold on the entry', () => {
    const err = new LeaseLostError({ lease: 'execution', id: 'ex_1', workerId: 'w1', status: 'FAILED', action: 'checkpoint' });
    expect(decideOutcome(err, base)).to.deep.include({
      cause: 'finished-elsewhere',
      message: { action: 'done' },
      execution: 'untouched',
      resource: 'end',
    });
  });

  it('dead-letters a job whose execution does not exist, with the reason', () => {
    const d = decideOutcome(new ExecutionNotFoundError('ex_gone'), base);
    expect(d).to.deep.include({ cause: 'no-execution', execution: 'untouched', resource: 'end' });
    expect(d.message).to.deep.equal({ action: 'deadLetter', reason: 'execution ex_gone does not exist (or has expired)' });
  });

  it('dead-letters an unreadable message and a kind not handled yet, failing the execution', () => {
    for (const err of [
      new BadMessageError('job message is not JSON'),
      new KindNotHandledError('job kind partner.qc.complete is not handled'),
    ]) {
      const d = decideOutcome(err, base);
      expect(d).to.deep.include({ cause: 'bad-message', execution: 'failed', resource: 'end' });
      expect(d.message.action).to.equal('deadLetter');
    }
  });

  it('fails a permanent error at once and deletes the message, whatever the receive count', () => {
    const d = decideOutcome(new PermanentError('entry etr_x not found', { code: 'BenchlingNotFound' }), base);
    expect(d).to.deep.equal({
      cause: 'permanent',
      message: { action: 'done' },
      execution: 'failed',
      reason: 'entry etr_x not found',
      resource: 'end',
    });
  });

  it('retries a transient error with backoff while receives remain, holding the entry across the delay', () => {
    const d = decideOutcome(new TransientError('Benchling 503', { code: 'BenchlingUnavailable' }), { ...base, receiveCount: 2 });
    expect(d).to.deep.equal({
      cause: 'transient',
      message: { action: 'retry', delaySeconds: 10 },
      execution: 'retry',
      reason: 'Benchling 503',
      resource: 'hold',
      holdSeconds: 70,
    });
  });

  it('treats an unknown thrown value (a store or network error) as transient, on the same schedule', () => {
    const d = decideOutcome(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), { ...base, receiveCount: 3 });
    expect(d).to.deep.include({ cause: 'transient', message: { action: 'retry', delaySeconds: 20 }, execution: 'retry' });
  });

  it('on the queue’s last receive fails the execution and lets the redrive policy move the message', () => {
    const d = decideOutcome(new TransientError('throttled'), { ...base, receiveCount: 5 });
    expect(d).to.deep.equal({
      cause: 'gave-up',
      message: { action: 'retry', delaySeconds: 0 },
      execution: 'failed',
      reason: 'gave up after 5 attempts: throttled',
      resource: 'end',
    });
  });

  it('sends the message to the DLQ itself when the kind allows fewer receives than the queue', () => {
    const d = decideOutcome(new TransientError('partner host down'), {
      ...base,
      receiveCount: 2,
      maxReceiveCount: 2,
      queueMaxReceiveCount: 5,
    });
    expect(d).to.deep.include({
      cause: 'gave-up',
      execution: 'failed',
      message: { action: 'deadLetter', reason: 'gave up after 2 attempts: partner host down' },
    });
  });

  it('hands the job back at once on shutdown, holding the entry for the next worker', () => {
    const d = decideOutcome(new Error('aborted'), { ...base, shuttingDown: true, receiveCount: 5 });
    expect(d).to.deep.equal({
      cause: 'shutdown',
      message: { action: 'retry', delaySeconds: 0 },
      execution: 'retry',
      reason: 'worker shutting down: aborted',
      resource: 'hold',
      holdSeconds: 60,
    });
  });

  it('still fails a permanent error that lands during shutdown', () => {
    expect(decideOutcome(new PermanentError('unsafe ZIP', { code: 'ZipTraversal' }), { ...base, shuttingDown: true }).cause).to.equal(
      'permanent',
    );
  });
});

describe('the retry schedule', () => {
  it('doubles from 5 s per receive, capped at 300 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((n) => retryDelaySeconds(n, () => 0.5))).to.deep.equal([5, 10, 20, 40, 80, 160, 300, 300]);
  });

  it('jitters by ±20 % and never exceeds the cap', () => {
    expect(retryDelaySeconds(3, () => 0)).to.equal(16);
    expect(retryDelaySeconds(3, () => 0.999)).to.equal(24);
    expect(retryDelaySeconds(20, () => 0.999)).to.equal(300);
  });
});
