/**
 * Converts OpenAPI 3.0 schema objects to JSON Schema 2019-09 so ajv validates them the way
 * the spec's authors meant:
 * - `nullable: true` becomes a `null` type (or an `anyOf` with `{type:'null'}` when the schema
 *   composes others, because `type: [object, null]` would still fail the composed `$ref`);
 * - `additionalProperties: false` on an `allOf` (or inside one of its inline members) becomes
 *   `unevaluatedProperties: false` on the composition: in plain JSON Schema it would reject
 *   every property the other members declare, which OpenAPI generators do not intend;
 * - a `discriminator` with a `mapping` becomes `if type == X then $ref X`, so a block is checked
 *   against the one schema its `type` names instead of "exactly one of 13" (ajv's own
 *   discriminator support cannot see through `allOf`).
 */
type Schema = Record<string, unknown>;

const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;
const DROPPED_KEYWORDS = ['example', 'xml', 'externalDocs'];

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a map of component schemas (name → OpenAPI schema). */
export function toJsonSchema(schemas: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(schemas)) out[name] = convertSchema(s);
  return out;
}

function convertSchema(input: unknown): unknown {
  if (!isObject(input)) return input;
  const s: Schema = { ...input };
  for (const k of DROPPED_KEYWORDS) delete s[k];

  if (isObject(s.properties)) {
    const props: Schema = {};
    for (const [name, p] of Object.entries(s.properties)) props[name] = convertSchema(p);
    s.properties = props;
  }
  if (isObject(s.additionalProperties)) s.additionalProperties = convertSchema(s.additionalProperties);
  if (s.items !== undefined) s.items = Array.isArray(s.items) ? s.items.map(convertSchema) : convertSchema(s.items);
  if (s.not !== undefined) s.not = convertSchema(s.not);
  for (const k of SUBSCHEMA_LISTS) if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map(convertSchema);

  applyDiscriminator(s);
  closeComposition(s);
  return applyNullable(s);
}

function applyDiscriminator(s: Schema): void {
  const d = s.discriminator;
  delete s.discriminator;
  if (!isObject(d) || typeof d.propertyName !== 'string' || !isObject(d.mapping) || !Array.isArray(s.oneOf)) return;
  const prop = d.propertyName;
  const values = Object.keys(d.mapping);
  const branches = Object.entries(d.mapping).map(([value, target]) => ({
    if: { properties: { [prop]: { const: value } }, required: [prop] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword in a plain schema object, never awaited
    then: { $ref: normaliseRef(String(target)) },
  }));
  delete s.oneOf;
  s.required = [...new Set([...(Array.isArray(s.required) ? (s.required as string[]) : []), prop])];
  s.allOf = [...(Array.isArray(s.allOf) ? s.allOf : []), { properties: { [prop]: { enum: values } } }, ...branches];
}

/** Discriminator mappings may name a schema bare (`DnaOligo`) or by reference. */
function normaliseRef(target: string): string {
  return target.startsWith('#') ? target : `#/components/schemas/${target}`;
}

function closeComposition(s: Schema): void {
  if (!Array.isArray(s.allOf)) return;
  let closed = s.additionalProperties === false;
  for (const member of s.allOf as unknown[]) {
    if (isObject(member) && member.additionalProperties === false && member.$ref === undefined) {
      delete member.additionalProperties;
      closed = true;
    }
  }
  if (closed) {
    delete s.additionalProperties;
    s.unevaluatedProperties = false;
  }
}

function applyNullable(s: Schema): Schema {
  const nullable = s.nullable;
  delete s.nullable;
  if (nullable !== true) return s;
  const composed = s.$ref !== undefined || SUBSCHEMA_LISTS.some((k) => s[k] !== undefined);
  if (!composed && typeof s.type === 'string') {
    s.type = [s.type, 'null'];
    if (Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
    return s;
  }
  return { anyOf: [{ type: 'null' }, s] };
}
