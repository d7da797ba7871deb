import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsOptions } from '../aws.ts';
import { type Env, getEnum, getString } from '../env.ts';
import { PartnerRegistry } from './registry.ts';
import { SecretsManagerVault } from './secret-vault.ts';

export type PartnerSecretStore = 'secretsmanager' | 'table';

/**
 * PARTNER_SECRET_STORE: `secretsmanager` keeps partner secrets in AWS Secrets Manager (the table
 * holds their ARNs); `table` keeps the values in the partners table, for the local emulators only,
 * where no secrets manager runs. Default: `table` when DynamoDB is an emulator endpoint
 * (AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL set), else `secretsmanager`, so nothing run
 * against AWS writes a secret in clear by omission.
 */
export function partnerSecretStoreFromEnv(env: Env): PartnerSecretStore {
  const emulated = Boolean(env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL);
  return getEnum(env, 'PARTNER_SECRET_STORE', ['secretsmanager', 'table'] as const, emulated ? 'table' : 'secretsmanager');
}

/** The registry over `tableName`, with the secret store the environment selects. */
export function partnerRegistryFromEnv(
  env: Env,
  o: { doc: DynamoDBDocumentClient; tableName: string; aws: AwsOptions },
): PartnerRegistry & { destroy(): void } {
  const store = partnerSecretStoreFromEnv(env);
  let client: SecretsManagerClient | undefined;
  if (store === 'secretsmanager') {
    const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined;
    client = new SecretsManagerClient({
      region: o.aws.region,
      maxAttempts: o.aws.maxAttempts,
      // The same bound as every other AWS call of the process (the ingress: 700 ms × 2).
      requestHandler: { requestTimeout: o.aws.requestTimeoutMs, connectionTimeout: o.aws.connectTimeoutMs, throwOnRequestTimeout: true },
      ...(endpoint ? { endpoint } : {}),
      ...(o.aws.credentials ? { credentials: o.aws.credentials } : {}),
    });
  }
  const registry = new PartnerRegistry({
    doc: o.doc,
    tableName: o.tableName,
    ...(client ? { vault: new SecretsManagerVault({ client, namePrefix: getString(env, 'TABLE_PREFIX', 'bp-') }) } : {}),
  });
  return Object.assign(registry, { destroy: () => client?.destroy() });
}
