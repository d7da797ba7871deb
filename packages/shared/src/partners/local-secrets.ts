/**
 * The Standard Webhooks secrets of the partners the local stack seeds (illumina, ont, pacbio).
 * Local only, documented in the README: `whsec_` + base64 of the fixed bytes
 * `local-<partner>-secret-0123456789`, so the registry's seed and the partner simulator agree
 * without a shared file. Never used outside the local stack.
 */
export const LOCAL_PARTNER_IDS = ['illumina', 'ont', 'pacbio'] as const;
export type LocalPartnerId = (typeof LOCAL_PARTNER_IDS)[number];

export function localPartnerSecret(partnerId: string): string {
  return `whsec_${Buffer.from(`local-${partnerId}-secret-0123456789`, 'utf8').toString('base64')}`;
}

export const LOCAL_PARTNER_SECRETS: Readonly<Record<LocalPartnerId, string>> = Object.freeze(
  Object.fromEntries(LOCAL_PARTNER_IDS.map((id) => [id, localPartnerSecret(id)])) as Record<LocalPartnerId, string>,
);
