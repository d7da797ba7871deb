import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { WarehouseStory } from '@bp/benchling-sim';

/**
 * Builds the local Benchling warehouse in a running PostgreSQL: database `warehouse`, a schema
 * named after the registry, Benchling's `$raw` tables (with their internal `_pkey`/`_sync_key`
 * columns) and the filtered views without `$raw`, filled from the simulator's story, and a
 * read-only role that may only SELECT. Returns that role's connection string.
 */

const ARCHIVE = `archived$ boolean NOT NULL DEFAULT false, archive_purpose$ text`;

/** Table name → column definitions (Benchling's columns, per docs/warehouse.md). */
const TABLES: Record<string, string> = {
  project: `id text PRIMARY KEY, name text, source_id text, created_at timestamptz, url text, ${ARCHIVE}`,
  folder:
    `id text PRIMARY KEY, name text, source_id text, parent_folder_id text, ` +
    `created_at timestamptz, modified_at timestamptz, ${ARCHIVE}`,
  user: `id text PRIMARY KEY, handle text, name text, email text, is_suspended boolean NOT NULL DEFAULT false, ${ARCHIVE}`,
  schema: `id text PRIMARY KEY, schema_type text, name text, system_name text, ${ARCHIVE}`,
  field_definition: `schema_id text, position int, name text, display_name text, type text, is_multi boolean, is_required boolean,
    ${ARCHIVE}`,
  entry:
    `id text PRIMARY KEY, display_id text, name text, source_id text, folder_id text, creator_id text, ` +
    `schema_id text, created_at timestamptz, modified_at timestamptz, review_status text, url text, ` +
    `${ARCHIVE}`,
  registry_entity:
    `id text PRIMARY KEY, name text, file_registry_id text, schema_id text, project_id text, ` +
    `folder_id text, creator_id text, created_at timestamptz, modified_at timestamptz, url text, ` +
    `type text, validation_status text, source_id text, ${ARCHIVE}`,
  sample:
    `id text PRIMARY KEY, source_id text, name$ text, file_registry_id$ text, folder_id$ text, ` +
    `project_id$ text, created_at$ timestamptz, modified_at$ timestamptz, creator_id$ text, ` +
    `schema_id$ text, url$ text, is_registered$ boolean, validation_status$ text, ${ARCHIVE}, ` +
    `barcode text, organism text, sample_type text`,
  container:
    `id text PRIMARY KEY, barcode text, name text, schema_id text, box_id text, plate_id text, ` +
    `location_id text, volume_si double precision, created_at timestamptz, source_id text, ${ARCHIVE}`,
  container_content: `container_id text, entity_id text, batch_id text, concentration_si double precision, ${ARCHIVE}`,
  registration_origin: `entity_id text, origin_entry_id text, registered_at timestamptz, ${ARCHIVE}`,
  result:
    `id text PRIMARY KEY, schema_id text, entry_id text, run_id text, ` +
    `created_at timestamptz, validation_status text, source_id text, ${ARCHIVE}`,
  sequencing_qc:
    `id text PRIMARY KEY, source_id text, schema_id$ text, entry_id$ text, run_id$ text, ` +
    `created_at$ timestamptz, modified_at$ timestamptz, creator_id$ text, validation_status$ text, ` +
    `${ARCHIVE}, sample text, read_count bigint, q30_percent double precision`,
};

/** Result tables' views also hide rows that are not valid. */
const VALIDITY: Record<string, string> = { result: 'validation_status', sequencing_qc: 'validation_status$' };

export const WAREHOUSE_READER = 'warehouse_reader';

export async function seedWarehouse(
  adminUrl: string,
  story: WarehouseStory,
): Promise<{ readerUrl: string; readerPassword: string; schema: string; database: string }> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const readerPassword = randomBytes(18).toString('base64url');
  try {
    await admin.query('DROP DATABASE IF EXISTS warehouse');
    await admin.query('CREATE DATABASE warehouse');
    await admin.query(`DROP ROLE IF EXISTS ${WAREHOUSE_READER}`);
    // The literal cannot be a bind parameter in CREATE ROLE; the password is our own base64url.
    await admin.query(`CREATE ROLE ${WAREHOUSE_READER} LOGIN PASSWORD '${readerPassword}'`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = '/warehouse';
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  const schema = story.registry;
  try {
    await db.query('BEGIN');
    await db.query(`REVOKE ALL ON DATABASE warehouse FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`SET search_path = ${schema}`);
    for (const [name, cols] of Object.entries(TABLES)) {
      await db.query(`CREATE TABLE "${name}$raw" (${cols})`);
      const visible = cols
        .split(',')
        .map((c) => c.trim().split(' ')[0]!)
        .filter((c) => !c.startsWith('_'))
        .map((c) => `"${c}"`);
      const valid = VALIDITY[name] ? ` AND "${VALIDITY[name]}" = 'VALID'` : '';
      await db.query(`CREATE VIEW "${name}" AS SELECT ${visible.join(', ')} FROM "${name}$raw" WHERE NOT archived$${valid}`);
    }
    await insertStory(db, story);
    await db.query(`GRANT CONNECT ON DATABASE warehouse TO ${WAREHOUSE_READER}`);
    await db.query(`GRANT USAGE ON SCHEMA ${schema} TO ${WAREHOUSE_READER}`);
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${WAREHOUSE_READER}`);
    await db.query(`ALTER ROLE ${WAREHOUSE_READER} SET search_path = ${schema}`);
    await db.query(`ALTER ROLE ${WAREHOUSE_READER} SET default_transaction_read_only = on`);
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
  const reader = new URL(url.toString());
  reader.username = WAREHOUSE_READER;
  reader.password = readerPassword;
  return { readerUrl: reader.toString(), readerPassword, schema, database: 'warehouse' };
}

async function insert(db: pg.Client, table: string, row: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(row);
  await db.query(
    `INSERT INTO "${table}$raw" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
    Object.values(row),
  );
}

async function insertStory(db: pg.Client, s: WarehouseStory): Promise<void> {
  for (const p of s.projects) await insert(db, 'project', { id: p.id, name: p.name, source_id: p.id, created_at: p.createdAt, url: p.url });
  for (const u of s.users) await insert(db, 'user', { id: u.id, handle: u.handle, name: u.name, email: u.email });
  await insert(db, 'schema', { id: s.entrySchemaId, schema_type: 'entry', name: 'Expérience', system_name: 'experience' });
  await insert(db, 'schema', {
    id: s.sampleSchema.id,
    schema_type: 'entity',
    name: s.sampleSchema.name,
    system_name: s.sampleSchema.systemName,
  });
  await insert(db, 'schema', { id: s.qcSchema.id, schema_type: 'result', name: s.qcSchema.name, system_name: s.qcSchema.systemName });
  const fields: Array<[string, number, string, string, string]> = [
    [s.sampleSchema.id, 1, 'barcode', 'Barcode', 'text'],
    [s.sampleSchema.id, 2, 'organism', 'Organism', 'text'],
    [s.sampleSchema.id, 3, 'sample_type', 'Sample type', 'dropdown'],
    [s.qcSchema.id, 1, 'sample', 'Sample', 'entity_link'],
    [s.qcSchema.id, 2, 'read_count', 'Read count', 'integer'],
    [s.qcSchema.id, 3, 'q30_percent', 'Q30 %', 'float'],
  ];
  for (const [schemaId, position, name, display, type] of fields)
    await insert(db, 'field_definition', {
      schema_id: schemaId,
      position,
      name,
      display_name: display,
      type,
      is_multi: false,
      is_required: position === 1,
    });
  for (const e of s.entries) {
    await insert(db, 'folder', {
      id: e.folderId,
      name: `${e.displayId} notebook`,
      source_id: e.projectId,
      created_at: e.createdAt,
      modified_at: e.createdAt,
    });
    await insert(db, 'entry', {
      id: e.id,
      display_id: e.displayId,
      name: e.name,
      source_id: e.projectId,
      folder_id: e.folderId,
      creator_id: e.creatorId,
      schema_id: e.schemaId,
      created_at: e.createdAt,
      modified_at: e.modifiedAt,
      review_status: e.reviewStatus,
      url: e.url,
    });
  }
  for (const x of s.samples) {
    const archive = { archived$: x.archived, archive_purpose$: x.archived ? 'Made in error' : null };
    await insert(db, 'registry_entity', {
      id: x.id,
      name: x.name,
      file_registry_id: x.registryId,
      schema_id: s.sampleSchema.id,
      project_id: x.projectId,
      folder_id: x.folderId,
      creator_id: x.creatorId,
      created_at: x.createdAt,
      modified_at: x.createdAt,
      url: x.url,
      type: 'custom_entity',
      validation_status: 'VALID',
      source_id: x.projectId,
      ...archive,
    });
    await insert(db, 'sample', {
      id: x.id,
      source_id: x.projectId,
      name$: x.name,
      file_registry_id$: x.registryId,
      folder_id$: x.folderId,
      project_id$: x.projectId,
      created_at$: x.createdAt,
      modified_at$: x.createdAt,
      creator_id$: x.creatorId,
      schema_id$: s.sampleSchema.id,
      url$: x.url,
      is_registered$: true,
      validation_status$: 'VALID',
      ...archive,
      barcode: x.barcode,
      organism: x.organism,
      sample_type: x.sampleType,
    });
    await insert(db, 'container', {
      id: x.container.id,
      barcode: x.container.barcode,
      name: x.container.name,
      volume_si: x.container.volumeLitres,
      created_at: x.createdAt,
      source_id: x.projectId,
    });
    await insert(db, 'container_content', { container_id: x.container.id, entity_id: x.id, concentration_si: 0.05 });
    await insert(db, 'registration_origin', { entity_id: x.id, origin_entry_id: x.entryId, registered_at: x.createdAt });
  }
  for (const r of s.results) {
    const entry = s.entries.find((e) => e.id === r.entryId)!;
    await insert(db, 'result', {
      id: r.id,
      schema_id: s.qcSchema.id,
      entry_id: r.entryId,
      created_at: r.createdAt,
      validation_status: r.validationStatus,
      source_id: entry.projectId,
    });
    await insert(db, 'sequencing_qc', {
      id: r.id,
      source_id: entry.projectId,
      schema_id$: s.qcSchema.id,
      entry_id$: r.entryId,
      created_at$: r.createdAt,
      modified_at$: r.createdAt,
      creator_id$: entry.creatorId,
      validation_status$: r.validationStatus,
      sample: r.sampleId,
      read_count: r.readCount,
      q30_percent: r.q30Percent,
    });
  }
}
