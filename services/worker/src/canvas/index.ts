import type { S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '@bp/shared';
import type { BenchlingClient } from '@bp/shared/benchling/index';
import type { EntryState } from '@bp/shared/executions/index';
import type { ViewBlock } from './blocks.ts';
import { button, markdown, section } from './blocks.ts';
import { NAV, type NavAction, parseNav } from './buttons.ts';
import { fileBrowser, openedDir, parentDir } from './file-browser.ts';
import { entryRecordLinkedRuns, type LinkedRunsReader } from './linked-runs.ts';
import { fileLink, type LinkConfig, packageLink, quiltUri, revisionLink } from './links.ts';
import { mainView, type PackagingStatus } from './main-view.ts';
import { metadataView } from './metadata.ts';
import { PackageReader } from './package-reader.ts';
import { type LastOutcome, parseViewState, serializeViewState, type ViewState } from './view-state.ts';
import { VERSIONS_SHOWN, versionsView } from './versions.ts';

export { plainReason } from './failure.ts';
export { flatten } from './blocks.ts';
export { escapeMarkdown } from './markdown.ts';
export type { LinkedRun, LinkedRunsReader } from './linked-runs.ts';
export type { LastOutcome } from './view-state.ts';

/** What the canvas views need; built from the worker's dependencies. */
export interface CanvasDeps {
  s3: S3Client;
  links: LinkConfig;
  updateButtonId: string;
  /** The entry's record (package, lease, linked runs). */
  entryState(): Promise<EntryState | undefined>;
  clock: () => Date;
  linkedRuns?: LinkedRunsReader;
}

/** Blocks and `data` for one write of the canvas. */
export interface Rendered {
  blocks: ViewBlock[];
  data: string;
  /** Rendered as "a packaging runs" from the entry's lease (not from the packaging itself). */
  running?: boolean;
}

/**
 * The main view for the entry's current state. `status` overrides what the entry record says
 * (the packaging that is writing it knows better); otherwise a live entry lease means "running".
 */
export async function renderMain(deps: CanvasDeps, o: { status?: PackagingStatus; last?: LastOutcome } = {}): Promise<Rendered> {
  const state = await deps.entryState();
  const published = state?.lastPublished;
  let pkg: Parameters<typeof mainView>[0]['pkg'];
  if (published) {
    const name = published.packageName;
    const latest = await new PackageReader(deps.s3, deps.links.bucket).latest(name).catch(() => undefined);
    pkg = {
      name,
      link: packageLink({ ...deps.links, packageName: name }),
      uri: quiltUri(deps.links.bucket, name),
      lastUpdated: published.at,
      ...(latest ? { fileCount: latest.entries.length, totalBytes: latest.entries.reduce((s, e) => s + e.size, 0) } : {}),
    };
  }
  const leaseLive = Boolean(state?.leaseExecutionId && (state.leaseExpiresAt ?? 0) > deps.clock().getTime());
  // A click while a packaging runs: the entry record does not say when it started (the session does).
  const status: PackagingStatus = o.status ?? (leaseLive ? { kind: 'running' } : (o.last ?? { kind: 'idle' }));
  const last = o.status && o.status.kind !== 'idle' && o.status.kind !== 'running' ? o.status : o.last;
  const blocks = mainView({
    pkg,
    status,
    linkedRuns: (deps.linkedRuns ?? entryRecordLinkedRuns).linkedRuns(state as { linkedRuns?: unknown }),
    updateButtonId: deps.updateButtonId,
  });
  return {
    blocks,
    data: serializeViewState({ v: 1, view: 'main', ...(last ? { last } : {}) }).data,
    ...(!o.status && leaseLive ? { running: true } : {}),
  };
}

/**
 * Answers a navigation click: reads where the reader was from the canvas's `data`, renders where
 * the button leads from the package in S3, and returns what to write. Unknown ids lead home.
 */
export async function renderClick(deps: CanvasDeps, buttonId: string, canvasData: unknown): Promise<Rendered> {
  const from = parseViewState(canvasData);
  const nav: NavAction = parseNav(buttonId) ?? { to: 'main' };
  const last = from.last;
  if (nav.to === 'main') return renderMain(deps, { ...(last ? { last } : {}) });
  const state = await deps.entryState();
  const name = state?.lastPublished?.packageName;
  if (!name) return renderMain(deps, { ...(last ? { last } : {}) });
  const reader = new PackageReader(deps.s3, deps.links.bucket);
  const keep = (s: ViewState): string => serializeViewState({ ...s, ...(last ? { last } : {}) }).data;

  if (nav.to === 'versions') {
    const revisions = await reader.revisions(name, VERSIONS_SHOWN);
    return {
      blocks: versionsView({ packageName: name, revisions, revisionLink: (h) => revisionLink(deps.links, name, h) }),
      data: keep({ v: 1, view: 'versions' }),
    };
  }
  const latest = await reader.latest(name);
  if (!latest) return renderMain(deps, { ...(last ? { last } : {}) });
  if (nav.to === 'metadata') {
    const entryJson = await reader.readJson(latest, 'entry.json');
    return { blocks: metadataView({ packageName: name, entryJson }), data: keep({ v: 1, view: 'metadata' }) };
  }
  let dir = '';
  let page = 1;
  if (nav.to === 'files') {
    // "Next"/"Previous" stay in the folder being shown; "Browse files" starts at the root.
    if (nav.page !== undefined && from.view === 'files') {
      dir = from.dir ?? '';
      page = nav.page;
    }
  } else if (nav.to === 'up') {
    dir = parentDir(from.dir ?? '');
  } else if (nav.to === 'dir') {
    const opened = from.view === 'files' ? openedDir(from, nav.index) : undefined;
    if (opened === undefined)
      throw new PermanentError(`button ${buttonId} names a folder the canvas no longer lists`, { code: 'CanvasStale' });
    dir = opened;
  }
  return fileBrowser({
    packageName: name,
    entries: latest.entries,
    dir,
    page,
    fileLink: (e) => fileLink(deps.links, name, e.logicalKey, e.physicalKey),
    ...(last ? { last } : {}),
  });
}

/** A canvas for a click whose folder vanished (a new revision meanwhile): say so and offer the way home. */
export function staleView(): Rendered {
  return {
    blocks: [
      markdown('stale', 'The package changed since this page was shown.'),
      section('nav', [button(NAV.files, 'Browse files'), button(NAV.main, 'Back')]),
    ],
    data: serializeViewState({ v: 1, view: 'main' }).data,
  };
}

/** Reads the canvas, renders the click's answer and writes it. Returns what it showed, for the execution record. */
export async function answerClick(
  depsFor: (entryId: string) => CanvasDeps,
  benchling: BenchlingClient,
  canvasId: string,
  buttonId: string,
): Promise<{ view: string; entryId: string }> {
  const canvas = await benchling.getCanvas(canvasId);
  if (!canvas.resourceId) throw new PermanentError(`canvas ${canvasId} is not attached to an entry`, { code: 'CanvasWithoutEntry' });
  const deps = depsFor(canvas.resourceId);
  let rendered: Rendered;
  try {
    rendered = await renderClick(deps, buttonId, canvas.data);
  } catch (err) {
    if (!(err instanceof PermanentError && err.code === 'CanvasStale')) throw err;
    rendered = staleView();
  }
  await benchling.updateCanvas(canvasId, { blocks: rendered.blocks, data: rendered.data, enabled: true });
  if (rendered.running) {
    // The packaging may have written its result between our read and our write: if it has ended
    // meanwhile, write the main view again so "Updating…" is not left behind.
    const last = parseViewState(rendered.data).last;
    const again = await renderMain(deps, last ? { last } : {});
    if (!again.running) await benchling.updateCanvas(canvasId, { blocks: again.blocks, data: again.data, enabled: true });
  }
  return { view: parseViewState(rendered.data).view, entryId: canvas.resourceId };
}
