import type { ExecutionEvent, ExecutionRecord } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { OpsNotFoundError } from './errors.ts';
import { msBetween } from './time.ts';
import { withoutUrlQueries } from './redact-urls.ts';

/** How far one pipeline step got, from its checkpoint and the (bounded) event history. */
export interface StepView {
  step: string;
  state: 'done' | 'running' | 'failed' | 'waiting' | 'pending';
  /** Times the step ran (started, or ended when only its end is recorded), as far as the kept history shows. */
  starts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Error of its last failed attempt, `Class: message`. */
  lastError?: string;
}

export interface PackageView {
  name: string;
  topHash?: string;
  /** `quilt+s3://bucket#package=name@tophash`: what Quilt clients install. */
  uri: string;
  /** Catalog page when QUILT_CATALOG_URL is set, else the S3 console at the package prefix. */
  link: string;
}

/** Everything `executions show` prints. */
export interface ExecutionDetail {
  execution: ExecutionRecord;
  steps: StepView[];
  timings: { createdAt: string; startedAt?: string; finishedAt?: string; queuedMs?: number; runMs?: number; totalMs?: number };
  /** Failures in the history, oldest first (each failed attempt and the final error). */
  errors: Array<{ at: string; step?: string; detail: string }>;
  package?: PackageView;
}

export async function showExecution(deps: OpsDeps, executionId: string): Promise<ExecutionDetail> {
  const rec = await deps.executions.get(executionId);
  if (!rec) throw new OpsNotFoundError(`execution ${executionId} does not exist (or has expired)`, { executionId });
  return describeExecution(rec, deps, deps.clock());
}

export function describeExecution(rec: ExecutionRecord, o: { names: { bucket: string }; catalogUrl?: string }, now: Date): ExecutionDetail {
  const end = rec.finishedAt ?? now.toISOString();
  const errors = rec.events
    .filter((e) => e.type === 'StepFailed' || e.type === 'Failed')
    .map((e) => ({ at: e.at, ...(e.step ? { step: e.step } : {}), detail: e.detail ?? e.type }));
  const published = rec.outputs.publish as { packageName?: string; topHash?: string } | undefined;
  return {
    execution: { ...rec, outputs: withoutUrlQueries(rec.outputs) },
    steps: stepViews(rec, now),
    timings: {
      createdAt: rec.createdAt,
      ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
      ...(rec.finishedAt ? { finishedAt: rec.finishedAt } : {}),
      queuedMs: msBetween(rec.createdAt, rec.startedAt),
      runMs: msBetween(rec.startedAt, end),
      totalMs: msBetween(rec.createdAt, end),
    },
    errors,
    ...(published?.packageName ? { package: packageView(o.names.bucket, published.packageName, published.topHash, o.catalogUrl) } : {}),
  };
}

function stepViews(rec: ExecutionRecord, now: Date): StepView[] {
  // The steps the execution reached, in the order it reached them (the worker's declaration of
  // each kind is the only list of its steps). `acquire-entry` marks when the entry lease was
  // taken; it is not a step.
  const reached = [...rec.events.flatMap((e) => (e.step ? [e.step] : [])), ...Object.keys(rec.outputs)];
  const names = [...new Set(reached)].filter((s) => s !== 'acquire-entry');
  return names.map((step) => {
    const hasOutput = Object.hasOwn(rec.outputs, step);
    const mine = rec.events.filter((e) => e.step === step);
    const runs =
      mine.filter((e) => e.type === 'StepStarted').length ||
      mine.filter((e) => e.type === 'StepSucceeded' || e.type === 'StepFailed' || e.type === 'Failed').length;
    const done = lastOf(mine, (e) => e.type === 'StepSucceeded');
    const failed = lastOf(mine, (e) => e.type === 'StepFailed' || e.type === 'Failed');
    const state = stateOf(rec, step, hasOutput, mine, failed);
    const finishedAt = hasOutput ? done?.at : state === 'failed' || state === 'waiting' ? failed?.at : undefined;
    // The worker records only long steps when they start; a short one started when the event before its end was written.
    const lastStart = lastOf(mine, (e) => e.type === 'StepStarted');
    const end = hasOutput ? done : failed;
    const startedAt = lastStart?.at ?? (end ? eventBefore(rec.events, end)?.at : undefined);
    return {
      step,
      state,
      starts: runs,
      ...(startedAt ? { startedAt } : {}),
      ...(finishedAt ? { finishedAt } : {}),
      durationMs: msBetween(startedAt, finishedAt ?? (state === 'running' ? now.toISOString() : undefined)),
      ...(failed?.detail && !hasOutput ? { lastError: failed.detail } : {}),
    };
  });
}

function stateOf(
  rec: ExecutionRecord,
  step: string,
  hasOutput: boolean,
  mine: ExecutionEvent[],
  failed: ExecutionEvent | undefined,
): StepView['state'] {
  if (hasOutput) return 'done';
  if (rec.status === 'FAILED') return rec.lastError?.step === step ? 'failed' : 'pending';
  if (rec.step !== step || mine.length === 0) return 'pending';
  // The last thing that happened to this step was a failed attempt: its message comes back for a retry.
  if (failed && mine.at(-1) === failed) return 'waiting';
  return rec.status === 'RUNNING' ? 'running' : 'pending';
}

function eventBefore(events: ExecutionEvent[], e: ExecutionEvent): ExecutionEvent | undefined {
  const i = events.indexOf(e);
  return i > 0 ? events[i - 1] : undefined;
}

export function packageView(bucket: string, name: string, topHash: string | undefined, catalogUrl: string | undefined): PackageView {
  const link = catalogUrl
    ? `${catalogUrl.replace(/\/$/, '')}/b/${encodeURIComponent(bucket)}/packages/${name}`
    : `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(`${name}/`)}`;
  return { name, ...(topHash ? { topHash } : {}), uri: `quilt+s3://${bucket}#package=${name}${topHash ? `@${topHash}` : ''}`, link };
}

function lastOf<T>(list: T[], test: (v: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) return list[i];
  return undefined;
}
