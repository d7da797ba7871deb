import type { RequestHandler } from 'express';
import type { AwsClients, ResourceNames } from '@bp/shared';
import type { JwksCache } from '@bp/shared/webhook/jwks';
import { jwksProbe, queueProbe, runProbes, tableProbe } from '@bp/shared/webhook/readiness';
import type { OutcomeCounts } from './outcomes.ts';

/**
 * `/health/live`: the process answers (and how requests went so far).
 * `/health/ready`: every dependency of an accept answers, each probe bounded; 503 with the
 * per-check detail when one does not, so the load balancer stops sending and operators see why.
 */

export interface HealthDeps {
  aws: Pick<AwsClients, 'sqs' | 'ddb'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'>;
  jwks: Pick<JwksCache, 'status'>;
  /** Milliseconds each probe may take. */
  readyCheckTimeoutMs: number;
  counts: OutcomeCounts;
  startedAt: number;
  now: () => number;
}

export function liveHandler(deps: Pick<HealthDeps, 'counts' | 'startedAt' | 'now'>): RequestHandler {
  return (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((deps.now() - deps.startedAt) / 1000), outcomes: deps.counts.snapshot() });
  };
}

export function readyHandler(deps: HealthDeps): RequestHandler {
  const t = deps.readyCheckTimeoutMs;
  const probes = {
    dedupeTable: tableProbe(deps.aws.ddb, deps.names.dedupeTable, t),
    executionsTable: tableProbe(deps.aws.ddb, deps.names.executionsTable, t),
    jobsQueue: queueProbe(deps.aws.sqs, deps.names.jobsQueueUrl, t),
    jwks: jwksProbe(() => deps.jwks.status()),
  };
  return async (_req, res) => {
    const { ok, checks } = await runProbes(probes);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  };
}
