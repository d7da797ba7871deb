import type { EntryContents, SamplesAnswer } from './types.ts';

/**
 * The package files and metadata the warehouse's answers become. Every document says where its
 * answer came from (`source`: the warehouse now, or a cached answer of a given age), so a
 * package never carries enrichment of unknown freshness.
 */

export interface PackageDocument {
  logicalKey: string;
  text: string;
  contentType: string;
}

/** `samples.json` of a run's package and the `samples` summary of its metadata. */
export function samplesDocuments(answer: SamplesAnswer): { documents: PackageDocument[]; metadata: { samples: Record<string, unknown> } } {
  const body = {
    source: answer.source,
    matched: answer.matched.map((m) => ({ ...m.match, entity: m.entity, container: m.container, entry: m.entry })),
    unmatched: answer.unmatched,
  };
  const entries = [...new Map(answer.matched.filter((m) => m.entry).map((m) => [m.entry!.id, m.entry!])).values()];
  return {
    documents: [{ logicalKey: 'samples.json', text: JSON.stringify(body, null, 2), contentType: 'application/json' }],
    metadata: {
      samples: {
        matched: answer.matched.length,
        unmatched: answer.unmatched.length,
        unmatchedKeys: answer.unmatched.slice(0, 50),
        entries: entries.map((e) => ({ id: e.id, displayId: e.displayId, webURL: e.webURL })),
        source: answer.source,
      },
    },
  };
}

/** `entities.json` and `results.json` of an entry's package and the `warehouse` summary of its metadata. */
export function entryDocuments(contents: EntryContents): {
  documents: PackageDocument[];
  metadata: { warehouse: Record<string, unknown> };
} {
  const countBy = (names: Array<string | null | undefined>) => {
    const out: Record<string, number> = {};
    for (const n of names) out[n ?? 'unknown'] = (out[n ?? 'unknown'] ?? 0) + 1;
    return out;
  };
  return {
    documents: [
      {
        logicalKey: 'entities.json',
        text: JSON.stringify({ entryId: contents.entryId, source: contents.source, entities: contents.entities }, null, 2),
        contentType: 'application/json',
      },
      {
        logicalKey: 'results.json',
        text: JSON.stringify({ entryId: contents.entryId, source: contents.source, results: contents.results }, null, 2),
        contentType: 'application/json',
      },
    ],
    metadata: {
      warehouse: {
        entities: {
          count: contents.entities.length,
          bySchema: countBy(contents.entities.map((e) => e.schema?.name)),
          registryIds: contents.entities.slice(0, 100).map((e) => e.registryId ?? e.id),
        },
        results: {
          count: contents.results.length,
          bySchema: countBy(contents.results.map((r) => r.schema?.name)),
          byValidationStatus: countBy(contents.results.map((r) => r.validationStatus)),
        },
        source: contents.source,
      },
    },
  };
}
