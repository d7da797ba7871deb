import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EXECUTION_STATUSES, type ExecutionRecord } from '@bp/shared';
import type { ExecutionStore } from '@bp/shared/executions/index';
import { parseManifest, topHash } from '@bp/shared/quilt/index';
import { getTextObject } from '@bp/shared/quilt/s3-text';

/*
 * The promise the fault suites check: every webhook we acknowledged ends as a published package,
 * as a FAILED execution with its reason, or in the dead-letter queue — exactly once in effect.
 * Everything here reads state after the run, independently of the worker's code paths.
 */

/** Every execution of a test's isolated table, through the byStatus index (one query per status). */
export async function allExecutions(store: ExecutionStore): Promise<ExecutionRecord[]> {
  const perStatus = await Promise.all(EXECUTION_STATUSES.map((status) => store.listByStatus(status, { limit: 100_000 })));
  return perStatus.flat();
}

export type Outcome = 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED' | 'DLQ' | 'LOST';

export interface AcknowledgedWebhook {
  webhookId: string;
  entryId: string;
  /** From the 202 (or the 200 duplicate answer to a resend). */
  executionId: string;
}

export interface OutcomeRow {
  webhook: AcknowledgedWebhook;
  outcome: Outcome;
  /** Why it counts as that outcome, or why it counts as lost. */
  detail: string;
}

/**
 * Where each acknowledged webhook ended:
 * - SUCCEEDED; FAILED with a lastError (class and message);
 * - SUPERSEDED, only if a later run of the same entry read the entry after this trigger arrived and
 *   finished: SUCCEEDED (the change was packaged) or FAILED with a reason (an entry whose export fails);
 * - DLQ: its job message is in the dead-letter queue (an operator replays it);
 * - LOST otherwise: still QUEUED/RUNNING with no message anywhere, FAILED without a reason, or no record.
 */
export function classifyOutcomes(acked: AcknowledgedWebhook[], executions: ExecutionRecord[], dlqExecutionIds: Set<string>): OutcomeRow[] {
  const byId = new Map(executions.map((e) => [e.executionId, e]));
  return acked.map((webhook): OutcomeRow => {
    const e = byId.get(webhook.executionId);
    if (!e) return { webhook, outcome: dlqExecutionIds.has(webhook.executionId) ? 'DLQ' : 'LOST', detail: 'no execution record' };
    switch (e.status) {
      case 'SUCCEEDED':
        return { webhook, outcome: 'SUCCEEDED', detail: '' };
      case 'FAILED':
        if (e.lastError?.class && e.lastError.message)
          return { webhook, outcome: 'FAILED', detail: `${e.lastError.step}: ${e.lastError.class}` };
        return { webhook, outcome: 'LOST', detail: 'FAILED without a reason' };
      case 'SUPERSEDED': {
        const later = laterFinishedRead(e, executions);
        if (later)
          return {
            webhook,
            outcome: 'SUPERSEDED',
            detail: `${later.status === 'SUCCEEDED' ? 'packaged' : 'failed'} by ${later.executionId}`,
          };
        if (dlqExecutionIds.size > 0 && followUpsInDlq(e, executions, dlqExecutionIds))
          return { webhook, outcome: 'SUPERSEDED', detail: 'its follow-up is in the DLQ' };
        return { webhook, outcome: 'LOST', detail: 'SUPERSEDED but no later run of the entry read it and finished' };
      }
      default:
        if (dlqExecutionIds.has(e.executionId)) return { webhook, outcome: 'DLQ', detail: `${e.status}, message in the DLQ` };
        return { webhook, outcome: 'LOST', detail: `${e.status} with no message in the DLQ (attempts ${e.attempts})` };
    }
  });
}

/**
 * A lower bound on when the checkpointed fetch-entry output was read from Benchling: the event just
 * before its StepSucceeded (short steps record no StepStarted, so that is the attempt's previous
 * event, at the latest the AttemptStarted that began the read). For a run that failed reading it,
 * the start of its last attempt.
 */
export function entryReadAt(e: ExecutionRecord): number | undefined {
  const i = e.events.findIndex((ev) => ev.type === 'StepSucceeded' && ev.step === 'fetch-entry');
  if (i > 0) return Date.parse(e.events[i - 1]!.at);
  // A run that failed reading the entry (it does not exist) still read it, in its last attempt.
  const lastAttempt = [...e.events].reverse().find((ev) => ev.type === 'AttemptStarted');
  return e.status === 'FAILED' && e.lastError?.step === 'fetch-entry' && lastAttempt ? Date.parse(lastAttempt.at) : undefined;
}

function laterFinishedRead(superseded: ExecutionRecord, all: ExecutionRecord[]): ExecutionRecord | undefined {
  const after = Date.parse(superseded.createdAt);
  const finished = (x: ExecutionRecord) => x.status === 'SUCCEEDED' || (x.status === 'FAILED' && !!x.lastError?.message);
  return all.find((x) => x.entryKey === superseded.entryKey && finished(x) && (entryReadAt(x) ?? 0) > after);
}

function followUpsInDlq(superseded: ExecutionRecord, all: ExecutionRecord[], dlq: Set<string>): boolean {
  const after = Date.parse(superseded.createdAt);
  return all.some((x) => x.entryKey === superseded.entryKey && dlq.has(x.executionId) && Date.parse(x.createdAt) > after);
}

export function countOutcomes(rows: OutcomeRow[]): Record<Outcome, number> {
  const c: Record<Outcome, number> = { SUCCEEDED: 0, FAILED: 0, SUPERSEDED: 0, DLQ: 0, LOST: 0 };
  for (const r of rows) c[r.outcome]++;
  return c;
}

/**
 * A stretch of time during which one attempt of one execution was working on its entry: from the
 * moment it held the entry lease (its `StepStarted acquire-entry`; AttemptStarted for histories
 * without one), if the attempt went on to
 * run a step, to the event that ended it (StepFailed = handed back, Requeued, Succeeded, Failed,
 * Superseded). An attempt that left no ending event ended, at the latest, when
 * its worker process died (we know when we killed it). If its worker was still alive when another
 * attempt started, the end is unknown and taken as `openUntil`: a zombie could still be working.
 */
export interface WorkWindow {
  entryKey: string;
  executionId: string;
  workerId: string;
  start: number;
  end: number;
  /** How the end was found: `event`, `killed` (worker death) or `open` (unknown; pessimistic). */
  endedBy: 'event' | 'killed' | 'open';
}

const ENDING_EVENTS = new Set(['StepFailed', 'Requeued', 'Succeeded', 'Failed', 'Superseded']);

/**
 * Derives work windows from execution histories. `workerEndedAt(workerId)` is when that worker
 * process died (epoch ms) or undefined if it is still alive; `openUntil` bounds unknown ends.
 */
export function workWindows(
  executions: ExecutionRecord[],
  workerEndedAt: (workerId: string) => number | undefined,
  openUntil: number,
): WorkWindow[] {
  const out: WorkWindow[] = [];
  for (const e of executions) {
    let worker = '';
    let attemptAt = 0;
    let open: WorkWindow | undefined;
    const close = (end: number, endedBy: WorkWindow['endedBy']) => {
      if (open) out.push({ ...open, end, endedBy });
      open = undefined;
    };
    const closeSilently = () => {
      if (!open) return;
      const died = workerEndedAt(open.workerId);
      if (died !== undefined) close(died, 'killed');
      else close(openUntil, 'open');
    };
    for (const ev of e.events) {
      const at = Date.parse(ev.at);
      if (ev.type === 'AttemptStarted') {
        closeSilently();
        worker = /^worker (\S+)/.exec(ev.detail ?? '')?.[1] ?? '?';
        attemptAt = at;
      } else if (ev.type === 'StepStarted' && ev.step === 'acquire-entry') {
        // The attempt holds the entry lease from here; before it, it only waited for the lease.
        attemptAt = at;
      } else if (ev.type === 'StepStarted' || ev.type === 'StepSucceeded') {
        open ??= { entryKey: e.entryKey, executionId: e.executionId, workerId: worker, start: attemptAt || at, end: at, endedBy: 'event' };
      }
      if (ENDING_EVENTS.has(ev.type)) {
        close(at, 'event');
      }
    }
    closeSilently();
  }
  return out;
}

/** Pairs of windows of the same entry that overlap in time: two packagings of one entry at once. */
export function overlappingWindows(windows: WorkWindow[]): Array<[WorkWindow, WorkWindow]> {
  const byEntry = new Map<string, WorkWindow[]>();
  for (const w of windows) byEntry.set(w.entryKey, [...(byEntry.get(w.entryKey) ?? []), w]);
  const out: Array<[WorkWindow, WorkWindow]> = [];
  for (const list of byEntry.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]!.start < list[i]!.end; j++) out.push([list[i]!, list[j]!]);
    }
  }
  return out;
}

/** Files the worker writes next to the export; overwritten in place by every revision. */
export const METADATA_FILES = new Set(['entry.json', 'input.json', 'README.md']);

export interface RevisionProblem {
  manifest: string;
  logicalKey?: string;
  problem: string;
}

export interface RevisionCheck {
  revisions: number;
  latestRevisions: number;
  filesChecked: number;
  /** Objects a paginated listing left out but HEAD found (fauxqs's pagination can skip keys). */
  listingMisses: number;
  problems: RevisionProblem[];
}

/**
 * Every manifest under `.quilt/packages/`: its top hash matches its name, and every entry's
 * physical object exists with the manifest's size. Without S3 versioning (fauxqs) a newer revision
 * overwrites the metadata files in place, so their size is checked on `latest` revisions only;
 * the export files are byte-identical across revisions of an unedited entry and are checked on all.
 * A key the bucket listing does not show is looked up with HEAD before it counts as missing: fauxqs
 * sorts a ListObjectsV2 page with localeCompare but continues after its last key by code-unit order,
 * so keys of mixed case (README.md, attachments/…) can be skipped across pages.
 */
export async function checkRevisions(s3: S3Client, bucket: string): Promise<RevisionCheck> {
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) sizes.set(o.Key!, o.Size ?? -1);
    token = page.NextContinuationToken;
  } while (token);

  const manifests = [...sizes.keys()].filter((k) => k.startsWith('.quilt/packages/'));
  const latest = new Set<string>();
  for (const k of [...sizes.keys()].filter((key) => key.startsWith('.quilt/named_packages/') && key.endsWith('/latest'))) {
    latest.add((await getTextObject(s3, bucket, k))!.trim());
  }
  const problems: RevisionProblem[] = [];
  let filesChecked = 0;
  let listingMisses = 0;
  const headed = new Map<string, number | undefined>();
  const sizeOf = async (key: string): Promise<number | undefined> => {
    if (sizes.has(key)) return sizes.get(key);
    if (!headed.has(key)) {
      const size = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        (h) => h.ContentLength ?? -1,
        () => undefined,
      );
      if (size !== undefined) listingMisses++;
      headed.set(key, size);
    }
    return headed.get(key);
  };
  for (const key of manifests) {
    const hash = key.slice('.quilt/packages/'.length);
    const { meta, entries } = parseManifest((await getTextObject(s3, bucket, key))!);
    if (topHash(meta, entries) !== hash) problems.push({ manifest: key, problem: 'top hash does not match the manifest' });
    for (const e of entries) {
      filesChecked++;
      const size = e.physicalKey.bucket === bucket ? await sizeOf(e.physicalKey.key) : undefined;
      if (size === undefined) problems.push({ manifest: key, logicalKey: e.logicalKey, problem: `missing object ${e.physicalKey.key}` });
      else if (size !== e.size && (latest.has(hash) || !METADATA_FILES.has(e.logicalKey))) {
        problems.push({ manifest: key, logicalKey: e.logicalKey, problem: `size ${size}, manifest says ${e.size}` });
      }
    }
  }
  return { revisions: manifests.length, latestRevisions: latest.size, filesChecked, listingMisses, problems };
}

/**
 * Every key of a small bucket (for "nothing outside package prefixes" checks). One page only, and
 * it throws rather than paginate: fauxqs sorts a page with localeCompare but continues after the
 * last key by code-unit order, so keys of mixed case are skipped across pages.
 */
export async function allKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
  if (page.IsTruncated) throw new Error(`bucket ${bucket} holds more than 1000 objects: list it by prefix instead`);
  return (page.Contents ?? []).map((o) => o.Key!);
}
