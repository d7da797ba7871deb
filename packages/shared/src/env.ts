import { ConfigError } from './errors.ts';

/** Environment as a plain map, so config parsing is a pure function testable without process.env. */
export type Env = Record<string, string | undefined>;

export function getString(env: Env, key: string, defaultValue?: string): string {
  const v = env[key];
  if (v !== undefined && v !== '') return v;
  if (defaultValue !== undefined) return defaultValue;
  throw new ConfigError(`${key} is required but not set`);
}

export function getOptionalString(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v === '' ? undefined : v;
}

export function getInt(env: Env, key: string, defaultValue: number, opts: { min?: number; max?: number } = {}): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return defaultValue;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new ConfigError(`${key} must be an integer, got "${raw}"`);
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(`${key} must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ConfigError(`${key} must be <= ${opts.max}, got ${n}`);
  return n;
}

export function getBool(env: Env, key: string, defaultValue: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return defaultValue;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

export function getEnum<T extends string>(env: Env, key: string, allowed: readonly T[], defaultValue: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return defaultValue;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
}
