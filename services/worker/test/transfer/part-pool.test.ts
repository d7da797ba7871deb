import { expect } from 'chai';
import { PackagerError } from '@bp/shared';
import { PartPool } from '../../src/transfer/part-pool.ts';

describe('PartPool (the process-wide part buffers)', () => {
  it('lends at most its capacity, reuses what comes back, and serves waiters first come, first served', async () => {
    const pool = new PartPool({ partBytes: 1024, buffers: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: string[] = [];
    const c = pool.acquire().then((buf) => {
      order.push('c');
      return buf;
    });
    const d = pool.acquire().then((buf) => {
      order.push('d');
      return buf;
    });
    expect(pool.allocated).to.equal(2);
    pool.release(a);
    pool.release(b);
    const [gotC, gotD] = await Promise.all([c, d]);
    expect(order).to.deep.equal(['c', 'd']);
    expect([gotC, gotD]).to.have.members([a, b]);
    expect(pool.allocated, 'no buffer beyond the capacity').to.equal(2);
    pool.release(gotC);
    pool.release(gotD);
    expect(pool.inUse).to.equal(0);
  });

  it('stops waiting when its signal aborts, without taking a buffer', async () => {
    const pool = new PartPool({ partBytes: 1024, buffers: 1 });
    const held = await pool.acquire();
    const stop = new AbortController();
    const waiting = pool.acquire(stop.signal);
    stop.abort(new Error('shutting down'));
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PackagerError);
    expect((err as PackagerError).code).to.equal('TransferAborted');
    pool.release(held);
    expect(pool.inUse).to.equal(0);
    // The aborted waiter is gone: the buffer goes to the next one who asks.
    expect(await pool.acquire()).to.equal(held);
  });
});
