import type { Trigger } from '../jobs.ts';

/*
 * The entries table's item and what EntryStore's operations answer: the shapes callers read,
 * apart from how the store writes them.
 */

/** The package an entry was last published as. */
export interface PublishedPackage {
  executionId: string;
  packageName: string;
  /** Top hash of the revision; absent when the packaging engine (queue mode) computes it. */
  topHash?: string;
  /** ISO time of publication; an older one never overwrites a newer one. */
  at: string;
}

/** Item of the entries table, one per `entryKey(tenantId, entryId)`. Outlives every execution. */
export interface EntryState {
  entryKey: string;
  /** Execution holding the entry lease, and until when (epoch ms). */
  leaseExecutionId?: string;
  leaseExpiresAt?: number;
  /** Set by requestRerun while the lease is held; taken atomically by handOffEntryLease (which passes it to the follow-up). */
  rerunRequested?: boolean;
  rerunTrigger?: Trigger;
  rerunExecutionId?: string;
  rerunRequestedAt?: string;
  rerunCount?: number;
  /** Set by handOffEntryLease: the lease (and the coalesced trigger) passed from one execution to its follow-up. */
  handoffFrom?: string;
  handoffTo?: string;
  handoffTrigger?: Trigger;
  /** The entry's canvas, kept across executions so no run creates a second one. */
  canvasId?: string;
  appId?: string;
  featureId?: string;
  canvasUpdatedAt?: string;
  /** canvas.init's claim on creating the canvas (claimCanvasCreation), and until when (epoch ms). */
  canvasClaimBy?: string;
  canvasClaimUntil?: number;
  lastPublished?: PublishedPackage;
  /** Sequencing runs whose packages name this entry, by package name (see linkedRunsNewestFirst). */
  linkedRuns?: Record<string, LinkedRun>;
  updatedAt: string;
}

/** A partner's sequencing run linked to the entry: shown on the entry's canvas. */
export interface LinkedRun {
  partnerId: string;
  runId: string;
  packageName: string;
  topHash?: string;
  /** `pending` until QC arrives; then passed or failed with the recommendation. */
  qc: { state: 'pending' | 'passed' | 'failed'; recommendation?: string; nextStep?: string };
  /** ISO time of the event that last updated this link; an older event never overwrites a newer one. */
  at: string;
}

/** The entry's linked runs, newest first. */
export function linkedRunsNewestFirst(state: Pick<EntryState, 'linkedRuns'> | undefined): LinkedRun[] {
  return Object.values(state?.linkedRuns ?? {}).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

export type AcquireEntryLeaseResult = { acquired: true; expiresAt: number } | { acquired: false; heldBy: string; expiresAt: number };
export type RequestRerunResult = { leaseHeld: true; heldBy: string; expiresAt: number } | { leaseHeld: false };

/**
 * What handOffEntryLease did: released the lease (nothing was coalesced), passed it to the
 * follow-up (start it for `trigger`), or found the lease with someone else, in which case
 * `pendingHandoff` says this execution had already handed off and its follow-up may still need starting.
 */
export type HandOffResult =
  | { outcome: 'released' }
  | { outcome: 'handedOff'; to: string; trigger: Trigger; coalesced: number }
  | { outcome: 'notHeld'; pendingHandoff?: { to: string; trigger: Trigger } };
