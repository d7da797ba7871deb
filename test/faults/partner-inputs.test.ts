import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { awsOptionsFromEnv, createAwsClients, resourceNamesFromEnv } from '@bp/shared';
import { PartnerJobMessageSchema } from '@bp/shared/partners/event';
import { PartnerRegistry } from '@bp/shared/partners/registry';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type PartnerCase, partnerCases } from '../support/faults/corpus/partner-cases.ts';
import { printTable } from '../support/faults/report.ts';
import { type IngressProcess, spawnIngress } from '../support/faults/service-processes.ts';

/**
 * The hostile partner corpus against a real ingress process (main.ts, so the partner wiring of
 * the deployed process is what answers): every input gets its documented answer, the process
 * never crashes, and exactly the control deliveries become jobs.
 */
describe('fault corpus: hostile sequencing-partner inputs', function () {
  this.timeout(180_000);
  let ingress: IngressProcess;
  let env: Record<string, string>;
  let cases: PartnerCase[];
  const results: Array<{ c: PartnerCase; status: number; json: Record<string, unknown> }> = [];

  before(async function () {
    this.timeout(120_000);
    env = { ...(await isolatedEnv('partnerfaults')), BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks' };
    const names = resourceNamesFromEnv(env);
    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    try {
      const registry = new PartnerRegistry({ doc: aws.doc, tableName: names.partnersTable });
      await registry.add({
        id: 'dormant',
        name: 'Dormant lab',
        eventTypes: ['sequencing.complete'],
        secret: 'whsec_YnAtbG9jYWwtcGFjYmlvLXdlYmhvb2stc2VjcmV0ISE=',
        allowUrls: ['^http://127\\.0\\.0\\.1:[0-9]{1,5}/.*$'],
      });
      await registry.setActive('dormant', false);
    } finally {
      aws.destroy();
    }
    ingress = await spawnIngress({ label: 'partner-corpus', env });
    let n = 0;
    const run = randomBytes(3).toString('hex');
    cases = partnerCases({
      now: Math.floor(Date.now() / 1000),
      bucket: names.bucket,
      inactivePartner: 'dormant',
      nextId: () => `pc_${run}_${++n}`,
    });
  });
  after(async () => {
    await ingress?.kill('SIGTERM', 10_000);
  });

  it('has at least 60 hostile inputs', () => {
    expect(cases.filter((c) => c.category !== 'control').length).to.be.at.least(60);
  });

  it('answers each input as documented, never crashes, and enqueues exactly the controls', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const res = await fetch(`${ingress.url}/webhooks/sequencing/${c.partnerId}`, {
        method: c.method ?? 'POST',
        headers: c.headers,
        ...(c.method === 'GET' ? {} : { body: typeof c.body === 'string' ? c.body : new Uint8Array(c.body) }),
      });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { text: text.slice(0, 200) };
      }
      results.push({ c, status: res.status, json });
      const e = c.expect;
      const wrong =
        res.status !== e.status ||
        (e.reason !== undefined && json.reason !== e.reason) ||
        (e.field !== undefined && json.field !== e.field) ||
        (e.type !== undefined && json.type !== e.type);
      if (wrong)
        failures.push(`${c.category} / ${c.name}: expected ${JSON.stringify(e)}, got ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
    }
    const rows = new Map<string, [string, string, number]>();
    for (const r of results) {
      const k = `${r.c.category}|${r.c.expect.status}`;
      rows.set(k, [r.c.category, `${r.c.expect.status}${r.c.expect.reason ? ' (reasons vary)' : ''}`, (rows.get(k)?.[2] ?? 0) + 1]);
    }
    printTable(
      `partner corpus: ${results.length} inputs, ${failures.length} answered otherwise`,
      ['category', 'answer', 'inputs'],
      [...rows.values()],
    );
    expect(failures, failures.join('\n')).to.deep.equal([]);

    expect((await fetch(`${ingress.url}/health/live`)).status, 'the ingress is still up').to.equal(200);
    expect(ingress.alive).to.equal(true);

    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    try {
      const jobs = [];
      for (;;) {
        const r = await aws.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: resourceNamesFromEnv(env).jobsQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 300,
          }),
        );
        if (!r.Messages?.length) break;
        jobs.push(...r.Messages.map((m) => PartnerJobMessageSchema.parse(JSON.parse(m.Body!))));
      }
      const accepted = results.filter((r) => r.status === 202).map((r) => r.json.eventId);
      expect(accepted).to.have.length(cases.filter((c) => c.expect.status === 202).length);
      expect(jobs.map((j) => j.executionId).sort()).to.deep.equal([...accepted].sort());
    } finally {
      aws.destroy();
    }
  });
});
