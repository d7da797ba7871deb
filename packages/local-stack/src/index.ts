import path from 'node:path';
import { awsOptionsFromEnv, createAwsClients } from '@bp/shared';
import { startDynamoLocal, startFauxqs } from './emulators.ts';
import { freePort, type ManagedProcess } from './processes.ts';
import { provision, type ProvisionOptions } from './provision.ts';

export * from './processes.ts';
export * from './emulators.ts';
export * from './provision.ts';
export * from './postgres.ts';
export * from './warehouse.ts';

/** Environment that points the AWS SDK (and our config) at the local emulators. */
export function emulatorEnv(ports: { fauxqs: number; dynamo: number }): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${ports.fauxqs}`,
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${ports.fauxqs}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ports.dynamo}`,
    S3_LOCAL_COMPAT: 'true',
  };
}

export interface LocalAws {
  /** Emulator endpoints and credentials; merge with `provisionEnv()` output for services. */
  env: Record<string, string>;
  ports: { fauxqs: number; dynamo: number };
  processes: ManagedProcess[];
  /** Creates a fresh, isolated set of queues/tables/bucket named with `prefix`. */
  provision(o: Partial<ProvisionOptions> & { prefix: string }): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Starts fauxqs and DynamoDB Local (on free ports unless given) and waits until both answer. */
export async function startLocalAws(opts: { fauxqsPort?: number; dynamoPort?: number; logDir?: string } = {}): Promise<LocalAws> {
  const ports = { fauxqs: opts.fauxqsPort ?? (await freePort()), dynamo: opts.dynamoPort ?? (await freePort()) };
  const log = (n: string) => (opts.logDir ? path.join(opts.logDir, `${n}.log`) : undefined);
  const [fauxqs, dynamo] = await Promise.all([
    startFauxqs({ port: ports.fauxqs, logFile: log('fauxqs') ?? '/dev/null' }),
    startDynamoLocal({ port: ports.dynamo, logFile: log('dynamodb-local') ?? '/dev/null' }),
  ]);
  const env = emulatorEnv(ports);
  return {
    env,
    ports,
    processes: [fauxqs, dynamo],
    async provision(o) {
      const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
      try {
        const names = await provision(aws, {
          bucket: `${o.prefix.replace(/[^a-z0-9-]/g, '-')}packages`,
          maxReceiveCount: 5,
          visibilityTimeoutSeconds: 60,
          ...o,
        });
        return { ...env, ...names };
      } finally {
        aws.destroy();
      }
    },
    async stop() {
      await Promise.all([fauxqs.stop(), dynamo.stop()]);
    },
  };
}
