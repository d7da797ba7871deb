import { PermanentError } from '../errors.ts';

/**
 * JSON text exactly as Python's `json` module writes it. Quilt's top hash is a SHA-256 over
 * `json.dumps(x, sort_keys=True, separators=(',', ':'))`, so one differing byte (key order,
 * `1e-05` vs `1e-5`, `\u00e9` vs `é`) gives a package no Python reader can verify.
 *
 * Values follow JSON.stringify's model: `toJSON` is honoured, `undefined`/functions/symbols are
 * dropped from objects and become `null` in arrays. JS numbers carry no int/float distinction,
 * so integral numbers below 1e16 print as Python ints (`1`, never `1.0`) and the rest as Python's
 * float `repr` (`1e-05`, `1.5e+16`); a bigint prints as a Python int. NaN and ±Infinity are rejected (not JSON).
 */
export interface PythonJsonOptions {
  /** Sort object keys by Unicode code point, like `sort_keys=True`. Default true. */
  sortKeys?: boolean;
  /** Escape every non-ASCII character as `\uXXXX`, like `ensure_ascii=True`. Default true. */
  ensureAscii?: boolean;
}

/** Python's `json.dumps(value, sort_keys=True, separators=(',', ':'))`, byte for byte. */
export function canonicalJson(value: unknown): string {
  return pythonJson(value, { sortKeys: true, ensureAscii: true });
}

/** Compact JSON as Python writes it (separators `,` and `:`), with the chosen key order and escaping. */
export function pythonJson(value: unknown, opts: PythonJsonOptions = {}): string {
  const out = encode(value, '', { sortKeys: opts.sortKeys ?? true, ensureAscii: opts.ensureAscii ?? true }, []);
  if (out === undefined) throw new PermanentError('value has no JSON representation', { code: 'QuiltBadJson' });
  return out;
}

/**
 * Orders strings by Unicode code point, as Python compares `str`. JS's default `<` compares
 * UTF-16 code units, which puts astral characters (surrogate pairs) before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

/** Python's `repr(float)` of a finite number: shortest round-trip digits, exponent form when exp < -4 or >= 16. */
export function pythonFloatRepr(n: number): string {
  // toExponential() without an argument yields the shortest digits that round-trip, as repr does.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(n.toExponential());
  if (!m) throw new PermanentError(`cannot format number ${n}`, { code: 'QuiltBadJson' });
  const [, sign, lead, frac = '', expText] = m;
  const digits = lead! + frac;
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expAbs = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${expAbs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}.${fracPart === '' ? '0' : fracPart}`;
}

interface Mode {
  sortKeys: boolean;
  ensureAscii: boolean;
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
};

/** A JSON string literal escaped like Python's encoder (`ESCAPE_ASCII` or `ESCAPE`). */
export function pythonJsonString(s: string, ensureAscii = true): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || (ensureAscii && c > 0x7e) || (!ensureAscii && isLoneSurrogate(s, i))) {
      // Per UTF-16 code unit: an astral character becomes its surrogate pair, as Python writes it.
      // Without ensureAscii a lone surrogate is still escaped, so the text stays valid UTF-8.
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += s[i];
  }
  return `${out}"`;
}

function isLoneSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    return !(next >= 0xdc00 && next <= 0xdfff);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const prev = s.charCodeAt(i - 1);
    return !(prev >= 0xd800 && prev <= 0xdbff);
  }
  return false;
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new PermanentError(`${n} is not valid JSON`, { code: 'QuiltBadJson' });
  // Below 1e16 an integral number is an int (every safe integer is); from 1e16 on, a double can
  // no longer hold an exact source integer, so it was a float like 1.5e16 and prints as `1.5e+16`.
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n === 0 ? 0 : n);
  return pythonFloatRepr(n);
}

/** Returns undefined for values JSON leaves out (undefined, functions, symbols). */
function encode(value: unknown, key: string, mode: Mode, stack: object[]): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(k: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return pythonJsonString(value, mode.ensureAscii);
    case 'number':
      return encodeNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (stack.includes(obj)) throw new PermanentError('circular structure cannot be written as JSON', { code: 'QuiltBadJson' });
  stack.push(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((item, i) => encode(item, String(i), mode, stack) ?? 'null').join(',')}]`;
    }
    const keys = Object.keys(obj);
    if (mode.sortKeys) keys.sort(compareCodePoints);
    const parts: string[] = [];
    for (const k of keys) {
      const encoded = encode((obj as Record<string, unknown>)[k], k, mode, stack);
      if (encoded !== undefined) parts.push(`${pythonJsonString(k, mode.ensureAscii)}:${encoded}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    stack.pop();
  }
}
