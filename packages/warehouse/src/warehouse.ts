import pRetry, { AbortError } from 'p-retry';
import type pg from 'pg';
import type { Logger } from '@bp/shared';
import { AgedCache } from './cache.ts';
import { isIdentifier } from './config.ts';
import { failureKind, type FailureKind, lookupError } from './failures.ts';
import { ENTRIES_SQL, ENTRY_ENTITIES_SQL, ENTRY_RESULTS_SQL, METADATA_SQL, rowsByIdSql, samplesSql, userFields } from './queries.ts';
import type { AnswerSource, EntityRecord, EntryContents, EntryRef, ResultRecord, SampleKey, SampleMatch, SamplesAnswer } from './types.ts';

type Row = Record<string, unknown>;
type Meta = { id: string; name: string | null; handle?: string | null; system_name?: string | null };

export interface WarehouseOptions {
  pool: pg.Pool;
  logger: Logger;
  /** The entity-schema table a run's samples live in. Default `sample`. */
  sampleTable?: string;
  /** Called once per failure the job sees, by kind (access denied feeds the DBA alarm). */
  onFailure?: (kind: FailureKind) => void;
  /** How long projects, users and schemas are cached. Default 5 minutes. */
  metadataTtlMs?: number;
  /** How old a cached sample/entry answer may be to stand in for an unreachable warehouse. Default 5 minutes. */
  fallbackMaxAgeMs?: number;
  /** Retries of a connection failure (then the fallback): default 3, backing off from `retryMinMs` (default 500 ms). */
  retries?: number;
  retryMinMs?: number;
  now?: () => number;
}

/**
 * The warehouse lookups the fleet makes, over one pooled, read-only connection. Metadata
 * (projects, users, schemas) is cached for 5 minutes; sample details and entry contents are read
 * fresh every time and kept only as a fallback for when the warehouse cannot be reached. A
 * connection failure is retried with backoff, then answered from that fallback when it is young
 * enough, else it is the job's transient failure; access denied and query timeouts are final.
 */
export class Warehouse {
  private readonly meta: AgedCache<Meta | null>;
  private readonly fallback: AgedCache<unknown>;
  private readonly now: () => number;
  private readonly sampleTable: string;

  constructor(private readonly o: WarehouseOptions) {
    this.now = o.now ?? Date.now;
    this.meta = new AgedCache({ now: this.now, maxEntries: 20_000 });
    this.fallback = new AgedCache({ now: this.now, maxEntries: 2000 });
    this.sampleTable = o.sampleTable ?? 'sample';
    if (!isIdentifier(this.sampleTable)) throw new Error(`sample table must be a plain identifier, got "${this.sampleTable}"`);
  }

  /** The Benchling entities behind a run's sample barcodes and ids, with the entries they were registered in. */
  async samplesFor(q: { barcodes?: string[]; ids?: string[] }): Promise<SamplesAnswer> {
    const barcodes = [...new Set((q.barcodes ?? []).filter((b) => typeof b === 'string' && b !== ''))].sort();
    const ids = [...new Set((q.ids ?? []).filter((b) => typeof b === 'string' && b !== ''))].sort();
    if (barcodes.length === 0 && ids.length === 0)
      return { matched: [], unmatched: [], source: { from: 'warehouse', at: new Date(this.now()).toISOString() } };
    const key = `samples:${JSON.stringify([barcodes, ids])}`;
    return this.withFallback('samples by barcode/id', key, async () => {
      const rows = await this.query('samples by barcode/id', samplesSql(this.sampleTable), [barcodes, ids]);
      const entryIds = [...new Set(rows.map((r) => r['origin.entry_id']).filter((v): v is string => typeof v === 'string'))];
      const entryRows = entryIds.length ? await this.query('entries of samples', ENTRIES_SQL, [entryIds]) : [];
      const entries = new Map<string, EntryRef>(
        entryRows.map((e) => [String(e.id), { id: String(e.id), displayId: str(e.display_id), name: str(e.name), webURL: str(e.url) }]),
      );
      const matched: SampleMatch[] = [];
      const found = new Set<string>();
      for (const row of rows) {
        const entity = await this.entityFromSchemaRow(row);
        const containerBarcode = str(row['container.barcode']);
        const keys: SampleKey[] = [
          ...barcodes.filter((b) => b === row.barcode || b === containerBarcode).map((value) => ({ by: 'barcode' as const, value })),
          ...ids.filter((i) => i === row.id || i === row.file_registry_id$).map((value) => ({ by: 'id' as const, value })),
        ];
        const originId = str(row['origin.entry_id']);
        for (const match of keys) {
          found.add(`${match.by}:${match.value}`);
          matched.push({
            match,
            entity,
            container: row['container.id']
              ? { id: String(row['container.id']), barcode: containerBarcode, name: str(row['container.name']) }
              : null,
            entry: originId ? (entries.get(originId) ?? { id: originId, displayId: null, name: null, webURL: null }) : null,
          });
        }
      }
      const unmatched: SampleKey[] = [
        ...barcodes.filter((value) => !found.has(`barcode:${value}`)).map((value) => ({ by: 'barcode' as const, value })),
        ...ids.filter((value) => !found.has(`id:${value}`)).map((value) => ({ by: 'id' as const, value })),
      ];
      return { matched, unmatched };
    });
  }

  /** The entities registered in an entry and the result rows recorded in it. */
  async entryContents(entryId: string): Promise<EntryContents> {
    const answer = await this.withFallback('entry contents', `entry:${entryId}`, async () => {
      const entityRows = await this.query('entities registered in the entry', ENTRY_ENTITIES_SQL, [entryId]);
      const resultRows = await this.query('results recorded in the entry', ENTRY_RESULTS_SQL, [entryId]);
      const entityFields = await this.fieldsBySchema("fields of the entry's entities", entityRows);
      const resultFields = await this.fieldsBySchema("fields of the entry's results", resultRows);
      const entities: EntityRecord[] = [];
      for (const r of entityRows) {
        entities.push({
          id: String(r.id),
          name: str(r.name),
          registryId: str(r.file_registry_id),
          schema: await this.metaRef('schema', r.schema_id),
          project: await this.metaRef('project', r.project_id),
          creator: await this.userRef(r.creator_id),
          webURL: str(r.url),
          createdAt: iso(r.created_at),
          fields: entityFields.get(String(r.id)) ?? {},
        });
      }
      const results: ResultRecord[] = [];
      for (const r of resultRows) {
        results.push({
          id: String(r.id),
          schema: await this.metaRef('schema', r.schema_id),
          runId: str(r.run_id),
          createdAt: iso(r.created_at),
          validationStatus: str(r.validation_status),
          fields: resultFields.get(String(r.id)) ?? {},
        });
      }
      return { entities, results };
    });
    return { entryId, ...answer };
  }

  /** Readiness: `SELECT 1` answered within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to SELECT 1 within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.o.pool.query('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `read`, remembering its answer; when the warehouse cannot be reached, answers from that memory if young enough. */
  private async withFallback<T extends object>(lookup: string, key: string, read: () => Promise<T>): Promise<T & { source: AnswerSource }> {
    try {
      const value = await read();
      this.fallback.set(key, value);
      return { ...value, source: { from: 'warehouse', at: new Date(this.now()).toISOString() } };
    } catch (err) {
      const kind = (err as { warehouseKind?: FailureKind }).warehouseKind ?? failureKind(err);
      if (kind === 'connection') {
        const cached = this.fallback.get(key, this.o.fallbackMaxAgeMs ?? 300_000);
        if (cached) {
          this.o.logger.warn('warehouse unreachable; answering from cache', {
            lookup,
            ageSeconds: Math.round(cached.ageMs / 1000),
            error: (err as Error).message,
          });
          return { ...(cached.value as T), source: { from: 'cache', ageSeconds: Math.round(cached.ageMs / 1000) } };
        }
      }
      this.o.onFailure?.(kind);
      if (kind === 'access_denied')
        this.o.logger.error('the warehouse refused access: requires DBA intervention', { lookup, error: (err as Error).message });
      throw (err as { warehouseKind?: FailureKind }).warehouseKind ? err : lookupError(lookup, err, kind);
    }
  }

  /** One parameterised query; connection failures retried with backoff, anything else thrown at once. */
  private async query(lookup: string, text: string, values: unknown[]): Promise<Row[]> {
    try {
      const res = await pRetry(
        async () => {
          try {
            return await this.o.pool.query(text, values);
          } catch (err) {
            if (failureKind(err) !== 'connection') throw new AbortError(err as Error);
            throw err;
          }
        },
        {
          retries: this.o.retries ?? 3,
          minTimeout: this.o.retryMinMs ?? 500,
          factor: 2,
          randomize: true,
          onFailedAttempt: ({ error, attemptNumber }) => {
            this.o.logger.warn('warehouse connection failed; retrying', { lookup, attempt: attemptNumber, error: error.message });
          },
        },
      );
      return res.rows as Row[];
    } catch (err) {
      const kind = failureKind(err);
      throw Object.assign(lookupError(lookup, err, kind), { warehouseKind: kind });
    }
  }

  /** User fields of each row's schema table, by row id (schemas found through their `system_name`). */
  private async fieldsBySchema(lookup: string, rows: Row[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const bySchema = new Map<string, string[]>();
    for (const r of rows)
      if (typeof r.schema_id === 'string') bySchema.set(r.schema_id, [...(bySchema.get(r.schema_id) ?? []), String(r.id)]);
    for (const [schemaId, ids] of bySchema) {
      const table = (await this.metadata('schema', schemaId))?.system_name;
      // A system name that is not a plain identifier is never spliced into SQL: its fields are left out.
      if (!table || !isIdentifier(table)) continue;
      for (const row of await this.query(lookup, rowsByIdSql(table), [ids])) out.set(String(row.id), userFields(row));
    }
    return out;
  }

  private async entityFromSchemaRow(row: Row): Promise<EntityRecord> {
    return {
      id: String(row.id),
      name: str(row.name$),
      registryId: str(row.file_registry_id$),
      schema: await this.metaRef('schema', row.schema_id$),
      project: await this.metaRef('project', row.project_id$),
      creator: await this.userRef(row.creator_id$),
      webURL: str(row.url$),
      createdAt: iso(row.created_at$),
      fields: userFields(row),
    };
  }

  private async metaRef(kind: 'schema' | 'project', id: unknown): Promise<{ id: string; name: string | null } | null> {
    if (typeof id !== 'string') return null;
    const m = await this.metadata(kind, id);
    return { id, name: m?.name ?? null };
  }

  private async userRef(id: unknown): Promise<EntityRecord['creator']> {
    if (typeof id !== 'string') return null;
    const m = await this.metadata('user', id);
    return { id, handle: m?.handle ?? null, name: m?.name ?? null };
  }

  /** A project, user or schema by id, cached for the metadata TTL (misses too, so an unknown id costs one query per TTL). */
  private async metadata(kind: keyof typeof METADATA_SQL, id: string): Promise<Meta | null> {
    const key = `${kind}:${id}`;
    const hit = this.meta.get(key, this.o.metadataTtlMs ?? 300_000);
    if (hit) return hit.value;
    const rows = await this.query(`${kind} metadata`, METADATA_SQL[kind], [[id]]);
    const m = (rows[0] as Meta | undefined) ?? null;
    this.meta.set(key, m);
    return m;
  }
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function iso(v: unknown): string | null {
  return v instanceof Date ? v.toISOString() : str(v);
}
