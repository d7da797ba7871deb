import { startSystem } from '../support/system.ts';
import { stopSharedLocalAws } from '@bp/local-stack/testing';
const sys = await startSystem({ label: 'exp2', workers: 2, sim: { rateLimit: { limit: 10000, windowSeconds: 30 } } });
const ids: string[] = [];
for (let i = 0; i < 6; i++) ids.push(String((await sys.send({ type: 'v2.entry.created', entryId: `etr_exp2_${i}` })).json.executionId));
for (const id of ids) await sys.waitForExecution(id, { timeoutMs: 60000 });
const gsi = await sys.executions.listByStatus('SUCCEEDED', { limit: 1000 });
for (const id of ids) {
  const t = await sys.executions.get(id);
  const g = gsi.find((x) => x.executionId === id);
  console.log(id, 'table', t!.events.length, 'gsi', g?.events.length, t!.events.map(e=>e.type+':'+(e.step??'')).join(','));
  if (g) console.log('      gsi', '');
}
await sys.stop(); await stopSharedLocalAws();
