import { expect } from 'chai';
import type { AwsClients } from '../../src/index.ts';
import { InstallationStore, MAX_EVENTS } from '../../src/executions/index.ts';
import { ManualClock, localTables } from './fixtures.ts';

describe('installation store: lifecycle state per installation', () => {
  let aws: AwsClients;
  let tableName: string;
  let store: InstallationStore;
  let n = 0;
  let appId: string;
  const tenantId = 'ten_test';
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

  before(async () => {
    const t = await localTables('installs');
    aws = t.aws;
    tableName = t.names.installationsTable;
  });
  after(() => aws.destroy());
  beforeEach(() => {
    store = new InstallationStore({ doc: aws.doc, tableName, clock: new ManualClock().now });
    appId = `app_${++n}`;
  });

  it('follows install, activation and deactivation with their times and the app version', async () => {
    await store.recordLifecycle({
      tenantId,
      appId,
      type: 'v2.app.installed',
      at: at(1),
      appDefinitionId: 'appdef_1',
      versionNumber: '0.4.0',
    });
    await store.recordLifecycle({ tenantId, appId, type: 'v2.app.activateRequested', at: at(2) });
    const { record, applied } = await store.recordLifecycle({ tenantId, appId, type: 'v2.app.deactivated', at: at(3) });
    expect(applied).to.equal(true);
    expect(record).to.include({
      state: 'deactivated',
      stateAt: at(3),
      installedAt: at(1),
      activatedAt: at(2),
      deactivatedAt: at(3),
      appDefinitionId: 'appdef_1',
      versionNumber: '0.4.0',
    });
    expect(record.events.map((e) => e.type)).to.deep.equal(['v2.app.installed', 'v2.app.activateRequested', 'v2.app.deactivated']);
    expect(await store.get(tenantId, appId)).to.deep.equal(record);
  });

  it('keeps the newest state when an older lifecycle event arrives late, and still lists it', async () => {
    await store.recordLifecycle({ tenantId, appId, type: 'v2.app.deactivated', at: at(5) });
    const late = await store.recordLifecycle({ tenantId, appId, type: 'v2.app.activateRequested', at: at(4) });
    expect(late.applied).to.equal(false);
    expect(late.record).to.include({ state: 'deactivated', stateAt: at(5) });
    expect(late.record.activatedAt).to.equal(undefined);
    expect(late.record.events.at(-1)).to.deep.include({ type: 'v2.app.activateRequested', at: at(4), applied: false });
  });

  it('remembers the latest configuration update without changing the state', async () => {
    await store.recordLifecycle({ tenantId, appId, type: 'v2.app.installed', at: at(1) });
    await store.recordLifecycle({ tenantId, appId, type: 'v2-beta.app.configuration.updated', at: at(7) });
    const { record, applied } = await store.recordLifecycle({ tenantId, appId, type: 'v2-beta.app.configuration.updated', at: at(6) });
    expect(applied).to.equal(false);
    expect(record).to.include({ state: 'installed', lastConfigUpdateAt: at(7) });
  });

  it('records an unknown lifecycle type in the history only', async () => {
    const { record, applied } = await store.recordLifecycle({ tenantId, appId, type: 'v2.app.somethingNew', at: at(1) });
    expect(applied).to.equal(false);
    expect(record.state).to.equal(undefined);
    expect(record.events).to.have.length(1);
  });

  it('keeps the newest 50 lifecycle events', async () => {
    for (let i = 0; i < 60; i++) await store.recordLifecycle({ tenantId, appId, type: 'v2-beta.app.configuration.updated', at: at(i) });
    const rec = await store.get(tenantId, appId);
    expect(rec?.events).to.have.length(MAX_EVENTS);
    expect(rec?.events[0]?.at).to.equal(at(10));
    expect(rec?.lastConfigUpdateAt).to.equal(at(59));
  });
});
