import { isIP } from 'node:net';
import type { PartnerEvent, PartnerPolicy } from './event.ts';

/**
 * The cheap safety checks of a partner event's files (docs/partners.md, "Safety"), pure so the
 * ingress refuses at once what the worker would refuse later (the worker checks again, and also
 * every redirect and resolved address, which only it sees).
 */

/** A file of the event is unsafe; `field` names it as sent (`files.2.url`). */
export class UnsafeSourceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeSourceError';
  }
}

/**
 * A file's logical path as it will be stored (`data/<path>`): the ZIP-entry rules. NFC-normalised;
 * no empty, `.` or `..` segments, no leading `/` or `\`, no drive letter, no control characters.
 */
export function safeFilePath(path: string): string | { problem: string } {
  const p = path.normalize('NFC');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(p)) return { problem: 'contains a control character' };
  if (p.startsWith('/') || p.startsWith('\\')) return { problem: 'is absolute' };
  if (/^[A-Za-z]:/.test(p)) return { problem: 'starts with a drive letter' };
  const segments = p.split(/[/\\]/);
  if (segments.some((s) => s === '..')) return { problem: 'contains a .. segment' };
  if (segments.some((s) => s === '' || s === '.')) return { problem: 'contains an empty or . segment' };
  return p;
}

/** Link-local and cloud metadata addresses are never a source, whatever the patterns say. */
function isMetadataOrLinkLocal(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(h) === 4) return h.startsWith('169.254.') || h === '0.0.0.0';
  if (isIP(h) === 6) {
    if (/^fe[89ab][0-9a-f]:/.test(h) || h === 'fd00:ec2::254' || h === '::') return true;
    const mapped = /^::ffff:(.+)$/.exec(h)?.[1];
    if (mapped) return mapped.startsWith('169.254.') || /^a9fe:/.test(mapped);
    return false;
  }
  return h === 'metadata.google.internal' || h === 'instance-data' || h.endsWith('.internal.');
}

const compiled = new Map<string, RegExp>();
function pattern(source: string): RegExp | undefined {
  let re = compiled.get(source);
  if (!re) {
    try {
      re = new RegExp(source);
    } catch {
      return undefined;
    }
    if (compiled.size > 1000) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

/** Why a source URL may not be fetched, or undefined when it may. */
export function sourceUrlProblem(raw: string, policy: Pick<PartnerPolicy, 'allowedUrlPatterns' | 'allowedS3Prefixes'>): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 's3:') {
    const ok = policy.allowedS3Prefixes.some((prefix) =>
      raw.startsWith(prefix.endsWith('/') || !prefix.slice(5).includes('/') ? prefix.replace(/\/?$/, '/') : prefix),
    );
    return ok ? undefined : 'is an s3:// source outside the allowed prefixes';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `uses ${url.protocol} (only http, https and allowed s3:// sources)`;
  if (url.username || url.password) return 'carries credentials';
  if (isMetadataOrLinkLocal(url.hostname)) return 'points at a link-local or metadata address';
  const ok = policy.allowedUrlPatterns.some((p) => pattern(p)?.test(raw) === true);
  return ok ? undefined : "matches none of the partner's allowed URL patterns";
}

/** Checks every file of the event; returns it with paths NFC-normalised, or throws UnsafeSourceError. */
export function checkEventSources(
  event: PartnerEvent,
  policy: Pick<PartnerPolicy, 'allowedUrlPatterns' | 'allowedS3Prefixes'>,
): PartnerEvent {
  if (!event.files) return event;
  const seen = new Set<string>();
  const files = event.files.map((f, i) => {
    const path = safeFilePath(f.path);
    if (typeof path !== 'string')
      throw new UnsafeSourceError(`files.${i}.path`, `files.${i}.path ${JSON.stringify(f.path.slice(0, 200))} ${path.problem}`);
    if (seen.has(path))
      throw new UnsafeSourceError(`files.${i}.path`, `files.${i}.path ${JSON.stringify(path.slice(0, 200))} is listed twice`);
    seen.add(path);
    const problem = sourceUrlProblem(f.url, policy);
    if (problem) throw new UnsafeSourceError(`files.${i}.url`, `files.${i}.url of ${JSON.stringify(path.slice(0, 200))} ${problem}`);
    return { ...f, path };
  });
  return { ...event, files };
}

/**
 * Deepest nesting of a JSON text, without parsing it (no recursion, no allocation): refusing a
 * deeply nested body here keeps it from reaching anything that recurses (validation, stringify).
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
