/** What `GET /_sim/canvases/{id}` answers. */
export interface CanvasSummary {
  id: string;
  versions: number;
  current: Record<string, unknown>;
  session?: Record<string, unknown>;
}

type Block = { type?: string; id?: string; value?: string; text?: string; enabled?: boolean; children?: Block[] };

function blockLines(b: Block, canvasEnabled: boolean, indent = ''): string[] {
  switch (b.type) {
    case 'MARKDOWN':
      return (b.value ?? '').split('\n').map((l) => `${indent}${l}`);
    case 'BUTTON':
      return [`${indent}[${b.text ?? ''}] ${canvasEnabled && b.enabled !== false ? '' : '(disabled) '}→ ${b.id ?? ''}`];
    case 'SECTION':
      return [`${indent}┌ section ${b.id ?? ''}`, ...(b.children ?? []).flatMap((c) => blockLines(c, canvasEnabled, `${indent}│ `))];
    default:
      return [`${indent}<${b.type ?? '?'} block ${b.id ?? ''}>`];
  }
}

/** A canvas as text for a terminal: header, session, blocks (Markdown as written), data. */
export function formatCanvas(c: CanvasSummary, previewUrl: string): string {
  const cur = c.current;
  const enabled = cur.enabled !== false;
  const lines = [
    `canvas ${c.id} · entry ${String(cur.resourceId ?? '?')} · feature ${String(cur.featureId ?? '?')} · ` +
      `${c.versions} versions${enabled ? '' : ' · disabled'}`,
  ];
  if (c.session) {
    lines.push(`session ${String(c.session.id)} · ${String(c.session.status)}`);
    for (const m of (c.session.messages as Array<{ content: string; style?: string }>) ?? [])
      lines.push(`  ${(m.style ?? 'NONE').padEnd(7)} ${m.content}`);
  }
  lines.push('');
  for (const b of (cur.blocks as Block[]) ?? []) lines.push(...blockLines(b, enabled), '');
  if (typeof cur.data === 'string') lines.push(`data: ${cur.data}`);
  lines.push(`preview: ${previewUrl}`);
  return lines.join('\n');
}
