import { randomBytes } from 'node:crypto';
import { generateSigningKey, type SigningKey } from './signing.ts';

/**
 * The app's webhook signing keys. The newest signs; older ones stay published in the JWKS
 * during a rotation so receivers with a cached JWKS keep verifying.
 */
export class KeyRing {
  private keys: SigningKey[];
  private generation = 1;
  // Random per ring, so two simulator runs never publish different keys under one kid.
  private readonly kidPrefix = `sim-${randomBytes(4).toString('hex')}`;

  constructor(initial?: SigningKey) {
    this.keys = [initial ?? generateSigningKey(`${this.kidPrefix}-1`)];
  }

  /** Published keys, newest first. */
  all(): SigningKey[] {
    return [...this.keys];
  }

  /** The key webhooks are signed with now. */
  current(): SigningKey {
    return this.keys[0]!;
  }

  /** Makes a new key the signing key; the old ones stay published unless `keepOld` is false. */
  rotate(opts: { keepOld?: boolean } = {}): SigningKey {
    this.generation++;
    const key = generateSigningKey(`${this.kidPrefix}-${this.generation}`);
    this.keys = opts.keepOld === false ? [key] : [key, ...this.keys];
    return key;
  }

  jwks(): { keys: SigningKey['publicJwk'][] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }
}
