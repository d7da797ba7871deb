import { type AwsClients, awsOptionsFromEnv, createAwsClients, resourceNamesFromEnv, type ResourceNames } from '../../src/index.ts';
import { ExecutionStore, newExecutionId, newQueuedExecution, type ExecutionRecord } from '../../src/executions/index.ts';
// @bp/local-stack is not a dependency of @bp/shared (it depends on us), so import by path.
import { isolatedEnv } from '../../../local-stack/src/testing.ts';

/**
 * A clock tests move by hand, so lease expiry and TTL are tested without sleeping. It starts at
 * the real time (or later), never earlier: this DynamoDB Local build runs a TTL sweeper on the
 * real clock, and would delete items whose fake `expiresAt` lay in the real past.
 */
export class ManualClock {
  constructor(private ms = Math.floor(Date.now() / 1000) * 1000) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Fresh tables on DynamoDB Local and clients for one suite. */
export async function localTables(label: string): Promise<{ aws: AwsClients; names: ResourceNames }> {
  const env = await isolatedEnv(label);
  const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
  return { aws, names: resourceNamesFromEnv(env) };
}

export function queuedExecution(o: { now: Date; tenantId?: string; entryId?: string; executionId?: string }): ExecutionRecord {
  return newQueuedExecution({
    executionId: o.executionId ?? newExecutionId(o.now),
    tenantId: o.tenantId ?? 'ten_test',
    kind: 'entry.package',
    entryId: o.entryId ?? 'etr_1',
    trigger: { webhookId: `wh_${Math.random().toString(36).slice(2)}`, type: 'v2.entry.updated.fields', receivedAt: o.now.toISOString() },
    now: o.now,
  });
}

/** Runs `fn` after a random 0–`maxMs` ms pause, to shuffle the order concurrent calls land in. */
export async function jittered<T>(maxMs: number, fn: () => Promise<T>): Promise<T> {
  await new Promise((r) => setTimeout(r, Math.random() * maxMs));
  return fn();
}

/**
 * Global secondary indexes are eventually consistent (in AWS, and in DynamoDB Local under
 * load): retries a GSI-backed read until `accept` holds, then returns it; gives up after `ms`.
 */
export async function eventually<T>(read: () => Promise<T>, accept: (v: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (accept(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What each test of an execution-store suite gets: one local table per suite, a fresh clock and store per test. */
export interface ExecutionStoreSuite {
  aws: AwsClients;
  tableName: string;
  clock: ManualClock;
  store: ExecutionStore;
}

/** Registers the suite's mocha hooks; read the fields inside tests (they are set by the hooks). */
export function executionStoreSuite(label: string): ExecutionStoreSuite {
  const suite = {} as ExecutionStoreSuite;
  before(async () => {
    const t = await localTables(label);
    suite.aws = t.aws;
    suite.tableName = t.names.executionsTable;
  });
  after(() => suite.aws?.destroy());
  beforeEach(() => {
    suite.clock = new ManualClock();
    suite.store = new ExecutionStore({ doc: suite.aws.doc, tableName: suite.tableName, clock: suite.clock.now });
  });
  return suite;
}
