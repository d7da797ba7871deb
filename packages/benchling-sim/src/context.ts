import { generateEntry, type EntryRecord } from './entries.ts';
import type { ExportZipCache } from './export-zip-cache.ts';
import type { FaultController } from './faults.ts';
import type { KeyRing } from './key-ring.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { SimState } from './state.ts';
import type { TokenIssuer } from './tokens.ts';

/** Everything the simulator's routes share. */
export interface SimContext {
  options: ResolvedSimulatorOptions;
  state: SimState;
  tokens: TokenIssuer;
  limiter: RateLimiter;
  faults: FaultController;
  keys: KeyRing;
  zips: ExportZipCache;
  /** The simulator's base URL (known once it listens). */
  url(): string;
  /** Where a preview click sends its webhook (the ingress); settable at run time. */
  webhookTarget: { url?: string };
  /** Timers of requests held by a delay fault, cleared on close. */
  pendingTimers: Set<NodeJS.Timeout>;
}

/** The entry with this id: generated on first use, then as edited since. */
export function entryOf(ctx: SimContext, id: string): EntryRecord {
  let rec = ctx.state.entries.get(id);
  if (!rec) {
    rec = generateEntry(id);
    ctx.state.entries.set(id, rec);
  }
  return rec;
}
