import { z } from 'zod';
import { PermanentError } from './errors.ts';
import { type PartnerJobMessage, PartnerJobMessageSchema } from './partners/event.ts';

/**
 * The SQS job message (version 1). The ingress writes it, the worker reads it.
 * Unknown `v` or `kind` is not lost: the worker sends it to the DLQ with a clear error.
 */
export const JOB_KINDS = ['entry.package', 'canvas.init', 'app.lifecycle'] as const;
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

export const JobMessageSchema = z.object({
  v: z.literal(1),
  kind: z.enum(JOB_KINDS),
  executionId: boundedId,
  tenantId: boundedId,
  /** `https://TENANT.benchling.com` from the webhook envelope; the API base is `${baseURL}/api/v2`. */
  baseURL: z.string().url(),
  appId: boundedId.optional(),
  entryId: boundedId.optional(),
  canvasId: boundedId.optional(),
  trigger: TriggerSchema,
  poll: PollStateSchema.optional(),
});
export type JobMessage = z.infer<typeof JobMessageSchema>;

/**
 * The SQS body of a job: JSON with every non-ASCII character written as a \u escape. SQS refuses
 * some characters a JSON string may hold (U+FFFE/U+FFFF; fauxqs also everything beyond the BMP),
 * and a refused send of a signed webhook would be retried for ever: escaped, any string travels.
 */
export function serializeJobMessage(job: AnyJobMessage): string {
  return JSON.stringify(job).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses an SQS body. Throws PermanentError (code `BadMessage`) naming what is wrong. */
export function parseJobMessage(body: string | undefined): JobMessage {
  return parseWith(body, JobMessageSchema);
}

/**
 * Any job the worker runs: a Benchling job, or a partner event's job (kind `partner.<eventType>`).
 * PARTNERS (minimal change, for the coordinator): the worker's dispatch parses with this; a body
 * whose `kind` starts with `partner.` is read against PartnerJobMessageSchema, anything else as before.
 */
export type AnyJobMessage = JobMessage | PartnerJobMessage;

export function isPartnerJob(job: AnyJobMessage): job is PartnerJobMessage {
  return job.kind.startsWith('partner.');
}

/** Parses an SQS body as either job schema. Throws PermanentError (code `BadMessage`) naming what is wrong. */
export function parseAnyJobMessage(body: string | undefined): AnyJobMessage {
  const kind = peekKind(body);
  return typeof kind === 'string' && kind.startsWith('partner.') ? parseWith(body, PartnerJobMessageSchema) : parseWith(body, JobMessageSchema);
}

function peekKind(body: string | undefined): unknown {
  try {
    return (JSON.parse(body ?? '') as { kind?: unknown } | null)?.kind;
  } catch {
    return undefined;
  }
}

function parseWith<T>(body: string | undefined, schema: z.ZodType<T>): T {
  if (body === undefined) throw new PermanentError('job message has no body', { code: 'BadMessage' });
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new PermanentError(`job message is not JSON: ${(err as Error).message}`, { code: 'BadMessage' });
  }
  if (typeof raw === 'object' && raw !== null && 'v' in raw && (raw as { v: unknown }).v !== 1) {
    throw new PermanentError(`job message version ${JSON.stringify((raw as { v: unknown }).v)} is not supported (this worker reads v1)`, {
      code: 'BadMessage',
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PermanentError(`job message is invalid: ${issues}`, { code: 'BadMessage' });
  }
  return parsed.data;
}
