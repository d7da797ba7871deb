import { expect } from 'chai';
import { loadOpenApi } from '@bp/benchling-sim/openapi';
import { type RunningSystem, startSystem } from '../support/system.ts';

/** The request schema Benchling's OpenAPI gives each route our client sends a body to. */
const REQUEST_SCHEMAS: Record<string, string> = {
  'POST /api/v2/exports': 'ExportItemRequest',
  'POST /api/v2/app-canvases': 'AppCanvasCreate',
  'PATCH /api/v2/app-canvases/{id}': 'AppCanvasUpdate',
  'POST /api/v2/app-sessions': 'AppSessionCreate',
  'PATCH /api/v2/app-sessions/{id}': 'AppSessionUpdate',
};
/** Routes the scenario below must have exercised, so the check cannot pass on nothing. */
const MUST_SEE = ['POST /api/v2/exports', 'POST /api/v2/app-canvases', 'PATCH /api/v2/app-canvases/{id}'];

describe("the requests our real worker sends to Benchling conform to Benchling's OpenAPI", function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  before(async () => {
    sys = await startSystem({ label: 'openapi-req', sim: { rateLimit: { limit: 10_000, windowSeconds: 30 } } });
  });
  after(async () => sys?.stop());

  it('every export, canvas and app-session body the simulator received matches its request schema', async () => {
    const entryId = 'etr_openapi_requests';
    const created = await sys.send({ type: 'v2.entry.created', entryId });
    expect((await sys.waitForExecution(String(created.json.executionId))).status).to.equal('SUCCEEDED');
    const init = await sys.send({ type: 'v2.canvas.initialized', entryId, featureId: 'quilt_entry', userId: 'ent_user1' });
    await sys.waitForExecution(String(init.json.executionId));
    const canvasId = String(sys.sim.state.canvasesFor(entryId)[0]!.current.id);
    const click = await sys.send({
      type: 'v2.canvas.userInteracted',
      canvasId,
      buttonId: 'update-package',
      featureId: 'quilt_entry',
      userId: 'ent_user1',
    });
    expect((await sys.waitForExecution(String(click.json.executionId))).status).to.equal('SUCCEEDED');
    const failing = await sys.send({
      type: 'v2.canvas.initialized',
      entryId: 'etr_fail_openapi',
      featureId: 'quilt_entry',
      userId: 'ent_user1',
    });
    await sys.waitForExecution(String(failing.json.executionId));

    const spec = loadOpenApi();
    const sent = sys.sim.state.requestLog.filter((l) => l.body !== undefined && REQUEST_SCHEMAS[l.route] !== undefined);
    expect(new Set(sent.map((l) => l.route))).to.include.all.keys(...MUST_SEE);
    const problems = sent.flatMap((l) =>
      spec.errorsFor(REQUEST_SCHEMAS[l.route]!, l.body).map((e) => `${l.route}: ${e} in ${JSON.stringify(l.body)}`),
    );
    expect(problems).to.deep.equal([]);
  });

  it('the check itself refuses a body our client must never send', () => {
    // The same validator the test above relies on: a canvas block of an undocumented type fails.
    expect(loadOpenApi().errorsFor('AppCanvasUpdate', { blocks: [{ type: 'IFRAME', id: 'x' }] })).to.not.be.empty;
  });
});
