import { CANVAS_VIEW_BUTTON_PREFIX } from '@bp/shared/webhook/payload';

/**
 * Navigation buttons. The ingress enqueues a `canvas.view` job for any button id starting with
 * `nav:`; the id says where to go, and the canvas's `data` says where the reader is (folder, page,
 * the folders listed), so any worker can answer any click without server memory.
 */
export type NavAction =
  | { to: 'main' }
  | { to: 'files'; page?: number }
  | { to: 'dir'; index: number }
  | { to: 'up' }
  | { to: 'versions' }
  | { to: 'metadata' };

export const NAV = {
  main: `${CANVAS_VIEW_BUTTON_PREFIX}main`,
  files: `${CANVAS_VIEW_BUTTON_PREFIX}files`,
  up: `${CANVAS_VIEW_BUTTON_PREFIX}up`,
  versions: `${CANVAS_VIEW_BUTTON_PREFIX}versions`,
  metadata: `${CANVAS_VIEW_BUTTON_PREFIX}metadata`,
  page: (n: number) => `${CANVAS_VIEW_BUTTON_PREFIX}files:${n}`,
  dir: (i: number) => `${CANVAS_VIEW_BUTTON_PREFIX}dir:${i}`,
} as const;

/** What a button id asks for, or undefined for an id we never render. */
export function parseNav(buttonId: string): NavAction | undefined {
  if (!buttonId.startsWith(CANVAS_VIEW_BUTTON_PREFIX)) return undefined;
  const [what, arg] = buttonId.slice(CANVAS_VIEW_BUTTON_PREFIX.length).split(':');
  const n = arg === undefined ? undefined : Number(arg);
  const int = n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  switch (what) {
    case 'main':
    case 'up':
    case 'versions':
    case 'metadata':
      return arg === undefined ? { to: what } : undefined;
    case 'files':
      if (arg === undefined) return { to: 'files' };
      return int !== undefined && int >= 1 ? { to: 'files', page: int } : undefined;
    case 'dir':
      return int !== undefined ? { to: 'dir', index: int } : undefined;
    default:
      return undefined;
  }
}
