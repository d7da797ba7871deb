import type { PartnerPolicy } from './event.ts';
import type { PartnerRecord, PartnerView, SecretStoreKind, StoredSecret } from './partner-record.ts';

/** What leaves the registry: the operator's view (no secrets) and the policy a job carries. */

/** The operator's view: no secret value, no ARN. */
export function partnerView(p: PartnerRecord): PartnerView {
  const { secrets, ...rest } = p;
  const store = (s: StoredSecret): SecretStoreKind => (s.secretArn ? 'secretsmanager' : 'table');
  return {
    ...rest,
    secrets: {
      current: { addedAt: secrets.current.addedAt, store: store(secrets.current) },
      ...(secrets.previous
        ? {
            previous: {
              addedAt: secrets.previous.addedAt,
              ...(secrets.previous.validUntil ? { validUntil: secrets.previous.validUntil } : {}),
              store: store(secrets.previous),
            },
          }
        : {}),
    },
  };
}

/** What the job carries of the partner (the worker never reads the registry). */
export function partnerPolicy(p: PartnerRecord): PartnerPolicy {
  return {
    allowedUrlPatterns: p.allowedUrlPatterns,
    allowedS3Prefixes: p.allowedS3Prefixes,
    namespace: p.namespace,
    maxRetries: p.maxRetries,
    timeoutSeconds: p.timeoutSeconds,
  };
}
