import { z } from 'zod';

/**
 * The contract between the ingress's partner route and the worker's partner jobs: a partner
 * notification normalised to the `standard` format (docs/partners.md), whatever format it
 * arrived in (`standard` or `ica`). The ingress validates and normalises; the worker trusts it.
 */
export const PARTNER_EVENT_TYPES = [
  'sequencing.complete',
  'qc.complete',
  'analysis.complete',
  'upload.complete',
  'error.notification',
] as const;
export type PartnerEventType = (typeof PARTNER_EVENT_TYPES)[number];

/** The job kind of each event type: one job kind per event type, all run by the one runner. */
export const PARTNER_JOB_KINDS = {
  'sequencing.complete': 'partner.sequencing.complete',
  'qc.complete': 'partner.qc.complete',
  'analysis.complete': 'partner.analysis.complete',
  'upload.complete': 'partner.upload.complete',
  'error.notification': 'partner.error.notification',
} as const satisfies Record<PartnerEventType, string>;
export type PartnerJobKind = (typeof PARTNER_JOB_KINDS)[PartnerEventType];

const id = z.string().min(1).max(256);

export const PartnerFileSchema = z.object({
  /** Logical path inside the run (becomes `data/<path>` or `analysis/<path>`); same rules as ZIP entries. */
  path: z.string().min(1).max(1024),
  /** http(s) or s3:// source; must match the partner's allowed patterns. */
  url: z.string().min(1).max(4096),
  size: z.number().int().nonnegative().optional(),
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i)
    .optional(),
});
export type PartnerFile = z.infer<typeof PartnerFileSchema>;

export const PartnerEventSchema = z.object({
  /** The partner's event id (ICA: correlationId). */
  id,
  type: z.enum(PARTNER_EVENT_TYPES),
  /** ISO time the partner says the event happened. */
  timestamp: z.string().min(1).max(64),
  run: z.object({
    id,
    instrument: z.string().max(256).optional(),
    flowcell: z.string().max(256).optional(),
    startedAt: z.string().max(64).optional(),
    completedAt: z.string().max(64).optional(),
  }),
  samples: z
    .array(z.object({ id, name: z.string().max(512).optional(), barcode: z.string().max(256).optional() }))
    .max(10_000)
    .optional(),
  benchling: z.object({ entryId: id.optional(), tenantId: id.optional() }).optional(),
  files: z.array(PartnerFileSchema).max(10_000).optional(),
  /**
   * Event-specific data. qc.complete: { passed: boolean, qualityScore: number, coverage: number };
   * analysis.complete: { variants?: {...}, qualityClass?: string }; error.notification:
   * { severity: 'info'|'warning'|'error'|'critical', message: string, code?: string };
   * ica: the original envelope's eventCode, eventParameters, projectId, payloadVersion, payload.
   */
  data: z.record(z.string(), z.unknown()).optional(),
});
export type PartnerEvent = z.infer<typeof PartnerEventSchema>;

/**
 * What the ingress knows of the partner when it accepts an event, carried in the job so the
 * worker never needs the registry (and a policy change applies to events accepted after it).
 */
export const PartnerPolicySchema = z.object({
  /** Anchored regexes (`^…$`) an http(s) file URL must match. */
  allowedUrlPatterns: z.array(z.string().min(1).max(1024)).max(100),
  /** `s3://bucket/prefix` sources allowed, per bucket and key prefix. */
  allowedS3Prefixes: z.array(z.string().min(1).max(1024)).max(100),
  /** First part of the run's package name; default the partner id. */
  namespace: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .max(128),
  /** Receives before the job goes to the DLQ and the event is failed. */
  maxRetries: z.number().int().min(0).max(100),
  /** Seconds one attempt of the event's processing may take. */
  timeoutSeconds: z.number().int().positive().max(86_400),
});
export type PartnerPolicy = z.infer<typeof PartnerPolicySchema>;

/**
 * The SQS job of a partner event (v1). `executionId` is the event id the ingress answered with
 * (`202 {"eventId"}`); the execution record of that id is the event's status record
 * (QUEUED = received, RUNNING = processing, a RUNNING/QUEUED record with attempts and
 * `nextAttemptAt` = retrying, SUCCEEDED = completed, FAILED = failed). The record also carries
 * `partnerId`, `eventType` and `runId` so events can be listed per partner.
 */
export const PartnerJobMessageSchema = z.object({
  v: z.literal(1),
  kind: z.enum(Object.values(PARTNER_JOB_KINDS) as [PartnerJobKind, ...PartnerJobKind[]]),
  executionId: id,
  partnerId: id,
  trigger: z.object({
    /** `webhook-id` of the delivery (or `ops:<uuid>` for a replay). */
    webhookId: id,
    /** The partner event type, e.g. `sequencing.complete`. */
    type: id,
    /** ISO time the ingress accepted it. */
    receivedAt: z.string().min(1),
  }),
  event: PartnerEventSchema,
  policy: PartnerPolicySchema,
});
export type PartnerJobMessage = z.infer<typeof PartnerJobMessageSchema>;
