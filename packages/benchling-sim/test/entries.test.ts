import { expect } from 'chai';
import { startSimulator } from '../src/index.ts';
import { authedClient, type JsonBody, useSimulator } from './helpers.ts';

describe('simulated entries', function () {
  this.timeout(30_000);
  const suite = useSimulator();

  const edit = async (id: string, body: unknown) => {
    const res = await fetch(`${suite.sim.url}/_sim/entries/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as JsonBody };
  };

  it('serves any entry id, generated the same way by every simulator', async () => {
    const other = await startSimulator();
    try {
      const otherCall = await authedClient(other);
      const a = (await suite.call('GET', '/entries/etr_Same123')).body.entry;
      const b = (await otherCall('GET', '/entries/etr_Same123')).body.entry;
      const { webURL: _w1, apiURL: _a1, ...restA } = a;
      const { webURL: _w2, apiURL: _a2, ...restB } = b;
      expect(restA).to.deep.equal(restB);
    } finally {
      await other.close();
    }
  });

  it('gives each id its own name and an EXP display id of 8 digits, with non-ASCII text', async () => {
    const ids = ['etr_a1', 'etr_b2', 'etr_c3', 'etr_d4'];
    const entries = await Promise.all(ids.map(async (id) => (await suite.call('GET', `/entries/${id}`)).body.entry));
    for (const [i, e] of entries.entries()) {
      expect(e.id).to.equal(ids[i]);
      expect(e.displayId).to.match(/^EXP\d{8}$/);
      expect(e.webURL.startsWith(`${suite.sim.url}/`)).to.equal(true);
      expect(e.apiURL).to.equal(`${suite.sim.url}/api/v2/entries/${ids[i]}`);
      expect(e.fields.Name).to.include({ value: e.name, displayValue: e.name, type: 'text', isMulti: false });
      expect(e.creator).to.have.keys('id', 'name', 'handle');
      expect(e.days[0].notes).to.have.length.above(0);
      expect(e.archiveRecord).to.equal(null);
      expect(JSON.stringify(e)).to.match(/\P{ASCII}/u);
    }
    expect(new Set(entries.map((e) => e.displayId)).size).to.equal(ids.length);
  });

  it('answers 404 with an invalidId for etr_missing… ids', async () => {
    const r = await suite.call('GET', '/entries/etr_missing42');
    expect(r.status).to.equal(404);
    expect(r.body.error).to.include({ type: 'invalid_request_error', invalidId: 'etr_missing42' });
  });

  it('applies edits from POST /_sim/entries/{id}: new name and fields, later modifiedAt, next revision', async () => {
    const before = (await suite.call('GET', '/entries/etr_edit1')).body.entry;
    const r1 = await edit('etr_edit1', { name: 'Renamed — été', fields: { pH: 7.4, Opérateur: null } });
    expect(r1.status).to.equal(200);
    expect(r1.body.revision).to.equal(2);
    const after = (await suite.call('GET', '/entries/etr_edit1')).body.entry;
    expect(after.name).to.equal('Renamed — été');
    expect(after.fields.Name.value).to.equal('Renamed — été');
    expect(after.fields.pH).to.include({ value: 7.4, type: 'float', isMulti: false });
    expect(after.fields).to.not.have.property('Opérateur');
    expect(Date.parse(after.modifiedAt)).to.be.above(Date.parse(before.modifiedAt));
    expect(after.createdAt).to.equal(before.createdAt);

    const r2 = await edit('etr_edit1', { fields: { pH: 7.5 } });
    expect(r2.body.revision).to.equal(3);
    expect(Date.parse(r2.body.entry.modifiedAt)).to.be.above(Date.parse(after.modifiedAt));
    expect(suite.sim.state.entries.get('etr_edit1')?.revision).to.equal(3);
  });

  it('refuses malformed edits and edits of missing entries', async () => {
    expect((await edit('etr_edit2', { nom: 'x' })).status).to.equal(400);
    expect((await edit('etr_edit2', { name: '' })).status).to.equal(400);
    expect((await edit('etr_missing_e', { name: 'x' })).status).to.equal(404);
  });
});
