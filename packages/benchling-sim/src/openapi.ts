import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { PermanentError } from '@bp/shared/errors';
import { toJsonSchema } from './openapi-schema.ts';

// ajv-formats is CommonJS; depending on the loader its function arrives as the module or under `default`.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Where Benchling's published OpenAPI file is looked for, first match wins: a copy inside this
 * package (for CI checkouts) and the team's shared reference folder beside the checkout.
 */
export const OPENAPI_CANDIDATE_PATHS: readonly string[] = [
  path.resolve(here, '../spec/openapi-v2.yaml'),
  path.resolve(here, '../../../../shared/benchling/openapi-v2.yaml'),
];

const SCHEMA_ID = 'benchling-openapi-v2';
// Formats used by Benchling's spec that ajv-formats does not define; accepted as annotations.
const LENIENT_FORMATS = ['bytes', 'datetime', 'float', 'isoformat'];

/** Compiled validators over one parse of the OpenAPI file. */
export interface OpenApiValidator {
  /** Path of the OpenAPI file the validators were built from. */
  specPath: string;
  /** Names of every component schema, e.g. `Entry`, `AppCanvasCreate`. */
  schemaNames: string[];
  /** Problems of `value` against `#/components/schemas/<schemaName>`, empty when it conforms. */
  errorsFor(schemaName: string, value: unknown): string[];
}

let cached: { specPath: string; validator: OpenApiValidator } | undefined;

/** Finds the OpenAPI file among `OPENAPI_CANDIDATE_PATHS`, or throws naming where it looked. */
export function findOpenApiSpec(candidates: readonly string[] = OPENAPI_CANDIDATE_PATHS): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new PermanentError(`Benchling OpenAPI file not found; looked in ${candidates.join(', ')}`, { code: 'OpenApiSpecMissing' });
  }
  return found;
}

/**
 * Parses the 1.1 MB spec once per process (and per path) and returns validators for its
 * component schemas, converted from OpenAPI 3.0 to JSON Schema 2019-09.
 */
export function loadOpenApi(specPath: string = findOpenApiSpec()): OpenApiValidator {
  if (cached?.specPath === specPath) return cached.validator;
  const doc = parseYaml(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 }) as { components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (!schemas) throw new PermanentError(`${specPath} has no components.schemas`, { code: 'OpenApiSpecInvalid' });

  const converted = toJsonSchema(schemas) as Record<string, unknown>;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  for (const f of LENIENT_FORMATS) ajv.addFormat(f, true);
  ajv.addSchema({ $id: SCHEMA_ID, components: { schemas: converted } });

  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (name: string): ValidateFunction => {
    let fn = compiled.get(name);
    if (!fn) {
      if (!(name in schemas))
        throw new PermanentError(`no component schema named ${name} in the Benchling OpenAPI`, { code: 'OpenApiUnknownSchema' });
      fn = ajv.compile({ $ref: `${SCHEMA_ID}#/components/schemas/${name}` });
      compiled.set(name, fn);
    }
    return fn;
  };

  const validator: OpenApiValidator = {
    specPath,
    schemaNames: Object.keys(schemas),
    errorsFor(schemaName, value) {
      const fn = validatorFor(schemaName);
      if (fn(value)) return [];
      return (fn.errors ?? []).map(
        (e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
    },
  };
  cached = { specPath, validator };
  return validator;
}

/**
 * Checks `value` against Benchling's component schema `schemaName` and throws a
 * `PermanentError` (code `OpenApiMismatch`) listing every problem when it does not conform.
 */
export function validateAgainstOpenApi(schemaName: string, value: unknown): void {
  const errors = loadOpenApi().errorsFor(schemaName, value);
  if (errors.length > 0) {
    throw new PermanentError(`value does not match Benchling schema ${schemaName}:\n  ${errors.join('\n  ')}`, {
      code: 'OpenApiMismatch',
      details: { schemaName, errors },
    });
  }
}
