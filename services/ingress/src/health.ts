import type { RequestHandler } from 'express';
import type { AwsClients, ResourceNames } from '@bp/shared';
import type { JwksCache } from '@bp/shared/webhook/jwks';
import { jwksProbe, queueProbe, runProbes, tableProbe } from '@bp/shared/webhook/readiness';
import type { OutcomeCounts } from './outcomes.ts';

/**
 * `/health/live`: the process answers (and how requests went so far).
 * `/health/ready`: every dependency of an accept answers, each probe bounded. Anyone can ask (the
 * load balancer does), so it says only ready or not and which checks failed, by name; the results
 * are reused for `readyCacheMs`, so asking costs no AWS calls. `/health/ready/details` (behind
 * the ops credentials) adds what each probe saw and why it failed.
 */

export interface HealthDeps {
  aws: Pick<AwsClients, 'sqs' | 'ddb'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'>;
  jwks: Pick<JwksCache, 'status'>;
  /** Milliseconds each probe may take. */
  readyCheckTimeoutMs: number;
  /** Milliseconds a probe run is reused. */
  readyCacheMs: number;
  counts: OutcomeCounts;
  startedAt: number;
  now: () => number;
}

export function liveHandler(deps: Pick<HealthDeps, 'counts' | 'startedAt' | 'now'>): RequestHandler {
  return (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((deps.now() - deps.startedAt) / 1000), outcomes: deps.counts.snapshot() });
  };
}

type Readiness = Awaited<ReturnType<typeof runProbes>>;

/** Runs the probes at most once per `readyCacheMs`; callers meanwhile share the last (or the running) result. */
export function readinessCheck(deps: HealthDeps): () => Promise<Readiness> {
  const t = deps.readyCheckTimeoutMs;
  const probes = {
    dedupeTable: tableProbe(deps.aws.ddb, deps.names.dedupeTable, t),
    executionsTable: tableProbe(deps.aws.ddb, deps.names.executionsTable, t),
    jobsQueue: queueProbe(deps.aws.sqs, deps.names.jobsQueueUrl, t),
    jwks: jwksProbe(() => deps.jwks.status()),
  };
  let last: { at: number; result: Promise<Readiness> } | undefined;
  return () => {
    if (!last || deps.now() - last.at >= deps.readyCacheMs) last = { at: deps.now(), result: runProbes(probes) };
    return last.result;
  };
}

export function readyHandler(check: () => Promise<Readiness>): RequestHandler {
  return async (_req, res) => {
    const { ok, checks } = await check();
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', failing });
  };
}

export function readyDetailsHandler(check: () => Promise<Readiness>): RequestHandler {
  return async (_req, res) => {
    const { ok, checks } = await check();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  };
}
