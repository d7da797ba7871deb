import { describeError, entryKey, type JobMessage, PermanentError, TransientError } from '@bp/shared';
import type { BenchlingClient } from '@bp/shared/benchling/index';
import type { WorkerDeps } from '../context.ts';
import { answerClick, type CanvasDeps, type LastOutcome, plainReason, renderMain } from './index.ts';
import type { PackagingStatus } from './main-view.ts';

/** The canvas module's view of a worker's dependencies, for one entry. */
export function canvasDepsFor(deps: WorkerDeps, tenantId: string, entryId: string): CanvasDeps {
  return {
    s3: deps.s3,
    links: { bucket: deps.config.names.bucket, ...(deps.config.catalogUrl ? { catalogUrl: deps.config.catalogUrl } : {}) },
    updateButtonId: deps.config.updateButtonId,
    entryState: () => deps.entries.get(entryKey(tenantId, entryId)),
    clock: deps.clock,
  };
}

/** `canvas.view`: a navigation click. */
export async function runCanvasView(deps: WorkerDeps, job: JobMessage): Promise<Record<string, unknown>> {
  if (!job.canvasId || !job.trigger.buttonId) throw new PermanentError('canvas.view job names no canvas or button', { code: 'BadMessage' });
  const shown = await answerClick(
    (entryId) => canvasDepsFor(deps, job.tenantId, entryId),
    deps.benchlingFor(job),
    job.canvasId,
    job.trigger.buttonId,
  );
  return { canvasId: job.canvasId, buttonId: job.trigger.buttonId, ...shown };
}

/** How long a canvas.init's claim on creating the canvas holds off another one. Ms. */
const CREATE_CLAIM_MS = 30_000;

/**
 * `canvas.init`: creates the entry's canvas once. Concurrent or retried initialisations for one
 * entry leave exactly one canvas: only the execution holding the entry's creation claim (a
 * conditional write) creates it; another finds the canvas recorded and reuses it, or, while the
 * claim is live and no canvas is recorded yet, retries shortly (by then the canvas is recorded).
 */
export async function createEntryCanvas(deps: WorkerDeps, job: JobMessage): Promise<Record<string, unknown>> {
  if (!job.entryId) throw new PermanentError('canvas.init job has no entry id', { code: 'BadMessage' });
  if (!job.appId) throw new PermanentError('canvas.init job has no app id', { code: 'BadMessage' });
  const key = entryKey(job.tenantId, job.entryId);
  const featureId = job.trigger.featureId ?? deps.config.canvasFeatureId;
  const state = await deps.entries.get(key);
  // A canvas of another feature (the manifest's feature id changed) is not this one: make a new one.
  if (state?.canvasId && state.featureId === featureId) return { canvasId: state.canvasId, reused: true };
  if (!(await deps.entries.claimCanvasCreation(key, job.executionId, featureId, CREATE_CLAIM_MS))) {
    const now = await deps.entries.get(key);
    if (now?.canvasId && now.featureId === featureId) return { canvasId: now.canvasId, reused: true };
    throw new TransientError(`another initialisation (${now?.canvasClaimBy ?? 'unknown'}) is creating the canvas of ${job.entryId}`, {
      code: 'LeaseHeld',
      retryAfterMs: Math.max(1_000, (now?.canvasClaimUntil ?? 0) - deps.clock().getTime()),
    });
  }
  const rendered = await renderMain(canvasDepsFor(deps, job.tenantId, job.entryId));
  const canvas = await deps
    .benchlingFor(job)
    .createCanvas({ appId: job.appId, featureId, resourceId: job.entryId, blocks: rendered.blocks, data: rendered.data, enabled: true });
  await deps.entries.setCanvas(key, { canvasId: canvas.id, appId: job.appId, featureId });
  return { canvasId: canvas.id };
}

/** Short step descriptions the app session shows while a packaging runs (3–200 characters each). */
const STEP_MESSAGES: Record<string, string> = {
  'start-export': 'Asking Benchling to export the entry…',
  'await-export': 'Waiting for Benchling to finish the export…',
  transfer: 'Copying the exported files to S3…',
  publish: 'Publishing the new package revision…',
};

/**
 * What a packaging shows on the entry's canvas: RUNNING with step messages through an app session
 * (created when the run starts, found again through the canvas's `sessionId` by a resumed attempt),
 * then the main view with SUCCEEDED or FAILED and the reason in plain words.
 */
export class PackagingCanvas {
  private sessionId: string | undefined | null = null;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly benchling: BenchlingClient,
    private readonly job: JobMessage & { entryId: string },
    private readonly canvasId: string,
  ) {}

  private canvasDeps(): CanvasDeps {
    return canvasDepsFor(this.deps, this.job.tenantId, this.job.entryId);
  }

  /** The run starts: open a session, disable the update button. */
  async started(startedAt: string): Promise<void> {
    if (this.job.appId) {
      const session = await this.benchling.createAppSession({
        appId: this.job.appId,
        name: 'Updating the Quilt package',
        timeoutSeconds: 6 * 3600,
        messages: [{ content: 'Packaging started.', style: 'INFO' }],
      });
      this.sessionId = session.id;
    }
    const rendered = await renderMain(this.canvasDeps(), { status: { kind: 'running', startedAt } });
    await this.benchling.updateCanvas(this.canvasId, {
      ...rendered,
      enabled: true,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
    });
  }

  /** A long step starts: one INFO message. */
  async step(name: string): Promise<void> {
    const content = STEP_MESSAGES[name];
    if (!content) return;
    await this.message({ messages: [{ content, style: 'INFO' }] });
  }

  /** The run published (or found nothing changed): SUCCEEDED, then the main view. */
  async published(at: string, unchanged: boolean): Promise<void> {
    await this.message({
      messages: [{ content: unchanged ? 'Nothing changed since the last revision.' : 'The new revision is published.', style: 'SUCCESS' }],
      status: 'SUCCEEDED',
    });
    await this.show({ kind: 'published', at, unchanged });
  }

  /** The run failed for good: FAILED with the plain reason and the execution id, then the main view. */
  async failed(error: { class?: string; retryable?: boolean; at: string }): Promise<void> {
    const reason = plainReason(error);
    await this.message({
      messages: [{ content: `${reason} (execution ${this.job.executionId})`.slice(0, 200), style: 'ERROR' }],
      status: 'FAILED',
    });
    await this.show({ kind: 'failed', reason, at: error.at, executionId: this.job.executionId });
  }

  private async show(last: LastOutcome): Promise<void> {
    const rendered = await renderMain(this.canvasDeps(), { status: last, last });
    await this.benchling.updateCanvas(this.canvasId, { ...rendered, enabled: true });
  }

  /** Session updates are best effort: a closed or missing session must not fail a packaging. */
  private async message(update: Parameters<BenchlingClient['updateAppSession']>[1]): Promise<void> {
    try {
      if (this.sessionId === null) this.sessionId = (await this.benchling.getCanvas(this.canvasId)).sessionId ?? undefined;
      if (!this.sessionId) return;
      await this.benchling.updateAppSession(this.sessionId, update);
    } catch (err) {
      this.deps.logger.warn('could not update the app session', { canvasId: this.canvasId, error: describeError(err) });
    }
  }
}

export type { PackagingStatus };
