/**
 * Where the reader is, kept in the canvas's `data` (Benchling: valid JSON, under 5 KB): the view,
 * and for the file browser the folder, the page and the sub-folders whose buttons are shown.
 */
export interface ViewState {
  v: 1;
  view: 'main' | 'files' | 'versions' | 'metadata';
  /** Folder being listed, `''` for the package root, else ending with `/`. */
  dir?: string;
  page?: number;
  /** Sub-folder names behind the "Open" buttons of this page, by button index. */
  dirs?: string[];
  /** How the last packaging ended, kept across views so the main view can still say it. */
  last?: LastOutcome;
}

/** The end of the last packaging as the main view words it (the reason is already plain words). */
export type LastOutcome =
  | { kind: 'published'; at: string; unchanged: boolean }
  | { kind: 'failed'; reason: string; at: string; executionId: string };

/** Benchling refuses `data` of 5 KB or more; we stay clearly below. Bytes. */
export const MAX_DATA_BYTES = 4_800;

export function parseViewState(data: unknown): ViewState {
  if (typeof data !== 'string' || data === '') return { v: 1, view: 'main' };
  try {
    const d = JSON.parse(data) as Partial<ViewState>;
    if (d && d.v === 1 && ['main', 'files', 'versions', 'metadata'].includes(d.view as string)) {
      return {
        v: 1,
        view: d.view!,
        ...(typeof d.dir === 'string' ? { dir: d.dir } : {}),
        ...(typeof d.page === 'number' && Number.isSafeInteger(d.page) && d.page >= 1 ? { page: d.page } : {}),
        ...(Array.isArray(d.dirs) && d.dirs.every((x) => typeof x === 'string') ? { dirs: d.dirs } : {}),
        ...(isOutcome(d.last) ? { last: d.last } : {}),
      };
    }
  } catch {
    /* data from an older version or another app: start at the main view */
  }
  return { v: 1, view: 'main' };
}

/**
 * The `data` string for a state, always under MAX_DATA_BYTES: when the folder names would not fit,
 * the caller's `fits` callback learns how many "Open" buttons can be kept (the rest are shown
 * without one). A folder path that alone does not fit falls back to the main view.
 */
export function serializeViewState(s: ViewState): { data: string; keptDirs: number } {
  let dirs = s.dirs ?? [];
  for (;;) {
    const data = JSON.stringify({ ...s, ...(s.dirs ? { dirs } : {}) });
    if (Buffer.byteLength(data) <= MAX_DATA_BYTES) return { data, keptDirs: dirs.length };
    if (dirs.length === 0) return { data: JSON.stringify({ v: 1, view: 'main', ...(s.last ? { last: s.last } : {}) }), keptDirs: 0 };
    dirs = dirs.slice(0, -1);
  }
}

function isOutcome(v: unknown): v is LastOutcome {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'published') return typeof o.at === 'string' && typeof o.unchanged === 'boolean';
  return o.kind === 'failed' && typeof o.reason === 'string' && typeof o.at === 'string' && typeof o.executionId === 'string';
}
