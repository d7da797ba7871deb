import { expect } from 'chai';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, TransientError } from '@bp/shared';
import { SecretCredentials } from '../src/index.ts';

/** Pure logic: how the secret's answers become credentials (a scripted client stands in for Secrets Manager). */
describe('warehouse credentials from Secrets Manager', () => {
  function client(answers: Array<string | Error>): { client: SecretsManagerClient; calls: () => number } {
    let n = 0;
    const c = {
      send: async () => {
        const a = answers[Math.min(n++, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return { SecretString: a };
      },
    };
    return { client: c as unknown as SecretsManagerClient, calls: () => n };
  }

  it('reads {username, password}, re-reads after the refresh interval, and keeps the last good one through an outage', async () => {
    let now = 0;
    const c = client([
      JSON.stringify({ username: 'u1', password: 'p1' }),
      JSON.stringify({ username: 'u1', password: 'p2' }),
      new Error('throttled'),
    ]);
    const creds = new SecretCredentials({ client: c.client, secretArn: 'arn:s', refreshMs: 1000, now: () => now });
    expect(await creds.get()).to.include({ username: 'u1', password: 'p1' });
    now = 500;
    expect((await creds.get()).password).to.equal('p1');
    expect(c.calls()).to.equal(1);
    now = 1500;
    expect((await creds.get()).password, 'rotated').to.equal('p2');
    now = 3000;
    expect((await creds.get()).password, 'outage: last good').to.equal('p2');
  });

  it('fails transiently when the secret cannot be read at all, and as configuration when it is malformed', async () => {
    const down = new SecretCredentials({ client: client([new Error('no route')]).client, secretArn: 'arn:s' });
    expect(
      await down.get().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ).to.be.instanceOf(TransientError);
    const bad = new SecretCredentials({ client: client([JSON.stringify({ user: 'x' })]).client, secretArn: 'arn:s' });
    expect(
      await bad.get().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ).to.be.instanceOf(ConfigError);
  });
});
