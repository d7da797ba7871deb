/**
 * Logical keys the packager writes itself at the root of a package, beside the files of an export.
 * This is the one list: every metadata writer names its files from here, and the transfer moves an
 * export's file out of the way of any of them (see `exportLogicalKey`), so the export's file and
 * ours never share a logical key or an S3 object, and neither overwrites the other.
 */

/** What an entry package carries besides the export (`README.md` is the one the catalog shows). */
export const ENTRY_METADATA_KEYS = {
  entry: 'entry.json',
  input: 'input.json',
  readme: 'README.md',
  entities: 'entities.json',
  results: 'results.json',
} as const;

/** What a sequencing run's package carries besides the partner's files. */
export const RUN_METADATA_KEYS = {
  run: 'run.json',
  qc: 'qc.json',
  samples: 'samples.json',
} as const;

/** Every reserved root name, for entry and run packages alike. */
export const RESERVED_METADATA_KEYS: readonly string[] = Object.freeze([
  ...Object.values(ENTRY_METADATA_KEYS),
  ...Object.values(RUN_METADATA_KEYS),
]);

/** Inserted before a reserved name's extension: `README.md` from an export is kept as `README.export.md`. */
export const EXPORT_MARKER = '.export';

/** ASCII-only lower case: Unicode case mapping would let e.g. the Kelvin sign stand in for `k`. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Each reserved name as stem + extension (`README` + `.md`), lower-cased for matching. */
const RESERVED_PARTS = RESERVED_METADATA_KEYS.map((k) => {
  const dot = k.lastIndexOf('.');
  return { stem: asciiLower(k.slice(0, dot)), ext: asciiLower(k.slice(dot)) };
});

/** True when `segment` (one path segment) is a reserved name, ignoring ASCII case. */
export function isReservedMetadataKey(segment: string): boolean {
  return RESERVED_METADATA_KEYS.some((k) => asciiLower(k) === asciiLower(segment));
}

/**
 * Where an export's file goes in the package. The first path segment is renamed when it is a
 * reserved name, or a reserved name with one or more `.export` markers before its extension,
 * ignoring ASCII case: one more marker goes after the stem (`README.md` → `README.export.md`,
 * `Readme.export.md` → `Readme.export.export.md`, a folder `entry.json/x` → `entry.export.json/x`).
 * Everything else is unchanged. The mapping is injective (dropping the inserted marker gives the
 * original back, and no unchanged key looks like a reserved name), so two export files never meet,
 * and no export key equals a reserved one, in any case, so neither S3 nor a case-insensitive disk
 * puts the export's file where ours is.
 */
export function exportLogicalKey(logicalKey: string): string {
  const slash = logicalKey.indexOf('/');
  const first = slash === -1 ? logicalKey : logicalKey.slice(0, slash);
  const rest = slash === -1 ? '' : logicalKey.slice(slash);
  const lower = asciiLower(first);
  for (const { stem, ext } of RESERVED_PARTS) {
    if (!lower.startsWith(stem) || !lower.endsWith(ext)) continue;
    const middle = lower.slice(stem.length, lower.length - ext.length);
    if (middle.length > 0 && !/^(\.export)+$/.test(middle)) continue;
    return `${first.slice(0, stem.length)}${EXPORT_MARKER}${first.slice(stem.length)}${rest}`;
  }
  return logicalKey;
}
