import { type PackageDocument, samplesDocuments } from './documents.ts';
import type { EntryRef, SamplesAnswer } from './types.ts';
import type { Warehouse } from './warehouse.ts';

/** One sample of a partner event: its barcode, its Benchling id (or registry id), or both. */
export interface RunSample {
  barcode?: string | undefined;
  id?: string | undefined;
}

export interface RunEnrichment {
  /** `samples.json`; none when no warehouse is configured. */
  documents: PackageDocument[];
  /** `{ samples: summary }` for the run package's metadata; empty when no warehouse is configured. */
  metadata: Record<string, unknown>;
  /** The entries the run's samples were registered in: the run package is linked to these. */
  linkedEntries: EntryRef[];
  /** The full answer, for callers that record more (undefined without a warehouse). */
  answer?: SamplesAnswer;
}

/**
 * What a partner run's package gets from the warehouse: each sample (by barcode or id) → its
 * Benchling entity and the entry it was registered in. Unknown samples are listed as unmatched,
 * not an error; a failed lookup throws (transient or permanent, see failures.ts) so the run is
 * never published with its enrichment silently missing. No warehouse: no enrichment at all.
 */
export async function enrichRun(warehouse: Pick<Warehouse, 'samplesFor'> | undefined, samples: RunSample[]): Promise<RunEnrichment> {
  if (!warehouse) return { documents: [], metadata: {}, linkedEntries: [] };
  // Each sample once: by its barcode when it has one, else by its id (a sequencing partner's own
  // sample id is not looked up when the barcode says which entity it is).
  const hasBarcode = (s: RunSample) => typeof s.barcode === 'string' && s.barcode !== '';
  const barcodes = samples.filter(hasBarcode).map((s) => s.barcode as string);
  const ids = samples.filter((s) => !hasBarcode(s) && typeof s.id === 'string' && s.id !== '').map((s) => s.id as string);
  const answer = await warehouse.samplesFor({ barcodes, ids });
  const { documents, metadata } = samplesDocuments(answer);
  const linkedEntries = [...new Map(answer.matched.filter((m) => m.entry).map((m) => [m.entry!.id, m.entry!])).values()];
  return { documents, metadata, linkedEntries, answer };
}
