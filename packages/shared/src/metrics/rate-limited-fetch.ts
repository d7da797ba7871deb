import type { PackagerMetrics } from './packager-metrics.ts';

/**
 * Wraps a fetch so every HTTP 429 it receives is counted, whatever the caller then does with it
 * (the Benchling client retries 429s in-process, so its errors alone would undercount them).
 * Hand it to `BenchlingClientPool({ fetch })`.
 */
export function countingRateLimits(
  metrics: Pick<PackagerMetrics, 'benchlingRateLimited'>,
  inner: typeof fetch = globalThis.fetch,
): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status === 429) metrics.benchlingRateLimited();
    return res;
  };
}
