export { createApp, type IngressDeps, WEBHOOK_PATHS } from './app.ts';
export { BENCHLING_ACK_DEADLINE_MS, type IngressConfig, ingressConfigFromEnv } from './config.ts';
export { OutcomeCounts } from './outcomes.ts';
