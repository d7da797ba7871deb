/** @bp/ops: the operations behind the ops CLI and the ops HTTP API. */
export { buildOpsDeps, type OpsDeps } from './deps.ts';
export { OpsNotFoundError, OpsUsageError, SendOutcomeUnknownError } from './errors.ts';
export { EXIT, exitCodeFor, type ExitCode } from './exit-codes.ts';
export { listExecutions, type ExecutionFilter, type ExecutionSummary } from './executions.ts';
export { showExecution, describeExecution, type ExecutionDetail, type StepView, type PackageView } from './execution-detail.ts';
export { queueStats, type QueueStats, type QueueStatsOptions } from './queues.ts';
export { peekDlq, type PeekedMessage, type PeekOptions } from './dlq-peek.ts';
export { replayDlq, type ReplayFilter, type ReplayOptions, type ReplayResult, type ReplayEvent, type ReplayTotals } from './dlq-replay.ts';
export { ReplayMarkers, type ReplayMarker } from './replay-markers.ts';
export { repackage, type RepackageRequest, type RepackageResult } from './repackage.ts';
export { executionStats, type OpsStats, type StatsOptions } from './stats.ts';
export { runCli, type CliIo } from './cli-program.ts';
export { createOpsRouter, type OpsRouterDeps } from './http/router.ts';
export { createOpsGuard, type OpsGuardOptions } from './http/guard.ts';
export { createOpsAuth, callerOf, type OpsAuthOptions, type OpsCaller } from './http/auth.ts';
export { AlbOidcVerifier, DEFAULT_ALB_KEY_URL, type AlbOidcOptions } from './http/alb-oidc.ts';
export { parseOpsTokens, matchToken, type OpsToken } from './http/bearer-tokens.ts';
export { opsApiConfigFromEnv, type OpsApiConfig } from './http/api-config.ts';
export { createWebhooksQueryRouter } from './http/webhooks-router.ts';
export {
  listPartnerEvents,
  listPartners,
  partnerEventStats,
  partnerEventStatus,
  partnerEventView,
  showPartnerEvent,
  type PartnerEventFilter,
  type PartnerEventStats,
  type PartnerEventStatus,
  type PartnerEventView,
} from './partner-events.ts';
