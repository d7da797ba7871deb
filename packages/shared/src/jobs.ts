import { z } from 'zod';
import { BadMessageError } from './errors.ts';
import { type PartnerJobMessage, PartnerJobMessageSchema } from './partners/event.ts';

/**
 * The SQS job message (version 1). The ingress writes it, the worker reads it.
 * Unknown `v` or `kind` is not lost: the worker sends it to the DLQ with a clear error.
 */
/** `canvas.view`: a navigation click on the entry canvas (browse, versions, metadata…), answered by re-rendering it. */
export const JOB_KINDS = ['entry.package', 'canvas.init', 'app.lifecycle', 'canvas.view'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Longest id (tenant, entry, canvas, app, event…) a job may carry. Benchling's are ~30
 * characters; ids end up in DynamoDB keys (at most 2048 bytes) and records (at most 400 KB), and a
 * value too long to store must be refused as malformed (400), not answered 503 for ever.
 */
export const MAX_ID_CHARS = 256;
/** Most `message.updates` entries (field paths, for information) a trigger keeps; see truncateUpdates. */
export const MAX_TRIGGER_UPDATES = 100;
/** Longest `message.updates` entry a trigger keeps. */
export const MAX_UPDATE_CHARS = 256;

const boundedId = z.string().min(1).max(MAX_ID_CHARS);

export const TriggerSchema = z.object({
  /** `webhook-id` header of the delivery, or `ops:<uuid>` / `rerun:<executionId>` for internal triggers. */
  webhookId: boundedId,
  /** Benchling `message.type`, e.g. `v2.entry.updated.fields`, or `ops.repackage`. */
  type: boundedId,
  /** ISO time the ingress accepted it. */
  receivedAt: z.string().min(1),
  userId: boundedId.optional(),
  eventId: boundedId.optional(),
  buttonId: boundedId.optional(),
  featureId: boundedId.optional(),
  updates: z.array(z.string().max(MAX_UPDATE_CHARS)).max(MAX_TRIGGER_UPDATES).optional(),
});

/**
 * `message.updates` as a trigger keeps it: the first MAX_TRIGGER_UPDATES paths, each cut to
 * MAX_UPDATE_CHARS. The list is for information: a huge one is cut, not refused, so the change is
 * still packaged and its records stay small enough to store.
 */
export function truncateUpdates(updates: string[]): string[] {
  return updates.slice(0, MAX_TRIGGER_UPDATES).map((u) => u.slice(0, MAX_UPDATE_CHARS));
}
export type Trigger = z.infer<typeof TriggerSchema>;

export const PollStateSchema = z.object({
  /** How many times the export task was polled. */
  attempt: z.number().int().nonnegative(),
  /** ISO time after which waiting gives up. */
  deadline: z.string(),
});

/** What every Benchling job carries: who sent it, for which tenant, and why. */
const benchlingJob = {
  v: z.literal(1),
  executionId: boundedId,
  tenantId: boundedId,
  /** `https://TENANT.benchling.com` from the webhook envelope; the API base is `${baseURL}/api/v2`. */
  baseURL: z.string().url(),
  trigger: TriggerSchema,
};

/**
 * Package an entry: named by the entry (entry events, ops) or by the canvas whose button was
 * pressed (the worker then learns the entry from Benchling). `poll` is set on re-enqueued
 * messages waiting for an export.
 */
export const EntryPackageJobSchema = z
  .object({
    ...benchlingJob,
    kind: z.literal('entry.package'),
    appId: boundedId.optional(),
    entryId: boundedId.optional(),
    canvasId: boundedId.optional(),
    poll: PollStateSchema.optional(),
  })
  .refine((j) => j.entryId !== undefined || j.canvasId !== undefined, {
    message: 'an entry.package job names an entry or a canvas',
    path: ['entryId'],
  });
export type EntryPackageJob = z.infer<typeof EntryPackageJobSchema>;

/** Create the app's canvas on an entry (`v2.canvas.initialized`): both ids are known. */
export const CanvasInitJobSchema = z.object({
  ...benchlingJob,
  kind: z.literal('canvas.init'),
  appId: boundedId,
  entryId: boundedId,
  canvasId: boundedId.optional(),
});
export type CanvasInitJob = z.infer<typeof CanvasInitJobSchema>;

/** Record an app lifecycle event (installed, activated, …). */
export const AppLifecycleJobSchema = z.object({
  ...benchlingJob,
  kind: z.literal('app.lifecycle'),
  appId: boundedId.optional(),
  entryId: boundedId.optional(),
  canvasId: boundedId.optional(),
});
export type AppLifecycleJob = z.infer<typeof AppLifecycleJobSchema>;

/** A navigation click on the entry canvas (`nav:` buttons): re-render the view it asks for. */
export const CanvasViewJobSchema = z.object({
  ...benchlingJob,
  kind: z.literal('canvas.view'),
  appId: boundedId.optional(),
  entryId: boundedId.optional(),
  canvasId: boundedId,
});
export type CanvasViewJob = z.infer<typeof CanvasViewJobSchema>;

/** A job for Benchling work: what the ingress enqueues for a Benchling webhook or an ops request. */
export const JobMessageSchema = z.discriminatedUnion('kind', [
  EntryPackageJobSchema,
  CanvasInitJobSchema,
  AppLifecycleJobSchema,
  CanvasViewJobSchema,
]);
export type JobMessage = z.infer<typeof JobMessageSchema>;

/** Every job the queue carries, Benchling's and sequencing partners' alike, told apart by `kind`. */
export const AnyJobMessageSchema = z.discriminatedUnion('kind', [
  EntryPackageJobSchema,
  CanvasInitJobSchema,
  AppLifecycleJobSchema,
  CanvasViewJobSchema,
  PartnerJobMessageSchema,
]);
export type AnyJobMessage = z.infer<typeof AnyJobMessageSchema>;

/**
 * The SQS body of a job: JSON with every non-ASCII character written as a \u escape. SQS refuses
 * some characters a JSON string may hold (U+FFFE/U+FFFF; fauxqs also everything beyond the BMP),
 * and a refused send of a signed webhook would be retried for ever: escaped, any string travels.
 */
export function serializeJobMessage(job: AnyJobMessage): string {
  return JSON.stringify(job).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses a Benchling job's SQS body (what the ingress and ops enqueue). Throws PermanentError (`BadMessage`). */
export function parseJobMessage(body: string | undefined): JobMessage {
  const job = parseAnyJobMessage(body);
  if (job.kind.startsWith('partner.')) throw new BadMessageError(`job message is a partner job (${job.kind}), not a Benchling one`);
  return job as JobMessage;
}

/** Parses any job's SQS body (the worker's view). Throws PermanentError (code `BadMessage`) naming what is wrong. */
export function parseAnyJobMessage(body: string | undefined): AnyJobMessage {
  if (body === undefined) throw new BadMessageError('job message has no body');
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new BadMessageError(`job message is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw === 'object' && raw !== null && 'v' in raw && (raw as { v: unknown }).v !== 1) {
    throw new BadMessageError(`job message version ${JSON.stringify((raw as { v: unknown }).v)} is not supported (this worker reads v1)`);
  }
  const parsed = AnyJobMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new BadMessageError(`job message is invalid: ${issues}`);
  }
  return parsed.data;
}

/** A partner event's job (kind `partner.<eventType>`), as opposed to a Benchling one. */
export function isPartnerJob(job: AnyJobMessage): job is PartnerJobMessage {
  return job.kind.startsWith('partner.');
}
