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
