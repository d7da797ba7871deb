import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsClients, awsOptionsFromEnv, createAwsClients, createLogger } from '@bp/shared';
import { JwksCache, type JwksCacheOptions } from '@bp/shared/webhook/jwks';
import { createApp, type IngressDeps } from '../../src/app.ts';
import { type IngressConfig, ingressConfigFromEnv } from '../../src/config.ts';
import { createIngressServer } from '../../src/server.ts';

const LOG_SERVICE = 'ingress-test';

/**
 * JSON log lines the ingress under test wrote. winston's console transport writes to
 * process.stdout; lines of our test service are kept here instead of cluttering mocha's output.
 */
export const capturedLogs: Record<string, unknown>[] = [];
let capturing = false;
function captureIngressLogs(): void {
  if (capturing) return;
  capturing = true;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (text.includes(`"service":"${LOG_SERVICE}"`)) {
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) capturedLogs.push(JSON.parse(line) as Record<string, unknown>);
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
}

export interface RunningIngress {
  url: string;
  server: Server;
  config: IngressConfig;
  /** Clients of the ingress itself (they may point at a dead endpoint in failure tests). */
  aws: AwsClients;
  jwks: JwksCache;
  close(): Promise<void>;
}

/**
 * The real app on a real port, configured through `ingressConfigFromEnv` like main does, with
 * the keys warmed. `env` is an isolatedEnv map plus whatever a test overrides.
 */
export async function startIngress(
  env: Record<string, string>,
  jwks: Partial<JwksCacheOptions> = {},
  extra: Pick<IngressDeps, 'ops' | 'metrics' | 'partners' | 'webhooksQuery' | 'integrationProbes'> = {},
): Promise<RunningIngress> {
  captureIngressLogs();
  const config = ingressConfigFromEnv(env);
  const logger = createLogger({ service: LOG_SERVICE, level: 'debug' });
  const aws = createAwsClients(config.aws);
  const cache = new JwksCache({ url: config.jwksUrl, ...config.jwks, logger, ...jwks });
  await cache.warm().catch(() => undefined);
  const app = createApp({ config, aws, names: config.names, jwks: cache, logger, ...extra });
  const server: Server = createIngressServer(app, config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    config,
    aws,
    jwks: cache,
    async close() {
      cache.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      aws.destroy();
    },
  };
}

/** Clients for assertions, independent of the ingress's (which may be pointed at dead endpoints). */
export function inspectionClients(env: Record<string, string>): AwsClients {
  return createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
}
