import type { ViewBlock } from './blocks.ts';
import { button, markdown, section } from './blocks.ts';
import { NAV } from './buttons.ts';
import { row, text, when } from './markdown.ts';

/** Longest value shown per field: the full text is in `entry.json`. Characters. */
const VALUE_CHARS = 80;
/** Most fields / entities / results listed. */
const MAX_ROWS = 25;

/**
 * The key fields of the package's `entry.json`: name, display id, authors, schema and fields,
 * and (when the warehouse feature wrote them) registered entities and results. Long values cut.
 */
export function metadataView(o: { packageName: string; entryJson: Record<string, unknown> | undefined }): ViewBlock[] {
  const e = o.entryJson;
  const back = section('nav', [button(NAV.main, 'Back')]);
  if (!e)
    return [markdown('metadata', `### Metadata of ${text(o.packageName)}\n\nThe latest revision has no readable \`entry.json\`.`), back];
  const lines = [`### Metadata of ${text(o.packageName)}`, '', row(['entry', '']), row(['---', '---'])];
  lines.push(row(['**Name**', text(e.name, VALUE_CHARS)]));
  lines.push(row(['**Display id**', text(e.displayId, 40)]));
  lines.push(row(['**Authors**', text(names(e.authors).join(', ') || '—', VALUE_CHARS)]));
  lines.push(row(['**Schema**', text(nameOf(e.schema) ?? '—', VALUE_CHARS)]));
  if (typeof e.modifiedAt === 'string') lines.push(row(['**Modified in Benchling**', when(e.modifiedAt)]));
  if (typeof e.exportedAt === 'string') lines.push(row(['**Exported**', when(e.exportedAt)]));

  const fields = e.fields && typeof e.fields === 'object' ? Object.entries(e.fields as Record<string, unknown>) : [];
  lines.push('', `#### Fields (${fields.length})`, '');
  if (fields.length === 0) lines.push('No schema fields.');
  else {
    lines.push(row(['field', 'value']), row(['---', '---']));
    for (const [k, f] of fields.slice(0, MAX_ROWS)) lines.push(row([text(k, 40), text(fieldValue(f), VALUE_CHARS)]));
    if (fields.length > MAX_ROWS) lines.push('', `… and ${fields.length - MAX_ROWS} more in \`entry.json\`.`);
  }
  for (const [key, title] of [
    ['registeredEntities', 'Registered entities'],
    ['results', 'Results'],
  ] as const) {
    const list = e[key];
    if (!Array.isArray(list)) continue;
    lines.push('', `#### ${title} (${list.length})`, '');
    for (const item of list.slice(0, MAX_ROWS)) lines.push(`- ${text(summary(item), VALUE_CHARS)}`);
    if (list.length > MAX_ROWS) lines.push(`- … and ${list.length - MAX_ROWS} more`);
  }
  return [markdown('metadata', lines.join('\n')), back];
}

function nameOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['name', 'handle', 'id']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return undefined;
}

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.map(nameOf).filter((n): n is string => n !== undefined) : [];
}

/** A Benchling field `{value, displayValue, …}` shown as its display value. */
function fieldValue(f: unknown): string {
  if (f && typeof f === 'object' && !Array.isArray(f)) {
    const o = f as Record<string, unknown>;
    if (typeof o.displayValue === 'string') return o.displayValue;
    if ('value' in o) return typeof o.value === 'string' ? o.value : JSON.stringify(o.value ?? null);
  }
  return typeof f === 'string' ? f : JSON.stringify(f ?? null);
}

function summary(item: unknown): string {
  if (item && typeof item === 'object') {
    const o = item as Record<string, unknown>;
    const parts = [
      nameOf(o),
      typeof o.id === 'string' && o.id !== nameOf(o) ? o.id : undefined,
      typeof o.schema === 'object' ? nameOf(o.schema) : undefined,
    ];
    const s = parts.filter(Boolean).join(' · ');
    if (s) return s;
  }
  return typeof item === 'string' ? item : JSON.stringify(item);
}
