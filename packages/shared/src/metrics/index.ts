export { EmfPublisher, type EmfOptions, type EmfUnit } from './emf.ts';
export { PackagerMetrics, processMetrics, type PackagerMetricsOptions, type StepOutcome, type DlqDirection } from './packager-metrics.ts';
export { metricsRequestHandler, startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { countingRateLimits } from './rate-limited-fetch.ts';
