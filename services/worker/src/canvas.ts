/** What the entry's canvas shows, as Benchling UI blocks. One function per state keeps the wording in one place. */
export type CanvasState =
  | { kind: 'idle'; hasPackage?: { packageName: string; link: string; at: string } }
  | { kind: 'updating'; startedAt: string }
  | { kind: 'published'; packageName: string; link: string; at: string; fileCount: number; unchanged: boolean }
  | { kind: 'failed'; message: string; at: string; executionId: string };

export interface CanvasBlock {
  id: string;
  type: 'MARKDOWN' | 'BUTTON';
  value?: string;
  text?: string;
  enabled?: boolean;
}

export function canvasBlocks(state: CanvasState, updateButtonId: string): CanvasBlock[] {
  const button = (enabled: boolean, text = 'Update package'): CanvasBlock => ({ id: updateButtonId, type: 'BUTTON', text, enabled });
  const md = (value: string): CanvasBlock => ({ id: 'status', type: 'MARKDOWN', value });
  switch (state.kind) {
    case 'idle':
      return state.hasPackage
        ? [md(`**Quilt package:** [${state.hasPackage.packageName}](${state.hasPackage.link})\n\nLast updated ${state.hasPackage.at}.`), button(true)]
        : [md('This entry has no Quilt package yet. Click **Create package** to make one.'), button(true, 'Create package')];
    case 'updating':
      return [md(`Updating the Quilt package… (started ${state.startedAt})`), button(false, 'Updating…')];
    case 'published':
      return [
        md(
          `**Quilt package:** [${state.packageName}](${state.link})\n\n` +
            `${state.unchanged ? 'Checked' : 'Updated'} ${state.at} · ${state.fileCount} files${state.unchanged ? ' · nothing changed since the last revision' : ''}.`,
        ),
        button(true),
      ];
    case 'failed':
      return [md(`**The package could not be updated.** ${state.message}\n\n(${state.at}, execution ${state.executionId})`), button(true, 'Try again')];
  }
}

/** A link a scientist can open: the Quilt catalog when configured, else the S3 registry path. */
export function packageLink(o: { catalogUrl?: string; bucket: string; packageName: string }): string {
  if (o.catalogUrl) return `${o.catalogUrl.replace(/\/$/, '')}/b/${encodeURIComponent(o.bucket)}/packages/${o.packageName}`;
  return `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(o.bucket)}?prefix=${encodeURIComponent(`${o.packageName}/`)}`;
}
