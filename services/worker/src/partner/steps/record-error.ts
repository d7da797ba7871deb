import type { PartnerStepContext } from '../context.ts';

const SEVERITIES = new Set(['info', 'warning', 'error', 'critical']);

/**
 * Step `record-error` of error.notification: the partner's error, with its severity and message,
 * becomes the event's result; it is logged at error level and counted (PartnerErrorNotifications,
 * which the CDK alarm watches) whatever its severity, since a partner only sends it when
 * something went wrong on its side.
 */
export async function recordError(ctx: PartnerStepContext): Promise<Record<string, unknown>> {
  const data = ctx.job.event.data ?? {};
  const severity = typeof data.severity === 'string' && SEVERITIES.has(data.severity) ? data.severity : 'error';
  const message = typeof data.message === 'string' ? data.message.slice(0, 2000) : '(the partner gave no message)';
  const code = typeof data.code === 'string' ? data.code.slice(0, 256) : undefined;
  ctx.log.error('partner reported an error', {
    partnerId: ctx.job.partnerId,
    runId: ctx.job.event.run.id,
    severity,
    partnerMessage: message,
    ...(code ? { code } : {}),
  });
  ctx.deps.metrics.partnerErrorNotification(severity);
  return { severity, message, ...(code ? { code } : {}), runId: ctx.job.event.run.id };
}
