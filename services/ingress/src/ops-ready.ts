import type { RequestHandler } from 'express';
import type { AwsClients, ResourceNames } from '@bp/shared';
import type { JwksCache } from '@bp/shared/webhook/jwks';
import { jwksProbe, type Probe, queueProbe, runProbes, tableProbe } from '@bp/shared/webhook/readiness';

/**
 * `GET /ops/ready` (behind the ops authentication): every integration this process can see, each
 * probed within the timeout, with full detail for operators: the tables, the jobs queue and its
 * DLQ, Benchling's signing keys, and extra integrations main.ts adds (the warehouse's
 * `SELECT 1` when one is configured). Always 200 with `ready` true or false: the answer is the
 * report, not a load-balancer signal.
 */
export interface OpsReadyDeps {
  aws: Pick<AwsClients, 'sqs' | 'ddb'>;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dedupeTable' | 'executionsTable'> & Partial<Pick<ResourceNames, 'dlqUrl' | 'entriesTable'>>;
  jwks: Pick<JwksCache, 'status'>;
  timeoutMs: number;
  /** More integrations by name, e.g. `warehouse`. */
  extra?: Record<string, Probe>;
}

export function opsReadyHandler(deps: OpsReadyDeps): RequestHandler {
  const t = deps.timeoutMs;
  const probes: Record<string, Probe> = {
    dedupeTable: tableProbe(deps.aws.ddb, deps.names.dedupeTable, t),
    executionsTable: tableProbe(deps.aws.ddb, deps.names.executionsTable, t),
    ...(deps.names.entriesTable ? { entriesTable: tableProbe(deps.aws.ddb, deps.names.entriesTable, t) } : {}),
    jobsQueue: queueProbe(deps.aws.sqs, deps.names.jobsQueueUrl, t),
    ...(deps.names.dlqUrl ? { deadLetterQueue: queueProbe(deps.aws.sqs, deps.names.dlqUrl, t) } : {}),
    benchlingSigningKeys: jwksProbe(() => deps.jwks.status()),
    ...deps.extra,
  };
  return async (_req, res) => {
    const { ok, checks } = await runProbes(probes);
    res.set('cache-control', 'no-store').json({ ready: ok, checkedAt: new Date().toISOString(), integrations: checks });
  };
}
