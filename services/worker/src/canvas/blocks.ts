import type { ButtonBlock, MarkdownBlock, SectionBlock } from '@bp/shared/benchling/index';

/** The block types our canvases use, exactly as Benchling documents them (no other fields). */
export type ViewBlock = MarkdownBlock | ButtonBlock | SectionBlock;

export function markdown(id: string, value: string): MarkdownBlock {
  return { type: 'MARKDOWN', id, value };
}

/** Button text is plain text (not Markdown) but still bounded, as Benchling shows it on one line. */
export function button(id: string, text: string, enabled = true): ButtonBlock {
  return { type: 'BUTTON', id, text: [...text].length > 60 ? `${[...text].slice(0, 59).join('')}…` : text, enabled };
}

export function section(id: string, children: Array<MarkdownBlock | ButtonBlock>): SectionBlock {
  return { type: 'SECTION', id, children };
}

/** Every block, sections' children included: for tests and for finding a button by id. */
export function flatten(blocks: ReadonlyArray<{ type: string; children?: unknown }>): Array<Record<string, unknown>> {
  return blocks.flatMap((b) => [b as Record<string, unknown>, ...(Array.isArray(b.children) ? flatten(b.children as never) : [])]);
}
