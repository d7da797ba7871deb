/** What the warehouse says about one registered entity (a sample, a plasmid, …). */
export interface EntityRecord {
  id: string;
  name: string | null;
  /** The registry id, e.g. `SAM0001`. */
  registryId: string | null;
  schema: { id: string; name: string | null } | null;
  project: { id: string; name: string | null } | null;
  creator: { id: string; handle: string | null; name: string | null } | null;
  webURL: string | null;
  createdAt: string | null;
  /** The schema's user fields by warehouse column name (an entity link holds the linked id). */
  fields: Record<string, unknown>;
}

export interface EntryRef {
  id: string;
  displayId: string | null;
  name: string | null;
  webURL: string | null;
}

export type SampleKey = { by: 'barcode' | 'id'; value: string };

export interface SampleMatch {
  /** The barcode or id of the event that found it. */
  match: SampleKey;
  entity: EntityRecord;
  /** The tube it sits in, when it sits in one. */
  container: { id: string; barcode: string | null; name: string | null } | null;
  /** The entry it was registered in (`registration_origin$raw`); null when registered outside an entry. */
  entry: EntryRef | null;
}

/** Where an answer came from: the warehouse now, or (the warehouse unreachable) a cached answer of this age. */
export type AnswerSource = { from: 'warehouse'; at: string } | { from: 'cache'; ageSeconds: number };

export interface SamplesAnswer {
  matched: SampleMatch[];
  /** Barcodes and ids the warehouse does not know: reported, not an error. */
  unmatched: SampleKey[];
  source: AnswerSource;
}

export interface ResultRecord {
  id: string;
  schema: { id: string; name: string | null } | null;
  runId: string | null;
  createdAt: string | null;
  validationStatus: string | null;
  fields: Record<string, unknown>;
}

export interface EntryContents {
  entryId: string;
  /** Entities registered in the entry. */
  entities: EntityRecord[];
  /** Result rows recorded in the entry (archived ones left out; invalid ones kept with their status). */
  results: ResultRecord[];
  source: AnswerSource;
}
