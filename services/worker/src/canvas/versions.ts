import type { ViewBlock } from './blocks.ts';
import { button, markdown, section } from './blocks.ts';
import { NAV } from './buttons.ts';
import { humanSize, link, row, text, when } from './markdown.ts';
import type { Revision } from './package-reader.ts';

/** Most revisions the versions view lists. */
export const VERSIONS_SHOWN = 10;

/** The last revisions, newest first: time, short top hash (linked), what triggered it, files, change. */
export function versionsView(o: { packageName: string; revisions: Revision[]; revisionLink(topHash: string): string }): ViewBlock[] {
  const lines = [`### Versions of ${text(o.packageName)}`, ''];
  if (o.revisions.length === 0) lines.push('No revisions yet.');
  else {
    lines.push(`The last ${o.revisions.length === 1 ? 'revision' : `${o.revisions.length} revisions`}, newest first.`, '');
    lines.push(row(['when', 'revision', 'triggered by', 'files', 'change']), row(['---', '---', '---', '---:', '---']));
    for (const r of o.revisions) {
      lines.push(
        row([
          when(r.at),
          link(r.topHash.slice(0, 10), o.revisionLink(r.topHash)),
          text(trigger(r.message), 60),
          `${r.fileCount} (${humanSize(r.totalBytes)})`,
          change(r),
        ]),
      );
    }
  }
  return [markdown('versions', lines.join('\n')), section('nav', [button(NAV.main, 'Back')])];
}

/** Our commit messages read `Benchling <event type> at <time>`: the type, said plainly. */
function trigger(message: string | null): string {
  const type = /^Benchling (\S+) at /.exec(message ?? '')?.[1];
  const plain: Record<string, string> = {
    'v2.entry.created': 'entry created',
    'v2.entry.updated.fields': 'entry edited',
    'v2.entry.updated.reviewRecord': 'review changed',
    'v2.canvas.userInteracted': 'Update package button',
    'v2.canvas.created': 'canvas added',
    'v2-beta.canvas.created': 'canvas added',
    'ops.repackage': 'operator repackage',
  };
  if (type) return plain[type] ?? type;
  return message ?? '—';
}

function change(r: Revision): string {
  if (!r.changed) return 'first revision';
  const { added, removed, modified } = r.changed;
  if (added + removed + modified === 0) return 'no file changes';
  return [added ? `+${added}` : '', removed ? `−${removed}` : '', modified ? `${modified} changed` : ''].filter(Boolean).join(', ');
}
