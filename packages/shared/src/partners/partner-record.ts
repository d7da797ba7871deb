import { PermanentError } from '../errors.ts';
import type { PartnerEventType } from './event.ts';
import type { PartnerFormat, PartnerSettings } from './partner-input.ts';

/* A partner as the registry stores it, as operators see it, and the registry's errors. */

/** Where one secret lives: its ARN in the vault, or (no vault configured) the value. */
export interface StoredSecret {
  secretArn?: string;
  value?: string;
  addedAt: string;
  /** Previous secret only: it stops verifying after this time (the configured overlap). */
  validUntil?: string;
}

export interface PartnerRecord {
  partnerId: string;
  name: string;
  active: boolean;
  eventTypes: PartnerEventType[];
  secrets: { current: StoredSecret; previous?: StoredSecret };
  timeoutSeconds: number;
  maxRetries: number;
  callbackUrl?: string;
  /** Anchored regexes an http(s) source URL must match. */
  allowedUrlPatterns: string[];
  /** `s3://bucket/prefix` sources allowed. */
  allowedS3Prefixes: string[];
  namespace: string;
  format: PartnerFormat;
  createdAt: string;
  updatedAt: string;
}

/** A partner as operators see it: everything but secrets (only when each was added, and where it lives). */
export type PartnerView = Omit<PartnerRecord, 'secrets'> & {
  secrets: {
    current: { addedAt: string; store: SecretStoreKind };
    previous?: { addedAt: string; validUntil?: string; store: SecretStoreKind };
  };
};
export type SecretStoreKind = 'secretsmanager' | 'table';

/** Keeps secret values out of the table (AWS Secrets Manager; see secret-vault.ts). */
export interface PartnerSecretVault {
  /** Stores a new secret for the partner; returns its ARN. */
  put(partnerId: string, secret: string): Promise<string>;
  /** The secret's value (may be cached: an ARN's value never changes, a rotation makes a new one). */
  get(secretArn: string): Promise<string>;
}

export class PartnerNotFoundError extends PermanentError {
  constructor(partnerId: string) {
    super(`no partner ${partnerId}`, { code: 'PartnerNotFound', details: { partnerId } });
  }
}

export class PartnerExistsError extends PermanentError {
  constructor(partnerId: string) {
    super(`partner ${partnerId} already exists`, { code: 'PartnerExists', details: { partnerId } });
  }
}

export interface NewPartner {
  id: string;
  name: string;
  eventTypes: PartnerEventType[];
  secret: string;
  allowUrls: string[];
  format?: PartnerFormat;
  maxRetries?: number;
  timeoutSeconds?: number;
  callbackUrl?: string;
  namespace?: string;
}

export type PartnerUpdate = Partial<PartnerSettings>;
