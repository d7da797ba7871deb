import type { ManifestEntry } from '@bp/shared/quilt/index';
import type { ViewBlock } from './blocks.ts';
import { button, markdown, section } from './blocks.ts';
import { NAV } from './buttons.ts';
import { humanSize, link, row, text } from './markdown.ts';
import { type LastOutcome, serializeViewState, type ViewState } from './view-state.ts';

export const PAGE_SIZE = 15;

/** One line of a folder listing: a sub-folder (with the bytes and files under it) or a file. */
export type Listing = { kind: 'dir'; name: string; files: number; bytes: number } | { kind: 'file'; name: string; entry: ManifestEntry };

/** The direct children of `dir` (`''` or ending with `/`): folders first, then files, each by name. */
export function listFolder(entries: readonly ManifestEntry[], dir: string): Listing[] {
  const dirs = new Map<string, { files: number; bytes: number }>();
  const files: Listing[] = [];
  for (const e of entries) {
    if (!e.logicalKey.startsWith(dir)) continue;
    const rest = e.logicalKey.slice(dir.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      files.push({ kind: 'file', name: rest, entry: e });
      continue;
    }
    const name = rest.slice(0, slash);
    const d = dirs.get(name) ?? { files: 0, bytes: 0 };
    d.files++;
    d.bytes += e.size;
    dirs.set(name, d);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...[...dirs].map(([name, d]) => ({ kind: 'dir' as const, name, ...d })).sort(byName), ...files.sort(byName)];
}

export interface FileBrowserInput {
  packageName: string;
  entries: readonly ManifestEntry[];
  dir: string;
  page: number;
  fileLink(e: ManifestEntry): string;
  last?: LastOutcome;
}

/** One page of a folder: a table of its children, "16–30 of 57", paging buttons and an Open button per sub-folder. */
export function fileBrowser(i: FileBrowserInput): { blocks: ViewBlock[]; data: string } {
  const all = listFolder(i.entries, i.dir);
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const page = Math.min(Math.max(1, i.page), pages);
  const from = (page - 1) * PAGE_SIZE;
  const shown = all.slice(from, from + PAGE_SIZE);
  const dirNames = shown.filter((l) => l.kind === 'dir').map((l) => l.name);
  const { data, keptDirs } = serializeViewState({
    v: 1,
    view: 'files',
    dir: i.dir,
    page,
    dirs: dirNames,
    ...(i.last ? { last: i.last } : {}),
  });

  const where = i.dir === '' ? 'the package root' : text(i.dir, 200);
  const range = all.length === 0 ? 'empty folder' : `${from + 1}–${from + shown.length} of ${all.length}`;
  const lines = [`### Files in ${where}`, '', `${text(i.packageName, 120)} · latest revision · ${range}`, ''];
  if (shown.length > 0) {
    lines.push(row(['name', 'size']), row(['---', '---:']));
    for (const l of shown) {
      if (l.kind === 'dir') lines.push(row([`📁 ${text(`${l.name}/`)}`, `${humanSize(l.bytes)} in ${l.files} files`]));
      else lines.push(row([link(l.name, i.fileLink(l.entry)), humanSize(l.entry.size)]));
    }
  }
  const blocks: ViewBlock[] = [
    markdown('files', lines.join('\n')),
    section('paging', [
      button(NAV.page(page - 1 || 1), 'Previous', page > 1),
      button(NAV.page(page + 1), 'Next', page < pages),
      ...(i.dir !== '' ? [button(NAV.up, 'Up one folder')] : []),
      button(NAV.main, 'Back'),
    ]),
  ];
  if (keptDirs > 0)
    blocks.push(
      section(
        'folders',
        dirNames.slice(0, keptDirs).map((name, k) => button(NAV.dir(k), `Open ${name}/`)),
      ),
    );
  return { blocks, data };
}

/** The folder above `dir` (`a/b/` → `a/`, `a/` → `''`). */
export function parentDir(dir: string): string {
  const trimmed = dir.replace(/\/$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? '' : trimmed.slice(0, slash + 1);
}

/** Where an "Open" click leads, from the state the page was rendered with. */
export function openedDir(state: ViewState, index: number): string | undefined {
  const name = state.dirs?.[index];
  return name === undefined ? undefined : `${state.dir ?? ''}${name}/`;
}
