import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError } from '@bp/shared';
import type { StepContext, StepResult } from '../context.ts';
import type { ExportStarted } from './start-export.ts';

export interface ExportReady {
  /** The export task: the transfer asks it for the download link (presigned links are never stored). */
  taskId?: string;
  /** Where the export is, without the presigned query (its signature): for operators only. */
  downloadURL: string;
  readyAt: string;
  polls: number;
}

/**
 * Polls the export task. A short in-process wait covers quick exports; if it is still running
 * after that, the job is re-enqueued with a growing DelaySeconds and the worker slot is freed.
 */
export async function awaitExport(ctx: StepContext, started: ExportStarted): Promise<StepResult<ExportReady>> {
  const { config, clock } = ctx.deps;
  const poll = ctx.job.poll ?? { attempt: 0, deadline: new Date(clock().getTime() + config.exportDeadlineSeconds * 1000).toISOString() };
  const inlineUntil = Date.now() + config.exportInlineWaitMs;
  let polls = 0;
  for (let pause = 200; ; pause = Math.min(pause * 2, 1000)) {
    const task = await ctx.benchling.getTask(started.taskId);
    polls++;
    if (task.status === 'SUCCEEDED') {
      if (!task.downloadURL)
        throw new PermanentError(`export task ${started.taskId} succeeded without a downloadURL`, { code: 'ExportMalformed' });
      return {
        output: {
          taskId: started.taskId,
          downloadURL: withoutQuery(task.downloadURL),
          readyAt: clock().toISOString(),
          polls: poll.attempt + polls,
        },
      };
    }
    if (task.status === 'FAILED') {
      throw new PermanentError(`Benchling could not export entry ${ctx.job.entryId}: ${task.message ?? 'export task failed'}`, {
        code: 'ExportFailed',
        details: { taskId: started.taskId },
      });
    }
    if (clock().getTime() > Date.parse(poll.deadline)) {
      throw new PermanentError(`export task ${started.taskId} still running after the deadline ${poll.deadline}`, {
        code: 'ExportTimeout',
      });
    }
    if (Date.now() + pause > inlineUntil || ctx.signal.aborted) break;
    await sleep(pause);
  }
  const attempt = poll.attempt + 1;
  const waitSeconds = exportPollDelaySeconds(attempt, config.exportMaxDelaySeconds);
  return { waitSeconds, job: { ...ctx.job, poll: { attempt, deadline: poll.deadline } } };
}

/** Delay before polling an export again: 2, 4, 8 … seconds up to `maxSeconds`. */
export function exportPollDelaySeconds(attempt: number, maxSeconds: number): number {
  return Math.min(maxSeconds, 2 ** Math.min(10, attempt + 1));
}

/** A URL without its query: a presigned link's signature is a credential, never stored or shown. */
export function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
