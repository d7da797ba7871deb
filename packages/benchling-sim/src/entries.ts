import { createHash } from 'node:crypto';
import { PermanentError } from '@bp/shared/errors';

/** One schema field of an entry as the API shows it. */
export interface EntryField {
  value: unknown;
  displayValue: string | null;
  textValue: string | null;
  type: string;
  isMulti: boolean;
}

/** What the simulator knows about one entry: its generated base plus every edit since. */
export interface EntryRecord {
  id: string;
  /** 1 for the generated entry, +1 per edit through `POST /_sim/entries/{id}`. */
  revision: number;
  name: string;
  displayId: string;
  fields: Record<string, EntryField>;
  createdAt: string;
  modifiedAt: string;
}

export interface EntryEdit {
  /** New entry title (also mirrored into the `Name` field). */
  name?: string;
  /** Field name → new value (a raw value or a partial field); `null` removes the field. */
  fields?: Record<string, unknown>;
}

/** The tenant's users: entry creators here, `user$raw` in the warehouse story. */
export const SIM_USERS = [
  { id: 'ent_Zm3kQ8aL', name: 'Zoë Müller', handle: 'zmuller' },
  { id: 'ent_Jo5lVr2x', name: 'José Álvarez', handle: 'jalvarez' },
  { id: 'ent_So9nKe4c', name: 'Søren Ødegård', handle: 'sodegard' },
  { id: 'ent_Li7cHn1w', name: '李 小龙', handle: 'xli' },
];
const TOPICS = ['Expérience de croissance', 'Prüfung der Stabilität', 'Análisis de proteínas', 'Cinétique enzymatique', 'Ligation Ω-loop'];
const SAMPLES = ['souche Δ42', 'Probe µ-7', 'muestra α-3', 'lot №19', 'clone β-12'];
const NOTES = [
  'Objectif : mesurer la croissance à 37 °C — µ = 0,42 h⁻¹.',
  'Puffer vorbereitet: 50 mM Tris-HCl, pH 7,5; Lösung über Nacht gerührt.',
  'Resultado: rendimiento del 87 % tras purificación en columna Ni-NTA.',
];

function digest(id: string): Buffer {
  return createHash('sha256').update(`entry:${id}`).digest();
}

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length] as T;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function shortId(bytes: Buffer): string {
  return [...bytes].map((b) => ALPHANUM[b % ALPHANUM.length]).join('');
}

/** A field as Benchling shows one, inferring its type from a plain value. */
export function fieldFromValue(value: unknown): EntryField {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value) {
    const partial = value as Partial<EntryField>;
    const inferred = fieldFromValue(partial.value);
    return { ...inferred, ...partial } as EntryField;
  }
  const text =
    value === null || value === undefined
      ? null
      : Array.isArray(value)
        ? value.join(', ')
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  let type = 'text';
  if (typeof value === 'number') type = Number.isInteger(value) ? 'integer' : 'float';
  else if (typeof value === 'boolean') type = 'boolean';
  else if (typeof value === 'object' && value !== null && !Array.isArray(value)) type = 'json';
  return { value, displayValue: text, textValue: text, type, isMulti: Array.isArray(value) };
}

/** The entry as generated from its id alone: same id, same entry, in every run. */
export function generateEntry(id: string): EntryRecord {
  const h = digest(id);
  const name = `${pick(TOPICS, h[0]!)} — ${pick(SAMPLES, h[1]!)}`;
  const created = Date.UTC(2024, 0, 1) + (h.readUInt32LE(4) % (365 * 86_400)) * 1000;
  const modified = created + (h.readUInt32LE(8) % (30 * 86_400)) * 1000;
  return {
    id,
    revision: 1,
    name,
    displayId: `EXP${String(h.readUInt32LE(12) % 100_000_000).padStart(8, '0')}`,
    fields: {
      Name: fieldFromValue(name),
      'Température (°C)': fieldFromValue(30 + (h[16]! % 15) + 0.5),
      Opérateur: fieldFromValue(pick(SIM_USERS, h[17]!).name),
      Replicates: fieldFromValue(1 + (h[18]! % 6)),
    },
    createdAt: new Date(created).toISOString(),
    modifiedAt: new Date(modified).toISOString(),
  };
}

/** Applies an edit: bumps the revision and moves `modifiedAt` forward (strictly, even within one ms). */
export function applyEdit(rec: EntryRecord, edit: EntryEdit, now: Date = new Date()): EntryRecord {
  if (edit.name !== undefined && (typeof edit.name !== 'string' || edit.name.trim() === '')) {
    throw new PermanentError('name must be a non-empty string', { code: 'SimInvalidEdit' });
  }
  const fields = { ...rec.fields };
  if (edit.name !== undefined) fields.Name = fieldFromValue(edit.name);
  for (const [k, v] of Object.entries(edit.fields ?? {})) {
    if (v === null) delete fields[k];
    else fields[k] = fieldFromValue(v);
  }
  const previous = Date.parse(rec.modifiedAt);
  const modified = Math.max(now.getTime(), previous + 1);
  return { ...rec, revision: rec.revision + 1, name: edit.name ?? rec.name, fields, modifiedAt: new Date(modified).toISOString() };
}

/** The `Entry` resource of `GET /entries/{id}`, shaped per Benchling's OpenAPI. */
export function entryResource(rec: EntryRecord, baseUrl: string): Record<string, unknown> {
  const h = digest(rec.id);
  const creator = pick(SIM_USERS, h[20]!);
  const coAuthor = pick(SIM_USERS, h[20]! + 1);
  const folderId = `lib_${shortId(h.subarray(21, 29))}`;
  const slug =
    rec.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'entry';
  const day = rec.createdAt.slice(0, 10);
  return {
    id: rec.id,
    name: rec.name,
    displayId: rec.displayId,
    webURL: `${baseUrl}/sim/f/${folderId}-notebook/${rec.id}-${slug}/edit`,
    apiURL: `${baseUrl}/api/v2/entries/${rec.id}`,
    folderId,
    createdAt: rec.createdAt,
    modifiedAt: rec.modifiedAt,
    creator,
    authors: h[29]! % 2 === 0 ? [creator] : [creator, coAuthor],
    assignedReviewers: [],
    entryTemplateId: null,
    fields: rec.fields,
    customFields: { 'Legacy ID': { value: `STR${String(h.readUInt16LE(30)).padStart(5, '0')}` } },
    schema: { id: `ts_${shortId(h.subarray(2, 10))}`, name: 'Expérience' },
    days: [
      {
        date: day,
        title: null,
        notes: [
          { type: 'text', text: pick(NOTES, h[3]!), links: [], indentation: 0 },
          { type: 'list_bullet', text: `Échantillon ${pick(SAMPLES, h[19]!)} préparé`, links: [], indentation: 1 },
          { type: 'code', text: 'OD600 = 0.42\nµ_max = 0.71 h⁻¹', links: [], indentation: 0 },
        ],
      },
    ],
    archiveRecord: null,
    reviewRecord: h[31]! % 2 === 0 ? null : { comment: '', status: 'IN_PROGRESS', reviewChanges: [], reviewProcesses: [] },
  };
}
