import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsOptionsFromEnv, createAwsClients, type JobMessage, newExecutionId, newQueuedExecution, resourceNamesFromEnv } from '@bp/shared';
import { ExecutionStore } from '@bp/shared/executions/index';
import { isolatedEnv } from '@bp/local-stack/testing';
import { buildOpsDeps, type OpsDeps } from '../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OPS_BIN = path.resolve(here, '../bin/ops.js');
export const REPO_ROOT = path.resolve(here, '../../..');

/** Fresh queues and tables, and ops deps over them. */
export async function opsStack(label: string): Promise<{ env: Record<string, string>; deps: OpsDeps & { destroy(): void } }> {
  const env = await isolatedEnv(label, { maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
  return { env, deps: buildOpsDeps(env) };
}

export function jobFor(executionId: string, entryId: string, tenantId = 'ten_ops'): JobMessage {
  return {
    v: 1,
    kind: 'entry.package',
    executionId,
    tenantId,
    baseURL: 'https://acme.benchling.com',
    entryId,
    trigger: { webhookId: `wh_${executionId}`, type: 'v2.entry.created', receivedAt: new Date().toISOString() },
  };
}

/**
 * What the worker leaves behind for a job that exhausted its receives: a FAILED execution with
 * its last error, and the job message in the DLQ. Returns the execution id.
 */
export async function deadLetteredJob(
  deps: OpsDeps,
  o: { entryId: string; errorClass?: string; message?: string; status?: 'FAILED' | 'SUCCEEDED' },
): Promise<string> {
  const now = new Date();
  const executionId = newExecutionId(now);
  const job = jobFor(executionId, o.entryId);
  await deps.executions.create(
    newQueuedExecution({ executionId, tenantId: job.tenantId, kind: job.kind, entryId: o.entryId, trigger: job.trigger, now }),
  );
  await deps.executions.beginAttempt(executionId, { workerId: 'test-worker', leaseMs: 30_000 });
  if (o.status === 'SUCCEEDED') {
    await deps.executions.succeed(executionId, 'test-worker');
  } else {
    await deps.executions.fail(executionId, 'test-worker', {
      step: 'fetch-entry',
      class: o.errorClass ?? 'BenchlingUnavailable',
      message: o.message ?? `gave up after 3 attempts: HTTP 503 for ${o.entryId}`,
      retryable: true,
      at: new Date().toISOString(),
    });
  }
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.names.dlqUrl, MessageBody: JSON.stringify(job) }));
  return executionId;
}

/** Receives (and deletes) everything on a queue; returns the bodies. */
export async function drain(sqs: SQSClient, url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
    );
    if (!res.Messages?.length) return bodies;
    for (const m of res.Messages) {
      bodies.push(m.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `benchling-packager-ops` as a real process (through its bin launcher) against `env`. */
export function runOps(
  args: string[],
  env: Record<string, string>,
  o: { onStderr?: (text: string, child: ChildProcess) => void } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPS_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      o.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** An ExecutionStore over the env's table, for assertions. */
export function storeFor(env: Record<string, string>): { store: ExecutionStore; destroy(): void } {
  const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
  return {
    store: new ExecutionStore({ doc: aws.doc, tableName: resourceNamesFromEnv(env).executionsTable }),
    destroy: () => aws.destroy(),
  };
}
