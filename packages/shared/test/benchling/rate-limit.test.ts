import { expect } from 'chai';
import { BudgetRegistry, parseRateLimitHeaders, TenantBudget } from '../../src/benchling/index.ts';
import { fakeTime } from './helpers.ts';

function rateHeaders(h: { limit?: number; remaining?: number; reset?: number }): Headers {
  const out = new Headers();
  if (h.limit !== undefined) out.set('x-rate-limit-limit', String(h.limit));
  if (h.remaining !== undefined) out.set('x-rate-limit-remaining', String(h.remaining));
  if (h.reset !== undefined) out.set('x-rate-limit-reset', String(h.reset));
  return out;
}

/** Starts n acquires at once and returns, per caller, the fake time at which it was let through. */
async function releaseTimes(budget: TenantBudget, clock: { now: () => number }, n: number): Promise<number[]> {
  const start = clock.now();
  return Promise.all(Array.from({ length: n }, () => budget.acquire().then(() => clock.now() - start)));
}

describe('Benchling TenantBudget', () => {
  it('lets 5 of 20 concurrent requests through when the server reports 5 remaining, and the rest when its window resets', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    budget.recordResponse(200, rateHeaders({ limit: 60, remaining: 5, reset: 20 }));
    const times = await releaseTimes(budget, clock, 20);
    expect(times.slice(0, 5)).to.deep.equal([0, 0, 0, 0, 0]);
    expect(times.slice(5)).to.deep.equal(Array.from({ length: 15 }, () => 20_000));
  });

  it('spreads waiters for a window reset by the jitter', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0.5, jitterMs: 400 });
    budget.recordResponse(200, rateHeaders({ remaining: 1, reset: 10 }));
    await releaseTimes(budget, clock, 2);
    expect(clock.slept).to.deep.equal([10_200]);
  });

  it('before any rate-limit report, sends 60 at once and then paces at 60 per 30 s', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep });
    const times = await releaseTimes(budget, clock, 62);
    expect(times.slice(0, 60).every((t) => t === 0)).to.equal(true);
    expect(times.slice(60)).to.deep.equal([500, 1000]);
  });

  it('holds every caller until x-rate-limit-reset plus jitter when the server reports 0 remaining', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0.5, jitterMs: 200 });
    budget.recordResponse(200, rateHeaders({ limit: 60, remaining: 0, reset: 3 }));
    const times = await releaseTimes(budget, clock, 3);
    expect(clock.slept[0]).to.equal(3100);
    expect(Math.min(...times)).to.be.at.least(3000);
  });

  it('holds callers after a 429 for the reset it carries', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0, jitterMs: 250 });
    budget.recordResponse(429, rateHeaders({ reset: 2 }));
    const times = await releaseTimes(budget, clock, 2);
    expect(clock.slept[0]).to.equal(2000);
    expect(Math.min(...times)).to.be.at.least(2000);
  });

  it('holds callers after a 429 without headers for the default throttle time', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0, defaultThrottleMs: 1500 });
    budget.recordResponse(429, new Headers());
    await budget.acquire();
    expect(clock.slept[0]).to.equal(1500);
  });

  it('adopts the server’s limit and window: 5 per 2 s means 5 now, 5 at the reset and 5 a window later', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    budget.recordResponse(200, rateHeaders({ limit: 5, remaining: 5, reset: 2 }));
    const times = await releaseTimes(budget, clock, 12);
    expect(times).to.deep.equal([0, 0, 0, 0, 0, 2000, 2000, 2000, 2000, 2000, 4000, 4000]);
    expect(budget.snapshot().limit).to.equal(5);
  });

  it('never trusts an out-of-order response that reports more remaining than it already knows', () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep });
    budget.recordResponse(200, rateHeaders({ remaining: 3 }));
    budget.recordResponse(200, rateHeaders({ remaining: 40 }));
    expect(budget.snapshot().tokens).to.equal(3);
  });

  it('replaces the budget it assumed at start with the first one the server reports, even when larger', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 50; i++) await budget.acquire();
    budget.recordResponse(200, rateHeaders({ limit: 10_000, remaining: 9_990, reset: 30 }));
    const before = clock.now();
    for (let i = 0; i < 200; i++) await budget.acquire();
    expect(clock.now() - before, 'no wait for a window reset').to.equal(0);
  });

  it('ignores missing or malformed rate-limit headers', () => {
    const h = new Headers({ 'x-rate-limit-limit': 'abc', 'x-rate-limit-remaining': '', 'x-rate-limit-reset': '-1' });
    expect(parseRateLimitHeaders(h)).to.deep.equal({});
    expect(parseRateLimitHeaders(rateHeaders({ limit: 60, remaining: 7, reset: 12 }))).to.deep.equal({
      limit: 60,
      remaining: 7,
      resetSeconds: 12,
    });
  });
});

describe('Benchling BudgetRegistry', () => {
  it('gives every caller of one tenant the same budget and other tenants their own', () => {
    const registry = new BudgetRegistry();
    expect(registry.forTenant('ten_a')).to.equal(registry.forTenant('ten_a'));
    expect(registry.forTenant('ten_a')).to.not.equal(registry.forTenant('ten_b'));
  });

  it('so a 429 seen by one job holds the tenant’s other jobs too, but not another tenant’s', async () => {
    const clock = fakeTime();
    const registry = new BudgetRegistry({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    registry.forTenant('ten_a').recordResponse(429, rateHeaders({ reset: 5 }));
    await registry.forTenant('ten_b').acquire();
    expect(clock.slept).to.deep.equal([]);
    await registry.forTenant('ten_a').acquire();
    expect(clock.slept).to.deep.equal([5000]);
  });
});
