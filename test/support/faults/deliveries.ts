import type { SendWebhookOptions, Simulator } from '@bp/benchling-sim';

/** One webhook as Benchling would deliver it: resent under the same webhook-id until acknowledged. */
export interface Delivery {
  webhookId: string;
  type: string;
  entryId: string;
  /** HTTP status of every try, in order (0 = no answer within the timeout). */
  statuses: number[];
  /** Set once a try got 202 (accepted) or 200 with `duplicate` (an earlier try was accepted). */
  executionId?: string;
  /** Epoch ms of the acknowledging answer. */
  acknowledgedAt?: number;
}

export interface DeliverOptions {
  /** Tries in all, the first included. Default 5. */
  tries?: number;
  /** Pause between tries. Milliseconds, default 1000. */
  retryDelayMs?: number;
  /** How long one try waits for an answer, like Benchling's 3 s. Milliseconds, default 3000. */
  timeoutMs?: number;
}

/**
 * Sends one signed webhook from the simulator to `to`, retrying non-2xx answers and timeouts
 * with the same webhook-id (Benchling's retry policy is not published; this is the conservative
 * reading of "a non-2xx or a timeout is retried some times").
 */
export async function deliverLikeBenchling(
  sim: Simulator,
  to: string,
  w: Omit<SendWebhookOptions, 'to' | 'webhookId'> & { entryId: string; webhookId?: string },
  o: DeliverOptions = {},
): Promise<Delivery> {
  const tries = o.tries ?? 5;
  const d: Delivery = {
    webhookId: w.webhookId ?? `msg_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    type: w.type,
    entryId: w.entryId,
    statuses: [],
  };
  for (let i = 0; i < tries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 1000));
    try {
      const r = await sim.sendWebhook({ ...w, to, webhookId: d.webhookId, timeoutMs: o.timeoutMs ?? 3000 });
      d.statuses.push(r.status);
      const json = parseJson(r.body);
      if (r.status === 202 || (r.status === 200 && json.duplicate === true)) {
        d.executionId = String(json.executionId);
        d.acknowledgedAt = Date.now();
        return d;
      }
      // 200 ignored and 4xx are final answers: Benchling does not retry them.
      if (r.status < 500 && r.status !== 409) return d;
    } catch {
      d.statuses.push(0);
    }
  }
  return d;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
