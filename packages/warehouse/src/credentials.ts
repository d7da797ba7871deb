import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, TransientError } from '@bp/shared';

/**
 * Warehouse credentials held in Secrets Manager as JSON `{username, password}` (the shape an
 * operator stores from Benchling's warehouse-credentials settings). The password is re-read at
 * most every `refreshMs`, so a rotated secret reaches new connections without a restart.
 */
export class SecretCredentials {
  private cached: { username: string; password: string; at: number } | undefined;

  constructor(private readonly o: { client: SecretsManagerClient; secretArn: string; refreshMs?: number; now?: () => number }) {}

  async get(): Promise<{ username: string; password: string }> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.o.refreshMs ?? 600_000)) return this.cached;
    let text: string | undefined;
    try {
      text = (await this.o.client.send(new GetSecretValueCommand({ SecretId: this.o.secretArn }))).SecretString;
    } catch (err) {
      if (this.cached) return this.cached;
      throw new TransientError(`could not read the warehouse secret: ${(err as Error).message}`, {
        code: 'WarehouseSecretUnavailable',
        cause: err,
      });
    }
    let parsed: { username?: unknown; password?: unknown };
    try {
      parsed = JSON.parse(text ?? '');
    } catch {
      throw new ConfigError('the warehouse secret must be JSON {"username", "password"}');
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string')
      throw new ConfigError('the warehouse secret must be JSON {"username", "password"}');
    this.cached = { username: parsed.username, password: parsed.password, at: now };
    return this.cached;
  }
}
