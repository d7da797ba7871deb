import { expect } from 'chai';
import type { Logger } from '@bp/shared';
import { TaskProtection, type TaskProtectionOptions } from '../src/task-protection.ts';
import { FakeEcsAgent } from './support/ecs-agent.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Keeps what was logged so tests can see that failures are reported. */
function recordingLogger() {
  const lines: { level: string; message: string; meta: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, meta: Record<string, unknown> = {}) =>
      lines.push({ level, message, meta });
  const logger = { info: at('info'), warn: at('warn'), debug: at('debug') } as unknown as Pick<Logger, 'info' | 'warn' | 'debug'>;
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 'warn') };
}

describe('ECS task scale-in protection, against a local HTTP server playing the ECS agent', function () {
  this.timeout(10_000);
  const agent = new FakeEcsAgent();
  const open: TaskProtection[] = [];
  let log: ReturnType<typeof recordingLogger>;

  function protection(o: Partial<TaskProtectionOptions> = {}): TaskProtection {
    const p = new TaskProtection({ agentUri: agent.uri, logger: log.logger, releaseDelayMs: 100, retryDelayMs: 100, ...o });
    open.push(p);
    return p;
  }

  before(() => agent.start());
  after(() => agent.stop());
  beforeEach(() => {
    agent.calls.length = 0;
    agent.mode = 'ok';
    agent.delayMs = 0;
    log = recordingLogger();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('turns protection on with an expiry when the first job starts, and only once while several run', async () => {
    const p = protection({ expiresInMinutes: 45 });
    p.jobStarted();
    await waitFor('the first PUT', () => agent.calls.length === 1);
    expect(agent.calls[0]).to.deep.include({ method: 'PUT', path: '/api/task-1234/task-protection/v1/state' });
    expect(agent.calls[0]!.body).to.deep.equal({ ProtectionEnabled: true, ExpiresInMinutes: 45 });
    p.jobStarted();
    p.jobStarted();
    p.jobFinished();
    await sleep(250);
    expect(agent.states).to.deep.equal([true]);
    expect(agent.isProtected).to.equal(true);
    expect(p.protectedNow).to.equal(true);
  });

  it('turns protection off only after the job count has stayed at zero for the release delay', async () => {
    const p = protection({ releaseDelayMs: 200 });
    p.jobStarted();
    p.jobStarted();
    await waitFor('protection on', () => agent.isProtected);
    p.jobFinished();
    p.jobFinished();
    await sleep(100);
    expect(agent.states, 'still inside the release delay').to.deep.equal([true]);
    await waitFor('protection off', () => !agent.isProtected);
    expect(agent.states).to.deep.equal([true, false]);
    expect(agent.calls[1]!.body).to.deep.equal({ ProtectionEnabled: false });
    // The agent has the PUT before the worker has its answer: the worker's view follows the answer.
    await waitFor('the worker seeing the agent confirm protection off', () => !p.protectedNow);
  });

  it('does not flap when the next job starts within the release delay', async () => {
    const p = protection({ releaseDelayMs: 200 });
    for (let i = 0; i < 5; i++) {
      p.jobStarted();
      await sleep(20);
      p.jobFinished();
      await sleep(50);
    }
    p.jobStarted();
    await sleep(400);
    expect(agent.states).to.deep.equal([true]);
    expect(agent.isProtected).to.equal(true);
  });

  it('renews protection while jobs keep running, so a long job never outlives its expiry', async () => {
    const p = protection({ expiresInMinutes: 1, renewEveryMs: 80 });
    p.jobStarted();
    await sleep(400);
    const puts = agent.states;
    expect(puts.length).to.be.within(3, 7);
    expect(puts.every((s) => s === true)).to.equal(true);
    p.jobFinished();
    await waitFor('protection off', () => agent.states.at(-1) === false);
    const after = agent.calls.length;
    await sleep(250);
    expect(agent.calls.length, 'no renewals once idle').to.equal(after);
  });

  it('ends in the latest wanted state when the job count changes while a call is in flight', async () => {
    agent.delayMs = 150;
    const p = protection({ releaseDelayMs: 0 });
    p.jobStarted();
    await waitFor('the enable call to arrive', () => agent.calls.length === 1);
    p.jobFinished();
    await waitFor('the disable call', () => agent.calls.length === 2, 2000);
    await sleep(200);
    expect(agent.states).to.deep.equal([true, false]);
    expect(agent.isProtected).to.equal(false);
    expect(p.protectedNow).to.equal(false);
  });

  it('logs an agent error or failure answer, never throws, and retries until the agent accepts', async () => {
    agent.mode = 'error';
    const p = protection({ retryDelayMs: 100 });
    expect(() => p.jobStarted()).to.not.throw();
    await waitFor('a warning', () => log.warnings().length >= 1);
    expect(String(log.warnings()[0]!.meta.error)).to.match(/AccessDeniedException/);
    agent.mode = 'failure';
    await waitFor('a second attempt', () => agent.calls.length >= 2);
    await waitFor('its warning', () => log.warnings().length >= 2);
    expect(String(log.warnings()[1]!.meta.error)).to.match(/TASK_NOT_VALID/);
    expect(p.protectedNow).to.equal(false);
    agent.mode = 'ok';
    await waitFor('protection on after the agent recovers', () => agent.isProtected, 3000);
    // The agent records the call before the worker has read its answer: wait for the worker's view.
    await waitFor('the worker to know it is protected', () => p.protectedNow, 2000);
  });

  it('keeps going when the agent cannot be reached at all, and sends no "off" for a protection it never got', async () => {
    const unreachable = new TaskProtection({
      agentUri: 'http://127.0.0.1:9/api/task-1234',
      logger: log.logger,
      releaseDelayMs: 10,
      retryDelayMs: 5000,
      requestTimeoutMs: 500,
    });
    open.push(unreachable);
    unreachable.jobStarted();
    await waitFor('a warning', () => log.warnings().length === 1);
    expect(log.warnings()[0]!.message).to.match(/could not reach the ECS agent/);
    unreachable.jobFinished();
    await sleep(100);
    expect(log.warnings()).to.have.length(1);
    expect(unreachable.protectedNow).to.equal(false);
  });

  it('stops calling the agent once closed', async () => {
    const p = protection({ renewEveryMs: 50 });
    p.jobStarted();
    await waitFor('protection on', () => agent.isProtected);
    await p.close();
    const seen = agent.calls.length;
    await sleep(200);
    expect(agent.calls.length).to.equal(seen);
  });

  it('rejects an expiry ECS would refuse', () => {
    expect(() => new TaskProtection({ agentUri: agent.uri, logger: log.logger, expiresInMinutes: 2881 })).to.throw(
      RangeError,
      /expiresInMinutes/,
    );
  });
});
