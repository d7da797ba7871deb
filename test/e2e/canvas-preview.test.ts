import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { CanvasDriver } from '../support/canvas.ts';

/** Debian's `chromium` package (scripts/bootstrap.sh installs it); CHROMIUM_PATH overrides. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Where the screenshots go: a temp dir, or e.g. `docs/img` to refresh the README's pictures. */
const SHOT_DIR = process.env.BP_CANVAS_SCREENSHOTS || mkdtempSync(path.join(os.tmpdir(), 'bp-canvas-shots-'));

/**
 * A scientist's clicks in a real browser: the simulator's preview of the canvas, whose buttons
 * send signed `v2.canvas.userInteracted` webhooks to the real ingress; workers answer by
 * rewriting the canvas; the page reloads and shows it.
 */
describe('the canvas preview in headless Chromium: main view → browse → next page → metadata → versions', function () {
  this.timeout(180_000);
  let sys: RunningSystem;
  let browser: Browser;
  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: run scripts/bootstrap.sh (apt-get install chromium) or set CHROMIUM_PATH`);
    sys = await startSystem({ label: 'canvaspreview', workers: 1, sim: { rateLimit: { limit: 100_000, windowSeconds: 30 } } });
    sys.sim.setWebhookTarget(sys.ingressUrl);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await sys?.stop();
  });

  async function shot(page: Page, name: string): Promise<void> {
    mkdirSync(SHOT_DIR, { recursive: true });
    const file = path.join(SHOT_DIR, `canvas-${name}.png`);
    await page.locator('#canvas').screenshot({ path: file });
    expect(readFileSync(file).subarray(1, 4).toString()).to.equal('PNG');
  }

  /** Clicks a button by its text and waits for the reloaded page to show `text`. */
  async function clickTo(page: Page, button: string, text: string): Promise<void> {
    const version = Number(await page.locator('#canvas').getAttribute('data-version'));
    await page.getByRole('button', { name: button, exact: true }).click();
    await page.waitForFunction((v) => Number(document.getElementById('canvas')?.dataset.version) > v, version, { timeout: 20_000 });
    await page.getByText(text, { exact: false }).first().waitFor({ timeout: 5_000 });
  }

  it('answers each click with the next view and shows what a scientist should read', async () => {
    const c = new CanvasDriver(sys, 'etr_files40_preview');
    const canvasId = await c.init();
    for (const value of ['second']) {
      expect((await c.update()).status).to.equal('SUCCEEDED');
      await fetch(`${sys.sim.url}/_sim/entries/${c.entryId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fields: { Notes: value } }),
      });
    }
    expect((await c.update()).status).to.equal('SUCCEEDED');

    const page = await browser.newPage({ viewport: { width: 960, height: 900 } });
    await page.goto(`${sys.sim.url}/_sim/canvases/${canvasId}/preview`);
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator, not a DOM node; the text as rendered is the point
    const body = () => page.locator('#canvas').innerText();
    expect(await body()).to.match(/Quilt package benchling\/\S+/);
    expect(await body()).to.include('quilt+s3://');
    expect(await body()).to.match(/44 files · [\d.]+ kB/);
    expect(await page.getByRole('button', { name: 'Update package' }).isEnabled()).to.equal(true);
    await shot(page, 'main');

    await clickTo(page, 'Browse files', 'Files in the package root');
    expect(await body()).to.include('1–5 of 5');
    await clickTo(page, 'Open attachments/', 'Files in attachments/');
    expect(await body()).to.include('1–15 of 40');
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).to.equal(true);
    await clickTo(page, 'Next', '16–30 of 40');
    expect(await body()).to.include('sample-016.csv');
    expect(await page.getByRole('button', { name: 'Previous' }).isEnabled()).to.equal(true);
    await shot(page, 'files');

    await clickTo(page, 'Back', 'Quilt package');
    await clickTo(page, 'Metadata', 'Metadata of');
    expect(await body()).to.include('Display id');
    expect(await body()).to.include(sys.sim.state.entries.get(c.entryId)!.displayId);
    expect(await body()).to.include('second');
    await shot(page, 'metadata');

    await clickTo(page, 'Back', 'Quilt package');
    await clickTo(page, 'Versions', 'Versions of');
    expect(await body()).to.include('The last 2 revisions');
    expect(await body()).to.include('Update package button');
    await shot(page, 'versions');
    await page.close();
  });
});
