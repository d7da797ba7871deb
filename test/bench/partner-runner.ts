/**
 * One side of `pnpm bench partner`, in a process of its own so peak RSS is its own.
 * mode `partner`: the worker runs a sequencing.complete job end to end (execution and run leases,
 *   guarded HTTP download with resume, SHA-256 check, Quilt chunked hash, multipart upload, publish).
 * mode `plain`: the same files GET over HTTP and uploaded with lib-storage, same part size and
 *   parallelism, nothing checked or hashed beyond what the SDK does.
 * Reads BENCH_ENV (emulators, queues, tables, bucket) and BENCH_JOB (the partner event's files);
 * prints one JSON line { ms, bytes, files, peakRssMb, valid, why? }.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsOptionsFromEnv, createAwsClients, createLogger, newQueuedExecution, type Trigger } from '@bp/shared';
import { PARTNER_JOB_KINDS, type PartnerJobMessage } from '@bp/shared/partners/event';
import { readLatest } from '@bp/shared/quilt/index';
import { buildWorkerDeps, handleJob, workerConfigFromEnv } from '@bp/worker';
import { runPackageName } from '@bp/worker/partner/index';

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

type File = { path: string; url: string; size: number; sha256?: string };
const [mode] = process.argv.slice(2);
const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
const bench = JSON.parse(process.env.BENCH_JOB ?? '{}') as { runId: string; files: File[]; filesBase: string };
const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 120_000, maxAttempts: 3 }));
const bucket = env.PACKAGE_BUCKET!;
const total = bench.files.reduce((n, f) => n + f.size, 0);

async function partner(): Promise<{ valid: boolean; why?: string; ms?: number }> {
  const workerEnv = {
    ...env,
    BENCHLING_CLIENT_ID: 'bench',
    BENCHLING_CLIENT_SECRET: 'bench',
    // A partner job calls no Benchling tenant; the worker's configuration still names the tenants it serves.
    BENCHLING_TENANTS: 'ten_bench=https://bench.benchling.com',
    WORKER_ID: `bench-${process.pid}`,
    VISIBILITY_TIMEOUT_SECONDS: '120',
  };
  const deps = await buildWorkerDeps(
    workerConfigFromEnv(workerEnv),
    aws,
    createLogger({ service: 'bench', level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
  );
  const now = new Date();
  const executionId = `pev_bench_${now.getTime().toString(36)}`;
  const trigger = { webhookId: `msg_${executionId}`, type: 'sequencing.complete', receivedAt: now.toISOString() };
  const escaped = bench.filesBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const job: PartnerJobMessage = {
    v: 1,
    kind: PARTNER_JOB_KINDS['sequencing.complete'],
    executionId,
    partnerId: 'illumina',
    trigger,
    event: {
      id: `evt_${executionId}`,
      type: 'sequencing.complete',
      timestamp: now.toISOString(),
      run: { id: bench.runId },
      files: process.env.BENCH_PARTNER_SHA256 === '0' ? bench.files.map(({ sha256: _, ...f }) => f) : bench.files,
    },
    policy: {
      allowedUrlPatterns: [`^${escaped}/partner-runs/.*$`],
      allowedS3Prefixes: [],
      namespace: 'illumina',
      maxRetries: 3,
      timeoutSeconds: 3600,
    },
  };
  await deps.executions.create({
    ...newQueuedExecution({ executionId, tenantId: 'partner:illumina', kind: 'entry.package', trigger: trigger as Trigger, now }),
    kind: job.kind,
    partnerId: 'illumina',
    eventType: 'sequencing.complete',
    runId: bench.runId,
  });
  // Timed from here: set-up (clients, queue attributes, the execution record) is not the transfer.
  const t0 = Date.now();
  const outcome = await handleJob(deps, JSON.stringify(job), 1, new AbortController().signal);
  const ms = Date.now() - t0;
  const ex = await deps.executions.get(executionId);
  if (outcome.action !== 'done' || ex?.status !== 'SUCCEEDED')
    return { valid: false, why: `partner job ended ${outcome.action} ${ex?.status}: ${ex?.lastError?.message}` };
  const latest = await readLatest(aws.s3, bucket, runPackageName('illumina', bench.runId));
  const data = (latest?.entries ?? []).filter((e) => e.logicalKey.startsWith('data/'));
  const bytes = data.reduce((n, e) => n + e.size, 0);
  if (data.length !== bench.files.length || bytes !== total)
    return { valid: false, why: `package has ${data.length} data files, ${bytes} bytes; expected ${bench.files.length}, ${total}` };
  return { valid: true, ms };
}

async function plain(): Promise<{ valid: boolean; why?: string }> {
  const prefix = `bench-plain/${process.pid}/`;
  for (const f of bench.files) {
    const body = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(f.url, resolve).once('error', reject));
    await new Upload({
      client: aws.s3,
      params: { Bucket: bucket, Key: prefix + f.path, Body: body },
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
      leavePartsOnError: false,
    }).done();
  }
  for (const f of bench.files) {
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + f.path }));
    if (head.ContentLength !== f.size)
      return { valid: false, why: `plain upload of ${f.path} has ${head.ContentLength} bytes, expected ${f.size}` };
  }
  return { valid: true };
}

const started = Date.now();
const result = mode === 'partner' ? await partner() : await plain();
const ms = (result as { ms?: number }).ms ?? Date.now() - started;
console.log(JSON.stringify({ ...result, ms, bytes: total, files: bench.files.length, peakRssMb: peakRssMb() }));
aws.destroy();
process.exit(0);
