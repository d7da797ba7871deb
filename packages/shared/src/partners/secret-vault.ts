import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TransientError } from '../errors.ts';
import type { PartnerSecretVault } from './registry.ts';

/**
 * Partner secrets in AWS Secrets Manager: each `add` / `rotate-secret` creates a new secret named
 * `<prefix>partners/<partnerId>/<epoch ms>` (the CDK stack grants the ingress read access to
 * `<prefix>partners/*`), and the registry item keeps only its ARN. A secret's value never
 * changes, so values are cached by ARN: one GetSecretValue per secret per process lifetime,
 * bounded by `cacheMs` so a deleted secret stops verifying eventually.
 */
export class SecretsManagerVault implements PartnerSecretVault {
  private readonly cache = new Map<string, { value: string; until: number }>();
  constructor(private readonly o: { client: SecretsManagerClient; namePrefix: string; cacheMs?: number; now?: () => number }) {}

  async put(partnerId: string, secret: string): Promise<string> {
    const now = (this.o.now ?? Date.now)();
    const res = await this.o.client.send(
      new CreateSecretCommand({
        Name: `${this.o.namePrefix}partners/${partnerId}/${now}`,
        Description: `Standard Webhooks secret of sequencing partner ${partnerId}`,
        SecretString: secret,
        Tags: [{ Key: 'bp:partner', Value: partnerId }],
      }),
    );
    if (!res.ARN) throw new TransientError('Secrets Manager returned no ARN', { code: 'PartnerSecretUnavailable' });
    return res.ARN;
  }

  async get(secretArn: string): Promise<string> {
    const now = (this.o.now ?? Date.now)();
    const hit = this.cache.get(secretArn);
    if (hit && hit.until > now) return hit.value;
    const res = await this.o.client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!res.SecretString) throw new TransientError('the partner secret has no string value', { code: 'PartnerSecretUnavailable' });
    this.cache.set(secretArn, { value: res.SecretString, until: now + (this.o.cacheMs ?? 3_600_000) });
    return res.SecretString;
  }
}
