import { expect } from 'chai';
import { LeaseLostError } from '@bp/shared/executions/index';
import { Heartbeat } from '../src/heartbeat.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pure timing logic: the leases it extends are exercised by the pipeline and fault suites. */
describe('Heartbeat', () => {
  it('settle() resolves only after a beat under way has written, so a lease set next is not cut back by it', async () => {
    const writes: string[] = [];
    const hb = new Heartbeat({
      intervalMs: 5,
      beat: async () => {
        await sleep(60);
        writes.push('beat');
      },
      onLost: () => writes.push('lost'),
    });
    hb.start();
    await sleep(20); // a beat is under way
    await hb.settle();
    writes.push('caller');
    await sleep(30); // no beat after settle
    expect(writes).to.deep.equal(['beat', 'caller']);
  });

  it('stops and reports a lost lease once, and keeps beating through other failures', async () => {
    let beats = 0;
    let lost = 0;
    const hb = new Heartbeat({
      intervalMs: 5,
      beat: async () => {
        beats++;
        if (beats < 3) throw new Error('throttled');
        throw new LeaseLostError({ lease: 'execution', id: 'ex_1', workerId: 'w1', owner: 'w2', status: 'RUNNING', action: 'extendLease' });
      },
      onLost: () => lost++,
    });
    hb.start();
    await sleep(80);
    await hb.settle();
    expect({ beats, lost }).to.deep.equal({ beats: 3, lost: 1 });
  });
});
