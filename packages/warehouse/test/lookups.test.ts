import { expect } from 'chai';
import { enrichRun, entryDocuments, samplesDocuments } from '../src/index.ts';
import { openClient, useLocalWarehouse } from './support.ts';

describe('warehouse lookups against the local PostgreSQL warehouse', function () {
  this.timeout(60_000);
  const suite = useLocalWarehouse();

  it('names the entity and the entry each seeded barcode belongs to, and reports unknown barcodes as unmatched', async () => {
    const { w } = suite;
    const { warehouse, close } = await openClient(w);
    try {
      const live = w.story.samples.filter((s) => !s.archived);
      const [a, b] = live;
      const other = live.find((s) => s.entryId !== a!.entryId)!;
      const archived = w.story.samples.find((s) => s.archived)!;
      const answer = await warehouse.samplesFor({
        barcodes: [a!.barcode, other.container.barcode, 'BC-NOPE00', archived.barcode],
        ids: [b!.registryId, 'bfi_unknown'],
      });
      expect(answer.source.from).to.equal('warehouse');
      const byValue = new Map(answer.matched.map((m) => [m.match.value, m]));
      for (const [value, sample] of [
        [a!.barcode, a!],
        [other.container.barcode, other],
        [b!.registryId, b!],
      ] as const) {
        const m = byValue.get(value);
        expect(m, value).to.exist;
        const entry = w.story.entries.find((e) => e.id === sample.entryId)!;
        expect(m!.entity).to.include({ id: sample.id, name: sample.name, registryId: sample.registryId, webURL: sample.url });
        expect(m!.entity.schema).to.deep.equal({ id: w.story.sampleSchema.id, name: 'Sample' });
        expect(m!.entity.project?.name).to.equal(w.story.projects.find((p) => p.id === sample.projectId)!.name);
        expect(m!.entity.fields).to.deep.equal({ barcode: sample.barcode, organism: sample.organism, sample_type: sample.sampleType });
        expect(m!.container).to.deep.equal({ id: sample.container.id, barcode: sample.container.barcode, name: sample.container.name });
        expect(m!.entry).to.deep.equal({ id: entry.id, displayId: entry.displayId, name: entry.name, webURL: entry.url });
      }
      expect(answer.unmatched).to.have.deep.members([
        { by: 'barcode', value: 'BC-NOPE00' },
        { by: 'barcode', value: archived.barcode },
        { by: 'id', value: 'bfi_unknown' },
      ]);
      const { documents, metadata } = samplesDocuments(answer);
      const json = JSON.parse(documents[0]!.text);
      expect(documents[0]!.logicalKey).to.equal('samples.json');
      expect(json.matched).to.have.length(3);
      expect(json.unmatched).to.have.length(3);
      expect(metadata.samples).to.include({ matched: 3, unmatched: 3 });
    } finally {
      await close();
    }
  });

  it("lists an entry's registered entities and the results recorded in it", async () => {
    const { w } = suite;
    const { warehouse, close } = await openClient(w);
    try {
      const entry = w.story.entries[2]!; // the third entry has an archived sample, which must not appear
      const samples = w.story.samples.filter((s) => s.entryId === entry.id && !s.archived);
      const results = w.story.results.filter((r) => r.entryId === entry.id);
      expect(samples.length).to.be.greaterThan(0);
      const contents = await warehouse.entryContents(entry.id);
      expect(contents.entities.map((e) => e.id)).to.have.members(samples.map((s) => s.id));
      const first = contents.entities.find((e) => e.id === samples[0]!.id)!;
      expect(first.fields).to.deep.equal({
        barcode: samples[0]!.barcode,
        organism: samples[0]!.organism,
        sample_type: samples[0]!.sampleType,
      });
      expect(first.creator?.handle).to.be.a('string');
      expect(contents.results.map((r) => r.id)).to.have.members(results.map((r) => r.id));
      for (const r of results) {
        const got = contents.results.find((x) => x.id === r.id)!;
        expect(got.schema).to.deep.equal({ id: w.story.qcSchema.id, name: 'Sequencing QC' });
        expect(got.validationStatus).to.equal(r.validationStatus);
        expect(got.fields).to.deep.equal({ sample: r.sampleId, read_count: String(r.readCount), q30_percent: r.q30Percent });
      }
      const docs = entryDocuments(contents);
      expect(docs.documents.map((d) => d.logicalKey)).to.deep.equal(['entities.json', 'results.json']);
      expect(docs.metadata.warehouse).to.deep.include({
        entities: { count: samples.length, bySchema: { Sample: samples.length }, registryIds: contents.entities.map((e) => e.registryId) },
      });
      expect(await warehouse.entryContents('etr_not_in_warehouse')).to.deep.include({ entities: [], results: [] });
    } finally {
      await close();
    }
  });

  it("turns a partner run's samples into samples.json, its metadata summary and the entries to link, unknown ones unmatched", async () => {
    const { w } = suite;
    const { warehouse, close } = await openClient(w);
    try {
      const live = w.story.samples.filter((s) => !s.archived);
      const a = live[0]!;
      const b = live.find((s) => s.entryId !== a.entryId)!;
      const run = await enrichRun(warehouse, [{ barcode: a.barcode }, { id: b.id }, { barcode: 'BC-UNKNOWN' }]);
      expect(run.documents.map((d) => d.logicalKey)).to.deep.equal(['samples.json']);
      const json = JSON.parse(run.documents[0]!.text);
      expect(json.matched.map((m: { entity: { id: string }; entry: { id: string } }) => [m.entity.id, m.entry.id])).to.have.deep.members([
        [a.id, a.entryId],
        [b.id, b.entryId],
      ]);
      expect(json.unmatched).to.deep.equal([{ by: 'barcode', value: 'BC-UNKNOWN' }]);
      expect(run.linkedEntries.map((e) => e.id)).to.have.members([a.entryId, b.entryId]);
      expect(run.metadata.samples).to.include({ matched: 2, unmatched: 1 });
      expect(await enrichRun(undefined, [{ barcode: a.barcode }])).to.deep.equal({ documents: [], metadata: {}, linkedEntries: [] });
    } finally {
      await close();
    }
  });
});
