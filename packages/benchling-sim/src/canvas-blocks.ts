import { isPlainObject } from './benchling-errors.ts';

/** UI block types a canvas accepts (Benchling's `AppCanvasUiBlockList` discriminator). */
export const BLOCK_TYPES = [
  'BUTTON',
  'CHIP',
  'DROPDOWN',
  'DROPDOWN_MULTIVALUE',
  'FILE_UPLOAD',
  'MARKDOWN',
  'SEARCH_INPUT',
  'SEARCH_INPUT_MULTIVALUE',
  'SECTION',
  'SELECTOR_INPUT',
  'SELECTOR_INPUT_MULTIVALUE',
  'TABLE',
  'TEXT_INPUT',
] as const;

/** Blocks that are not interactive and so need no `id`. */
const PASSIVE = new Set(['MARKDOWN', 'CHIP', 'SECTION']);
/** Blocks not allowed inside a SECTION (its children are leaf blocks). */
const NOT_LEAF = new Set(['SECTION', 'TABLE']);

/**
 * The first problem with a canvas `blocks` array, or undefined. Checks what Benchling's schema
 * requires of the blocks this app uses (MARKDOWN, BUTTON, SECTION) and the common rules of others.
 */
export function blocksProblem(blocks: unknown, path = 'blocks', leafOnly = false): string | undefined {
  if (!Array.isArray(blocks)) return `${path} must be an array`;
  for (const [i, b] of blocks.entries()) {
    const at = `${path}[${i}]`;
    if (!isPlainObject(b)) return `${at} must be an object`;
    if (typeof b.type !== 'string' || !(BLOCK_TYPES as readonly string[]).includes(b.type))
      return `${at}.type must be one of ${BLOCK_TYPES.join(', ')}`;
    if (leafOnly && NOT_LEAF.has(b.type)) return `${at}: a ${b.type} block cannot be nested in a SECTION`;
    if (!PASSIVE.has(b.type) && typeof b.id !== 'string') return `${at}.id is required for ${b.type} blocks`;
    if (b.id !== undefined && typeof b.id !== 'string') return `${at}.id must be a string`;
    switch (b.type) {
      case 'MARKDOWN': {
        if (typeof b.value !== 'string') return `${at}.value is required for MARKDOWN blocks`;
        const extra = Object.keys(b).filter((k) => !['id', 'type', 'value'].includes(k));
        if (extra.length > 0) return `${at}: unknown MARKDOWN properties ${extra.join(', ')}`;
        break;
      }
      case 'BUTTON': {
        if (typeof b.text !== 'string') return `${at}.text is required for BUTTON blocks`;
        if (b.enabled !== undefined && b.enabled !== null && typeof b.enabled !== 'boolean') return `${at}.enabled must be a boolean`;
        const extra = Object.keys(b).filter((k) => !['id', 'type', 'text', 'enabled'].includes(k));
        if (extra.length > 0) return `${at}: unknown BUTTON properties ${extra.join(', ')}`;
        break;
      }
      case 'SECTION': {
        const extra = Object.keys(b).filter((k) => !['id', 'type', 'children'].includes(k));
        if (extra.length > 0) return `${at}: unknown SECTION properties ${extra.join(', ')}`;
        const inner = blocksProblem(b.children, `${at}.children`, true);
        if (inner) return inner;
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}
