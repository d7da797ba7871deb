import { z } from 'zod';

/*
 * Shapes of the Benchling resources this service reads and writes (OpenAPI v2 component schemas).
 * Response schemas are loose: they check the fields we rely on and keep every other field, so a
 * field Benchling adds tomorrow reaches the package metadata instead of being dropped.
 */

const userSummarySchema = z.looseObject({ id: z.string(), name: z.string().optional(), handle: z.string().optional() });

export const entrySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  displayId: z.string(),
  webURL: z.string(),
  createdAt: z.string(),
  modifiedAt: z.string(),
  apiURL: z.string().optional(),
  folderId: z.string().optional(),
  creator: userSummarySchema.optional(),
  authors: z.array(userSummarySchema).optional(),
  fields: z
    .record(
      z.string(),
      z.looseObject({ value: z.unknown(), displayValue: z.string().nullish(), type: z.string().nullish(), isMulti: z.boolean().nullish() }),
    )
    .optional(),
  customFields: z.record(z.string(), z.looseObject({ value: z.unknown() })).optional(),
  schema: z.looseObject({ id: z.string(), name: z.string().optional() }).nullish(),
  days: z
    .array(z.looseObject({ date: z.string().optional(), title: z.string().nullish(), notes: z.array(z.unknown()).optional() }))
    .optional(),
  archiveRecord: z.looseObject({}).nullish(),
  reviewRecord: z.looseObject({}).nullish(),
});

/** A notebook entry (`GET /entries/{id}` → `.entry`), unknown fields kept. */
export type Entry = z.infer<typeof entrySchema>;

export const entryByIdSchema = z.looseObject({ entry: entrySchema });

export const asyncTaskLinkSchema = z.looseObject({ taskId: z.string().min(1) });

export const asyncTaskSchema = z.looseObject({
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
  message: z.string().nullish(),
  response: z.looseObject({ downloadURL: z.string().optional() }).nullish(),
  errors: z.unknown().optional(),
});

export type TaskStatus = z.infer<typeof asyncTaskSchema>['status'];

/** A long-running task as the pipeline needs it. `downloadURL` is set for a SUCCEEDED export. */
export interface BenchlingTask {
  status: TaskStatus;
  /** Presigned S3 URL of the export ZIP (valid about 24 h). */
  downloadURL?: string;
  /** Why the task FAILED. */
  message?: string;
  /** Per-item errors of a FAILED bulk task. */
  errors?: unknown;
}

export type ExportFormat = 'pdf' | 'html';

/** A markdown block; Benchling renders `value`. */
export interface MarkdownBlock {
  type: 'MARKDOWN';
  id?: string;
  value: string;
}

/** A button; a click arrives as a `v2.canvas.userInteracted` webhook carrying `buttonId` = `id`. */
export interface ButtonBlock {
  type: 'BUTTON';
  id: string;
  text: string;
  enabled?: boolean;
}

/** A group of blocks shown together. */
export interface SectionBlock {
  type: 'SECTION';
  id: string;
  children: CanvasBlock[];
}

/**
 * Any other UI block (TEXT_INPUT, CHIP, TABLE, …), passed through as given. No index signature, so
 * callers' own block interfaces fit; build exotic blocks in a variable to skip excess-property checks.
 */
export interface OtherCanvasBlock {
  type: string;
  id?: string;
}

export type CanvasBlock = MarkdownBlock | ButtonBlock | SectionBlock | OtherCanvasBlock;

/** `POST /app-canvases` body. */
export interface AppCanvasCreate {
  appId: string;
  /** Canvas feature id from the app manifest. */
  featureId: string;
  /** The entry the canvas is attached to. */
  resourceId: string;
  blocks: CanvasBlock[];
  enabled?: boolean;
  /** App session whose messages the canvas shows. */
  sessionId?: string | null;
  /** Opaque JSON string (< 5 kB) stored with the canvas, not rendered. */
  data?: string | null;
}

/** `PATCH /app-canvases/{id}` body: any subset; `appId` cannot change. */
export type AppCanvasUpdate = Partial<Omit<AppCanvasCreate, 'appId'>>;

export const appCanvasSchema = z.looseObject({
  id: z.string(),
  featureId: z.string().optional(),
  resourceId: z.string().optional(),
  blocks: z.array(z.unknown()).optional(),
  enabled: z.boolean().optional(),
  sessionId: z.string().nullish(),
  data: z.string().nullish(),
  app: z.looseObject({ id: z.string() }).optional(),
});

/** An app canvas as Benchling returns it, unknown fields kept. */
export type AppCanvas = z.infer<typeof appCanvasSchema>;

export type AppSessionMessageStyle = 'ERROR' | 'INFO' | 'NONE' | 'SUCCESS' | 'WARNING';

/** A line of session status shown on the canvas; `content` is 3–200 characters. */
export interface AppSessionMessage {
  content: string;
  style?: AppSessionMessageStyle;
}

/** `POST /app-sessions` body. */
export interface AppSessionCreate {
  appId: string;
  /** 3–100 characters, immutable. */
  name: string;
  /** 1 s to 30 days; can only grow. */
  timeoutSeconds: number;
  messages?: AppSessionMessage[];
}

/** `PATCH /app-sessions/{id}` body. */
export interface AppSessionUpdate {
  /** At most 10 per update. */
  messages?: AppSessionMessage[];
  status?: 'SUCCEEDED' | 'FAILED' | 'COMPLETED_WITH_WARNINGS';
  timeoutSeconds?: number;
}

export const appSessionSchema = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  status: z.string().optional(),
  timeoutSeconds: z.number().optional(),
  messages: z.array(z.looseObject({ content: z.string(), style: z.string().optional() })).nullish(),
  createdAt: z.string().optional(),
  modifiedAt: z.string().optional(),
});

/** An app session as Benchling returns it, unknown fields kept. */
export type AppSession = z.infer<typeof appSessionSchema>;
