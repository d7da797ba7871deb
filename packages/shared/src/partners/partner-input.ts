import { z } from 'zod';
import { PARTNER_EVENT_TYPES, type PartnerEventType } from './event.ts';

/**
 * What an operator may set on a partner (`pnpm ops partners add|update`, `POST /ops/partners`),
 * validated once here so the CLI and the API refuse the same things with the same words.
 */

export const PARTNER_FORMATS = ['standard', 'ica'] as const;
export type PartnerFormat = (typeof PARTNER_FORMATS)[number];

/** Partner ids appear in URLs, dedupe keys and package names: short and plain. */
export const PartnerIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a partner id is 1–64 of a-z, 0-9, _ and -, starting with a letter or digit');

/**
 * An allowed source: an anchored regex (`^…$`) an http(s) URL must match in full, or an
 * `s3://bucket/prefix` a source key must start with (per bucket). Checked to compile.
 */
export const SourcePatternSchema = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((p, ctx) => {
    if (p.startsWith('s3://')) {
      if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/.test(p))
        ctx.addIssue({ code: 'custom', message: `${p} is not s3://bucket/prefix` });
      return;
    }
    if (!p.startsWith('^') || !p.endsWith('$')) {
      ctx.addIssue({ code: 'custom', message: `URL pattern ${p} must be anchored: start with ^ and end with $` });
      return;
    }
    try {
      new RegExp(p);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `URL pattern ${p} is not a valid regular expression: ${(err as Error).message}` });
    }
  });

export const PartnerSettingsSchema = z.object({
  name: z.string().min(1).max(200),
  eventTypes: z.array(z.enum(PARTNER_EVENT_TYPES)).min(1).max(PARTNER_EVENT_TYPES.length),
  /** Patterns as given; split into URL regexes and S3 prefixes by `splitSourcePatterns`. */
  allowUrls: z.array(SourcePatternSchema).min(1).max(100),
  format: z.enum(PARTNER_FORMATS),
  maxRetries: z.number().int().min(0).max(100),
  timeoutSeconds: z.number().int().min(1).max(86_400),
  callbackUrl: z.string().url().max(2048).optional(),
  namespace: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a namespace is 1–128 of A-Z, a-z, 0-9, _ and -'),
});
export type PartnerSettings = z.infer<typeof PartnerSettingsSchema>;

export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_TIMEOUT_SECONDS = 900;

export function splitSourcePatterns(patterns: string[]): { allowedUrlPatterns: string[]; allowedS3Prefixes: string[] } {
  return {
    allowedUrlPatterns: patterns.filter((p) => !p.startsWith('s3://')),
    allowedS3Prefixes: patterns.filter((p) => p.startsWith('s3://')),
  };
}

/** `a,b , c` → ['a','b','c'], each checked to be an event type. */
export function parseEventTypes(list: string): PartnerEventType[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const t of out) {
    if (!(PARTNER_EVENT_TYPES as readonly string[]).includes(t))
      throw new PartnerInputError('events', `unknown event type ${t} (one of ${PARTNER_EVENT_TYPES.join(', ')})`);
  }
  return [...new Set(out)] as PartnerEventType[];
}

/** A bad partner setting, naming it. */
export class PartnerInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'PartnerInputError';
  }
}

/** Parses settings (whole or partial) and throws PartnerInputError naming the first bad field. */
export function checkSettings<T extends z.ZodTypeAny>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new PartnerInputError(issue.path.join('.') || '(settings)', issue.message);
}
