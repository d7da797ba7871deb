import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@bp/shared';

/** A configured ops token: who it belongs to (for the logs) and the SHA-256 of its secret. */
export interface OpsToken {
  name: string;
  sha256: Buffer;
}

/** Shortest secret accepted: a guessable token would defeat the rate limit's purpose. */
const MIN_TOKEN_LENGTH = 16;

/**
 * Parses OPS_TOKENS: comma-separated `name=secret` (the name appears in logs) or bare secrets
 * (named `token-1`, `token-2`, … by position). Only hashes are kept in memory.
 */
export function parseOpsTokens(text: string | undefined): OpsToken[] {
  if (!text) return [];
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((entry, i) => {
      const eq = entry.indexOf('=');
      const name = eq > 0 ? entry.slice(0, eq).trim() : `token-${i + 1}`;
      const secret = eq > 0 ? entry.slice(eq + 1).trim() : entry;
      if (secret.length < MIN_TOKEN_LENGTH)
        throw new ConfigError(`OPS_TOKENS entry ${i + 1} (${name}) is shorter than ${MIN_TOKEN_LENGTH} characters`);
      return { name, sha256: sha256(secret) };
    });
}

/**
 * The token's owner, or undefined. Compares SHA-256 digests with crypto.timingSafeEqual (equal
 * lengths by construction) and always checks every token, so timing says nothing about which
 * token or how much of it matched.
 */
export function matchToken(tokens: OpsToken[], presented: string): string | undefined {
  const digest = sha256(presented);
  let owner: string | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(digest, t.sha256) && owner === undefined) owner = t.name;
  }
  return owner;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
