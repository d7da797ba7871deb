import type { StepContext, StepResult } from '../context.ts';

/** What the pipeline keeps of an entry: enough for names, metadata and the canvas. */
export interface EntrySnapshot {
  id: string;
  displayId: string;
  name: string;
  webURL?: string;
  createdAt?: string;
  modifiedAt?: string;
  creator?: unknown;
  authors?: unknown;
  schema?: unknown;
  folderId?: string;
  /** Fields as Benchling returns them; dropped from the checkpoint when very large (re-read for metadata). */
  fields?: unknown;
  customFields?: unknown;
  /** When this run read the entry (not part of any package file): a resumed run compares it with later publishes. */
  fetchedAt?: string;
}

const MAX_CHECKPOINT_FIELDS_BYTES = 64 * 1024;

/** Reads the entry's current state (webhooks arrive late and out of order: never trust the payload). */
export async function fetchEntry(ctx: StepContext): Promise<StepResult<EntrySnapshot>> {
  const e = await ctx.benchling.getEntry(ctx.job.entryId);
  const snapshot: EntrySnapshot = {
    id: e.id,
    displayId: e.displayId,
    name: e.name,
    webURL: e.webURL,
    createdAt: e.createdAt,
    modifiedAt: e.modifiedAt,
    creator: e.creator,
    authors: e.authors,
    schema: e.schema,
    folderId: e.folderId,
    fetchedAt: ctx.deps.clock().toISOString(),
  };
  const bulky = JSON.stringify({ fields: e.fields, customFields: e.customFields });
  if (Buffer.byteLength(bulky) <= MAX_CHECKPOINT_FIELDS_BYTES) {
    snapshot.fields = e.fields;
    snapshot.customFields = e.customFields;
  }
  return { output: snapshot };
}
