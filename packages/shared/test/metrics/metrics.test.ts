import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { countingRateLimits, EmfPublisher, type MetricsServer, PackagerMetrics, startMetricsServer } from '../../src/metrics/index.ts';

/** The value of one sample line, e.g. `bp_webhooks_total{outcome="accepted"}`, in Prometheus text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [k: string]: unknown;
}

describe('metrics: Prometheus registry, /metrics server and CloudWatch EMF lines', () => {
  let server: MetricsServer;
  let metrics: PackagerMetrics;

  beforeEach(async () => {
    metrics = new PackagerMetrics();
    server = await startMetricsServer(0, metrics.registry, { host: '127.0.0.1' });
  });
  afterEach(() => server.close());

  it('serves what was counted in the Prometheus text format over HTTP', async () => {
    metrics.webhookAnswered('accepted');
    metrics.webhookAnswered('accepted');
    metrics.webhookAnswered('unauthorized');
    metrics.executionFinished('entry.package', 'FAILED');
    metrics.stepFinished('transfer', 'succeeded', 1.5);
    metrics.stepFinished('transfer', 'succeeded', 40);
    metrics.retryScheduled('fetch-entry', 'BenchlingUnavailable');
    metrics.dlqMoved('replayed', 'ops', 3);
    metrics.benchlingRateLimited();

    const res = await fetch(server.url);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'bp_webhooks_total{outcome="accepted"}')).to.equal(2);
    expect(sample(text, 'bp_webhooks_total{outcome="unauthorized"}')).to.equal(1);
    expect(sample(text, 'bp_executions_finished_total{kind="entry.package",status="FAILED"}')).to.equal(1);
    expect(sample(text, 'bp_steps_total{step="transfer",outcome="succeeded"}')).to.equal(2);
    expect(sample(text, 'bp_step_duration_seconds_count{step="transfer",outcome="succeeded"}')).to.equal(2);
    expect(sample(text, 'bp_step_duration_seconds_sum{step="transfer",outcome="succeeded"}')).to.equal(41.5);
    expect(sample(text, 'bp_step_duration_seconds_bucket{le="2.5",step="transfer",outcome="succeeded"}')).to.equal(1);
    expect(sample(text, 'bp_retries_total{step="fetch-entry",error_class="BenchlingUnavailable"}')).to.equal(1);
    expect(sample(text, 'bp_dlq_messages_total{direction="replayed",reason="ops"}')).to.equal(3);
    expect(sample(text, 'bp_benchling_rate_limited_total')).to.equal(1);
  });

  it('answers 404 on any other path of the metrics server', async () => {
    const res = await fetch(server.url.replace('/metrics', '/other'));
    expect(res.status).to.equal(404);
  });

  it('answers a failed collection with an error id only, handing the error to onError', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken',
      help: 'throws',
      registers: [registry],
      collect: () => {
        throw new Error('AccessDenied arn:aws:iam::123456789012:role/x');
      },
    });
    const seen: Array<[string, unknown]> = [];
    const broken = await startMetricsServer(0, registry, { host: '127.0.0.1', onError: (id, err) => seen.push([id, err]) });
    try {
      const res = await fetch(broken.url);
      const text = await res.text();
      expect(res.status).to.equal(500);
      expect(text).not.to.include('arn:');
      expect(seen).to.have.length(1);
      expect(text).to.include(seen[0]![0]);
      expect(String(seen[0]![1])).to.include('AccessDenied');
    } finally {
      await broken.close();
    }
  });

  it('keeps separate registries apart, so two instances never double count', async () => {
    const other = new PackagerMetrics();
    other.webhookAnswered('accepted');
    expect(sample(await metrics.text(), 'bp_webhooks_total{outcome="accepted"}')).to.equal(undefined);
    expect(sample(await other.text(), 'bp_webhooks_total{outcome="accepted"}')).to.equal(1);
  });

  it('writes aggregated EMF lines: counters summed per dimension set, durations kept as values', async () => {
    const lines: string[] = [];
    const emf = new EmfPublisher({ service: 'worker', write: (l) => lines.push(l), flushIntervalMs: 60_000 });
    metrics.emitTo(emf);
    metrics.webhookAnswered('accepted');
    metrics.webhookAnswered('accepted');
    metrics.webhookAnswered('duplicate');
    metrics.stepFinished('publish', 'succeeded', 0.25);
    metrics.stepFinished('publish', 'succeeded', 0.75);
    expect(lines, 'nothing is written before the flush').to.deep.equal([]);
    await emf.close();

    const parsed = lines.map((l) => JSON.parse(l) as EmfLine);
    expect(parsed).to.have.length(3);
    const accepted = parsed.find((p) => p.Outcome === 'accepted')!;
    expect(accepted.Webhooks).to.equal(2);
    expect(accepted.Service).to.equal('worker');
    expect(accepted._aws.CloudWatchMetrics[0]).to.deep.include({ Namespace: 'BenchlingPackager', Dimensions: [['Service', 'Outcome']] });
    expect(accepted._aws.CloudWatchMetrics[0]!.Metrics).to.deep.equal([{ Name: 'Webhooks', Unit: 'Count' }]);
    expect(parsed.find((p) => p.Outcome === 'duplicate')!.Webhooks).to.equal(1);
    const step = parsed.find((p) => p.Step === 'publish')!;
    expect(step.StepDuration).to.deep.equal([0.25, 0.75]);
    expect(step._aws.CloudWatchMetrics[0]!.Dimensions).to.deep.equal([['Service', 'Step', 'Outcome']]);
    expect(step._aws.CloudWatchMetrics[0]!.Metrics).to.deep.equal([{ Name: 'StepDuration', Unit: 'Seconds' }]);
    expect(Math.abs(step._aws.Timestamp - Date.now())).to.be.below(5_000);
  });

  it('splits more than 100 values of one metric over several EMF lines (the format limit)', async () => {
    const lines: string[] = [];
    const emf = new EmfPublisher({ service: 'worker', write: (l) => lines.push(l), flushIntervalMs: 60_000 });
    for (let i = 0; i < 150; i++) emf.observe('StepDuration', { Step: 'transfer' }, i, 'Seconds');
    await emf.close();
    const values = lines.map((l) => (JSON.parse(l) as EmfLine).StepDuration as number[]);
    expect(values.map((v) => v.length)).to.deep.equal([100, 50]);
    expect(values.flat()).to.deep.equal(Array.from({ length: 150 }, (_, i) => i));
  });

  it('flushes on its own timer without being asked', async () => {
    const lines: string[] = [];
    const emf = new EmfPublisher({ service: 'ingress', write: (l) => lines.push(l), flushIntervalMs: 50 });
    emf.count('Webhooks', { Outcome: 'accepted' });
    await new Promise((r) => setTimeout(r, 200));
    await emf.close();
    expect(lines).to.have.length(1);
    expect((JSON.parse(lines[0]!) as EmfLine).Webhooks).to.equal(1);
  });

  describe('counting Benchling 429s at the fetch layer', () => {
    let api: Server;
    let url: string;
    before(async () => {
      let calls = 0;
      api = createServer((_req, res) => {
        calls++;
        res.statusCode = calls <= 2 ? 429 : 200;
        res.end('{}');
      });
      await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v2/entries/etr_1`;
    });
    after(() => new Promise<void>((r) => api.close(() => r())));

    it('counts every 429 response, including the ones a caller then retries successfully', async () => {
      const f = countingRateLimits(metrics);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await f(url)).status);
      expect(statuses).to.deep.equal([429, 429, 200]);
      expect(sample(await metrics.text(), 'bp_benchling_rate_limited_total')).to.equal(2);
    });
  });
});
