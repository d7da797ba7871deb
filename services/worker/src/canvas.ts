/**
 * Superseded by the canvas module (`./canvas/`): kept as a thin adapter so code written against
 * the old single-state API still renders the new main view. New code uses `./canvas/index.ts`
 * and `./canvas/worker-canvas.ts`.
 */
import type { ViewBlock } from './canvas/blocks.ts';
import { mainView } from './canvas/main-view.ts';
import { plainReason } from './canvas/failure.ts';
import { quiltUri } from './canvas/links.ts';

export { packageLink } from './canvas/links.ts';

export type CanvasState =
  | { kind: 'idle'; hasPackage?: { packageName: string; link: string; at: string } }
  | { kind: 'updating'; startedAt: string }
  | { kind: 'published'; packageName: string; link: string; at: string; fileCount: number; unchanged: boolean; bucket?: string }
  | { kind: 'failed'; message: string; at: string; executionId: string; class?: string };

export function canvasBlocks(state: CanvasState, updateButtonId: string): ViewBlock[] {
  switch (state.kind) {
    case 'idle': {
      const p = state.hasPackage;
      return mainView({
        pkg: p && { name: p.packageName, link: p.link, uri: quiltUri('', p.packageName), lastUpdated: p.at },
        status: { kind: 'idle' },
        updateButtonId,
      });
    }
    case 'updating':
      return mainView({ status: { kind: 'running', startedAt: state.startedAt }, updateButtonId });
    case 'published':
      return mainView({
        pkg: {
          name: state.packageName,
          link: state.link,
          uri: quiltUri(state.bucket ?? '', state.packageName),
          lastUpdated: state.at,
          fileCount: state.fileCount,
        },
        status: { kind: 'published', at: state.at, unchanged: state.unchanged },
        updateButtonId,
      });
    case 'failed':
      // Only the error's class reaches the reader: the message may carry outside text.
      return mainView({
        status: { kind: 'failed', reason: plainReason({ class: state.class }), at: state.at, executionId: state.executionId },
        updateButtonId,
      });
  }
}
