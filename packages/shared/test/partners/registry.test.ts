import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
// @bp/local-stack is not a dependency of @bp/shared (it depends on us), so import by path.
import { isolatedEnv } from '../../../local-stack/src/testing.ts';
import { awsOptionsFromEnv, type AwsClients, createAwsClients, resourceNamesFromEnv } from '../../src/index.ts';
import { LOCAL_PARTNER_SECRETS } from '../../src/partners/local-partners.ts';
import { PartnerExistsError, PartnerRegistry, type PartnerSecretVault, partnerView } from '../../src/partners/registry.ts';
import { webhookSecretKey } from '../../src/partners/standard-webhooks.ts';

/** Stands in for Secrets Manager (no emulator runs locally): what matters here is what the table holds. */
class MemoryVault implements PartnerSecretVault {
  readonly secrets = new Map<string, string>();
  async put(partnerId: string, secret: string): Promise<string> {
    const arn = `arn:aws:secretsmanager:us-east-1:111122223333:secret:bp-partners/${partnerId}/${this.secrets.size}-AbCdEf`;
    this.secrets.set(arn, secret);
    return arn;
  }
  async get(arn: string): Promise<string> {
    const v = this.secrets.get(arn);
    if (!v) throw new Error(`no secret ${arn}`);
    return v;
  }
}

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('partner registry over DynamoDB Local', function () {
  this.timeout(60_000);
  let aws: AwsClients;
  let table: string;

  before(async () => {
    const env = await isolatedEnv('registry');
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    table = resourceNamesFromEnv(env).partnersTable;
  });
  after(() => aws?.destroy());

  const raw = async (id: string) =>
    (await aws.doc.send(new GetCommand({ TableName: table, Key: { partnerId: id }, ConsistentRead: true }))).Item!;

  it('keeps only Secrets Manager ARNs in the table when a vault is configured, through add and rotation', async () => {
    const vault = new MemoryVault();
    const registry = new PartnerRegistry({ doc: aws.doc, tableName: table, vault });
    const [a, b] = [secret(), secret()];
    await registry.add({ id: 'vaulted', name: 'Vaulted', eventTypes: ['qc.complete'], secret: a, allowUrls: ['^https://v\\.example/.*$'] });
    await registry.rotateSecret('vaulted', b);
    const item = await raw('vaulted');
    const text = JSON.stringify(item);
    expect(text).to.not.include(a.slice(6)).and.not.include(b.slice(6)).and.not.include('"value"');
    expect(item.secrets.current.secretArn).to.match(/^arn:aws:secretsmanager:/);
    expect(item.secrets.previous.secretArn).to.match(/^arn:aws:secretsmanager:/);
    const keys = await registry.verificationKeys((await registry.get('vaulted'))!);
    expect(keys.map((k) => k.toString('hex'))).to.deep.equal([webhookSecretKey(b).toString('hex'), webhookSecretKey(a).toString('hex')]);
    const view = partnerView((await registry.get('vaulted'))!);
    expect(JSON.stringify(view)).to.not.include('arn:aws:secretsmanager');
    expect(view.secrets.current.store).to.equal('secretsmanager');
  });

  it('keeps the value in the table without a vault (local only), seeds the documented local partners, refuses a taken id', async () => {
    const registry = new PartnerRegistry({ doc: aws.doc, tableName: table });
    expect((await raw('pacbio')).secrets.current.value).to.equal(LOCAL_PARTNER_SECRETS.pacbio);
    expect((await registry.list()).map((p) => p.partnerId)).to.include.members(['illumina', 'ont', 'pacbio']);
    expect((await registry.get('illumina'))!.format).to.equal('ica');
    let err: unknown;
    try {
      await registry.add({ id: 'pacbio', name: 'again', eventTypes: ['qc.complete'], secret: secret(), allowUrls: ['^https://x/$'] });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PartnerExistsError);
  });

  it('updates settings without touching the secrets, and drops the previous secret on finish', async () => {
    const registry = new PartnerRegistry({ doc: aws.doc, tableName: table });
    const [a, b] = [secret(), secret()];
    await registry.add({
      id: 'upd',
      name: 'Upd',
      eventTypes: ['qc.complete'],
      secret: a,
      allowUrls: ['^https://u\\.example/.*$', 's3://u-bucket/in/'],
    });
    await registry.rotateSecret('upd', b);
    const p = await registry.update('upd', { eventTypes: ['qc.complete', 'upload.complete'], maxRetries: 2 });
    expect(p).to.deep.include({ eventTypes: ['qc.complete', 'upload.complete'], maxRetries: 2, allowedS3Prefixes: ['s3://u-bucket/in/'] });
    expect(p.secrets.current.value).to.equal(b);
    expect(p.secrets.previous?.value).to.equal(a);
    expect((await registry.finishRotation('upd')).secrets).to.deep.equal({ current: p.secrets.current });
    expect((await registry.verificationKeys((await registry.get('upd'))!)).length).to.equal(1);
  });
});
