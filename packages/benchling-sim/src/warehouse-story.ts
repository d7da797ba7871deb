import { entryResource, generateEntry, SIM_USERS } from './entries.ts';
import { FastPrng, seedFrom } from './prng.ts';

/**
 * The simulated tenant's warehouse story: which samples were registered in which entries, the
 * tubes they sit in and the QC results recorded about them. Derived only from the seed and the
 * simulator's own entry generator, so the local PostgreSQL warehouse (seeded from this) and the
 * simulator's REST API name the same entries with the same names, display ids and creators.
 */

export const DEFAULT_WAREHOUSE_SEED = 'benchling-sim';
/** Entries the story registers samples in; `etr_demo1` is the one the README sends webhooks for. */
export const WAREHOUSE_ENTRY_IDS = ['etr_demo1', 'etr_demo2', 'etr_demo3', 'etr_demo4', 'etr_demo5', 'etr_demo6'] as const;

export interface StoryProject {
  id: string;
  name: string;
  createdAt: string;
  url: string;
}
export interface StoryUser {
  id: string;
  handle: string;
  name: string;
  email: string;
}
export interface StoryEntry {
  id: string;
  displayId: string;
  name: string;
  projectId: string;
  folderId: string;
  creatorId: string;
  schemaId: string;
  createdAt: string;
  modifiedAt: string;
  reviewStatus: string;
  url: string;
}
export interface StorySample {
  id: string;
  name: string;
  registryId: string;
  projectId: string;
  folderId: string;
  creatorId: string;
  createdAt: string;
  url: string;
  barcode: string;
  organism: string;
  sampleType: string;
  /** The entry it was registered in (`registration_origin$raw.origin_entry_id`). */
  entryId: string;
  /** An archived sample: in `sample$raw` only, never in the `sample` view or any lookup. */
  archived: boolean;
  /** The tube holding it. */
  container: { id: string; barcode: string; name: string; volumeLitres: number };
}
export interface StoryResult {
  id: string;
  entryId: string;
  sampleId: string;
  readCount: number;
  q30Percent: number;
  createdAt: string;
  validationStatus: 'VALID' | 'INVALID';
}

export interface WarehouseStory {
  seed: string;
  /** The registry's name: the Postgres schema the tables live in. */
  registry: string;
  sampleSchema: { id: string; name: string; systemName: string };
  qcSchema: { id: string; name: string; systemName: string };
  entrySchemaId: string;
  projects: StoryProject[];
  users: StoryUser[];
  entries: StoryEntry[];
  samples: StorySample[];
  results: StoryResult[];
}

const ORGANISMS = ['Escherichia coli', 'Saccharomyces cerevisiae', 'Homo sapiens', 'Bacillus subtilis'];
const SAMPLE_TYPES = ['gDNA', 'RNA', 'plasmid', 'cell pellet'];
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function token(prng: FastPrng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[prng.int(0, ALNUM.length - 1)];
  return s;
}

/** The same seed and base URL always give the same story. */
export function warehouseStory(seed: string = DEFAULT_WAREHOUSE_SEED, baseUrl = 'http://127.0.0.1:8090'): WarehouseStory {
  const prng = new FastPrng(seedFrom(`warehouse:${seed}`));
  const projects: StoryProject[] = ['Strain engineering', 'Sequencing core'].map((name) => {
    const id = `src_${token(prng, 8)}`;
    return { id, name, createdAt: '2023-11-01T09:00:00.000Z', url: `${baseUrl}/sim/projects/${id}` };
  });
  const users: StoryUser[] = SIM_USERS.map((u) => ({ id: u.id, handle: u.handle, name: u.name, email: `${u.handle}@sim.example` }));
  const entrySchemaId = `ts_${token(prng, 8)}`;
  const sampleSchema = { id: `ts_${token(prng, 8)}`, name: 'Sample', systemName: 'sample' };
  const qcSchema = { id: `assaysch_${token(prng, 8)}`, name: 'Sequencing QC', systemName: 'sequencing_qc' };
  const entries: StoryEntry[] = [];
  const samples: StorySample[] = [];
  const results: StoryResult[] = [];
  let serial = 1;
  for (const [i, entryId] of WAREHOUSE_ENTRY_IDS.entries()) {
    const rec = generateEntry(entryId);
    const api = entryResource(rec, baseUrl) as {
      webURL: string;
      folderId: string;
      creator: { id: string };
      schema: { id: string };
      reviewRecord: { status: string } | null;
    };
    const projectId = projects[i % projects.length]!.id;
    entries.push({
      id: entryId,
      displayId: rec.displayId,
      name: rec.name,
      projectId,
      folderId: api.folderId,
      creatorId: api.creator.id,
      schemaId: entrySchemaId,
      createdAt: rec.createdAt,
      modifiedAt: rec.modifiedAt,
      reviewStatus: api.reviewRecord?.status ?? 'NOT_STARTED',
      url: api.webURL,
    });
    const count = prng.int(2, 4);
    for (let k = 0; k < count; k++, serial++) {
      const id = `bfi_${token(prng, 8)}`;
      const created = new Date(Date.parse(rec.createdAt) + (k + 1) * 60_000).toISOString();
      const sample: StorySample = {
        id,
        name: `${rec.displayId}-S${k + 1}`,
        registryId: `SAM${String(serial).padStart(4, '0')}`,
        projectId,
        folderId: api.folderId,
        creatorId: api.creator.id,
        createdAt: created,
        url: `${baseUrl}/sim/registry/${id}`,
        barcode: `BC-${token(prng, 6)}`,
        organism: ORGANISMS[prng.int(0, ORGANISMS.length - 1)]!,
        sampleType: SAMPLE_TYPES[prng.int(0, SAMPLE_TYPES.length - 1)]!,
        entryId,
        // The last sample of every third entry was registered in error and archived since.
        archived: i % 3 === 2 && k === count - 1,
        container: {
          id: `con_${token(prng, 8)}`,
          barcode: `TB-${token(prng, 6)}`,
          name: `Tube ${serial}`,
          volumeLitres: prng.int(20, 200) / 1_000_000,
        },
      };
      samples.push(sample);
      if (!sample.archived) {
        results.push({
          id: `res_${token(prng, 10)}`,
          entryId,
          sampleId: id,
          readCount: prng.int(100_000, 9_000_000),
          q30Percent: prng.int(7000, 9800) / 100,
          createdAt: created,
          validationStatus: prng.int(0, 9) === 0 ? 'INVALID' : 'VALID',
        });
      }
    }
  }
  return { seed, registry: 'benchling_sim', sampleSchema, qcSchema, entrySchemaId, projects, users, entries, samples, results };
}
