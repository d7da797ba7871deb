import { MetricsLogger, Unit } from 'aws-embedded-metrics';
import type { IEnvironment } from 'aws-embedded-metrics/lib/environment/IEnvironment.js';
import type { MetricsContext } from 'aws-embedded-metrics/lib/logger/MetricsContext.js';
import { LogSerializer } from 'aws-embedded-metrics/lib/serializers/LogSerializer.js';
import type { ISink } from 'aws-embedded-metrics/lib/sinks/Sink.js';
import { ConfigError } from '../errors.ts';

/**
 * CloudWatch embedded-metric-format (EMF) lines, written with aws-embedded-metrics'
 * MetricsLogger and LogSerializer but with an environment of our own: the library's detection
 * probes the EC2 metadata endpoint over HTTP and, outside Lambda/ECS, defaults to a CloudWatch
 * agent on TCP 25888. Our containers log to stdout (awslogs driver → CloudWatch Logs, which
 * extracts EMF), so the sink is always "write a line", and tests can capture the lines.
 *
 * Observations are aggregated per dimension set and written every `flushIntervalMs`, so a busy
 * ingress writes one EMF line per outcome per interval, not one per webhook.
 */
export interface EmfOptions {
  /** Value of the `Service` dimension on every metric, e.g. `worker`, `ingress`. */
  service: string;
  /** CloudWatch namespace. Default `BenchlingPackager`. */
  namespace?: string;
  /** Receives each EMF JSON line (no newline). Default: written to process.stdout. */
  write?: (line: string) => void;
  /** Milliseconds between flushes of aggregated values; 0 writes every observation at once. Default 60000. */
  flushIntervalMs?: number;
}

export type EmfUnit = 'Count' | 'Seconds' | 'Milliseconds';

interface Pending {
  dimensions: Record<string, string>;
  /** Counters are summed; observations keep every value (the serializer splits at 100 per line). */
  metrics: Map<string, { unit: EmfUnit; values: number[]; sum: boolean }>;
}

export class EmfPublisher {
  private readonly namespace: string;
  private readonly service: string;
  private readonly write: (line: string) => void;
  private readonly flushIntervalMs: number;
  private readonly environment: IEnvironment;
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(o: EmfOptions) {
    if (!o.service) throw new ConfigError('EmfPublisher option service is required');
    const interval = o.flushIntervalMs ?? 60_000;
    if (!(Number.isFinite(interval) && interval >= 0))
      throw new ConfigError(`EmfPublisher option flushIntervalMs must be >= 0, got ${interval}`);
    this.namespace = o.namespace ?? 'BenchlingPackager';
    this.service = o.service;
    this.write = o.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.flushIntervalMs = interval;
    this.environment = lineEnvironment(this.service, (line) => this.write(line));
    if (interval > 0) {
      this.timer = setInterval(() => void this.flush(), interval);
      this.timer.unref();
    }
  }

  /** Adds `n` to a counter under these dimensions (`Service` is added). */
  count(name: string, dimensions: Record<string, string>, n = 1): void {
    this.add(name, dimensions, n, 'Count', true);
  }

  /** Records one observation (e.g. a duration) under these dimensions. */
  observe(name: string, dimensions: Record<string, string>, value: number, unit: EmfUnit): void {
    this.add(name, dimensions, value, unit, false);
  }

  /** Writes everything aggregated so far. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const p of batch.values()) {
      const logger = new MetricsLogger(async () => this.environment);
      logger.setNamespace(this.namespace);
      logger.setDimensions([p.dimensions], false);
      for (const [name, m] of p.metrics) {
        const values = m.sum ? [m.values.reduce((a, b) => a + b, 0)] : m.values;
        for (const v of values) logger.putMetric(name, v, UNITS[m.unit]);
      }
      await logger.flush();
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private add(name: string, dims: Record<string, string>, value: number, unit: EmfUnit, sum: boolean): void {
    const dimensions = { Service: this.service, ...dims };
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));
    let p = this.pending.get(key);
    if (!p) {
      p = { dimensions, metrics: new Map() };
      this.pending.set(key, p);
    }
    const m = p.metrics.get(name) ?? { unit, values: [], sum };
    if (sum && m.values.length > 0) m.values[0]! += value;
    else m.values.push(value);
    p.metrics.set(name, m);
    if (this.flushIntervalMs === 0) void this.flush();
  }
}

const UNITS: Record<EmfUnit, Unit> = { Count: Unit.Count, Seconds: Unit.Seconds, Milliseconds: Unit.Milliseconds };

/** An aws-embedded-metrics environment that never probes anything and writes serialized lines. */
function lineEnvironment(service: string, write: (line: string) => void): IEnvironment {
  const serializer = new LogSerializer();
  const sink: ISink = {
    name: 'LineSink',
    async accept(context: MetricsContext) {
      for (const line of serializer.serialize(context)) write(line);
    },
  };
  return {
    probe: async () => true,
    getName: () => service,
    getType: () => 'Container',
    getLogGroupName: () => `${service}-metrics`,
    configureContext: () => undefined,
    getSink: () => sink,
  };
}
