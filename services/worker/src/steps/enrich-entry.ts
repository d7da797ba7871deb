import { entryDocuments, type PackageDocument } from '@bp/warehouse';
import type { StepContext } from '../context.ts';

export interface EntryEnrichment {
  /** `entities.json` and `results.json`; none when no warehouse is configured. */
  documents: PackageDocument[];
  /** `{ warehouse: summary }` for the package metadata; empty when no warehouse is configured. */
  metadata: Record<string, unknown>;
}

/**
 * What the Benchling warehouse knows about an entry: the entities registered in it and the
 * result rows recorded in it. Without a configured warehouse there is no enrichment at all (no
 * files, no metadata); with one, a lookup that fails fails the step (transient: retried, then
 * the DLQ; permanent: FAILED), so a package is never published with its enrichment missing.
 */
export async function enrichEntry(ctx: StepContext, entryId: string): Promise<EntryEnrichment> {
  const warehouse = ctx.deps.warehouse;
  if (!warehouse) return { documents: [], metadata: {} };
  const contents = await warehouse.entryContents(entryId);
  ctx.log.info('warehouse enrichment', {
    entities: contents.entities.length,
    results: contents.results.length,
    source: contents.source.from,
  });
  return entryDocuments(contents);
}
