import type { ViewBlock } from './blocks.ts';
import { button, markdown, section } from './blocks.ts';
import { NAV } from './buttons.ts';
import { type LinkedRun, linkedRunsBlock } from './linked-runs.ts';
import { code, humanSize, link, text, when } from './markdown.ts';

/** The packaging's state as the main view shows it. */
export type PackagingStatus =
  | { kind: 'idle' }
  | { kind: 'running'; startedAt?: string }
  | { kind: 'published'; at: string; unchanged: boolean }
  | { kind: 'failed'; reason: string; at: string; executionId: string };

export interface MainViewModel {
  /** Absent until the entry has been packaged once. */
  pkg?: { name: string; link: string; uri: string; lastUpdated?: string; fileCount?: number; totalBytes?: number };
  status: PackagingStatus;
  /** Absent when the linked-runs list is not shown (e.g. while a packaging result is written). */
  linkedRuns?: LinkedRun[];
  updateButtonId: string;
}

/**
 * The canvas's home: the package, how to open it, what happened last, and the buttons. The update
 * button is disabled while a packaging runs (its progress shows through the canvas's app session).
 */
export function mainView(m: MainViewModel): ViewBlock[] {
  const lines: string[] = [];
  if (m.pkg) {
    lines.push(`### Quilt package ${link(m.pkg.name, m.pkg.link)}`, '');
    lines.push(`Open in QuiltSync or quilt3: ${code(m.pkg.uri)}`, '');
    const facts = [`Last updated ${when(m.pkg.lastUpdated)}`];
    if (m.pkg.fileCount !== undefined) facts.push(`${m.pkg.fileCount} files`);
    if (m.pkg.totalBytes !== undefined) facts.push(humanSize(m.pkg.totalBytes));
    lines.push(facts.join(' · '));
  } else {
    lines.push('### Quilt package', '', 'This entry has no Quilt package yet. Click **Create package** to make one.');
  }
  const s = m.status;
  if (s.kind === 'running') {
    lines.push('', `**Updating the Quilt package…** (${s.startedAt ? `started ${when(s.startedAt)}; ` : ''}progress is shown above)`);
  }
  if (s.kind === 'published')
    lines.push('', s.unchanged ? `Checked ${when(s.at)}: nothing changed since the last revision.` : `Updated ${when(s.at)}.`);
  if (s.kind === 'failed') {
    lines.push('', `**The package could not be updated.** ${text(s.reason, 200)}`, '', `${when(s.at)} · execution ${code(s.executionId)}`);
  }
  const running = s.kind === 'running';
  const updateText = running ? 'Updating…' : s.kind === 'failed' ? 'Try again' : m.pkg ? 'Update package' : 'Create package';
  const blocks: ViewBlock[] = [
    markdown('status', lines.join('\n')),
    section('actions', [
      button(NAV.files, 'Browse files', Boolean(m.pkg)),
      button(NAV.versions, 'Versions', Boolean(m.pkg)),
      button(NAV.metadata, 'Metadata', Boolean(m.pkg)),
      button(m.updateButtonId, updateText, !running),
    ]),
  ];
  if (m.linkedRuns) blocks.push(linkedRunsBlock(m.linkedRuns));
  return blocks;
}
