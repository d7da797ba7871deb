/**
 * Every SQL text the warehouse client sends. Values are always bind parameters ($1 …); the only
 * identifiers spliced in are table names checked against a plain-identifier pattern first
 * (the configured sample table, and schema `system_name`s read from the warehouse itself).
 */

export function samplesSql(sampleTable: string): string {
  return `SELECT s.*, c.id AS "container.id", c.barcode AS "container.barcode", c.name AS "container.name",
    ro.origin_entry_id AS "origin.entry_id"
  FROM "${sampleTable}$raw" s
  LEFT JOIN container_content$raw cc ON cc.entity_id = s.id AND NOT cc.archived$
  LEFT JOIN container$raw c ON c.id = cc.container_id AND NOT c.archived$
  LEFT JOIN registration_origin$raw ro ON ro.entity_id = s.id AND NOT ro.archived$
  WHERE NOT s.archived$
    AND (s.barcode = ANY($1::text[]) OR c.barcode = ANY($1::text[]) OR s.id = ANY($2::text[]) OR s.file_registry_id$ = ANY($2::text[]))
  ORDER BY s.id`;
}

export const ENTRIES_SQL = `SELECT id, display_id, name, url FROM entry$raw WHERE id = ANY($1::text[])`;

export const ENTRY_ENTITIES_SQL = `SELECT re.id, re.name, re.file_registry_id, re.schema_id, re.project_id, re.creator_id, re.url,
    re.created_at
  FROM registration_origin$raw ro JOIN registry_entity$raw re ON re.id = ro.entity_id
  WHERE ro.origin_entry_id = $1 AND NOT ro.archived$ AND NOT re.archived$
  ORDER BY re.created_at, re.id`;

export const ENTRY_RESULTS_SQL = `SELECT id, schema_id, run_id, created_at, validation_status FROM result$raw
  WHERE entry_id = $1 AND NOT archived$ ORDER BY created_at, id`;

export function rowsByIdSql(table: string): string {
  return `SELECT * FROM "${table}$raw" WHERE id = ANY($1::text[])`;
}

/** Metadata lookups (cached): projects, users, schemas by id. */
export const METADATA_SQL = {
  project: `SELECT id, name FROM project$raw WHERE id = ANY($1::text[])`,
  user: `SELECT id, handle, name FROM "user$raw" WHERE id = ANY($1::text[])`,
  schema: `SELECT id, name, system_name FROM schema$raw WHERE id = ANY($1::text[])`,
} as const;

/** A schema table row's user fields: columns without the `$` system suffix, internal `_` prefix, or the id columns. */
export function userFields(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.endsWith('$') || k.startsWith('_') || k.includes('.') || k === 'id' || k === 'source_id') continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}
