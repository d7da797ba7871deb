import { LOCAL_PARTNER_SECRETS } from './local-partners.ts';

/**
 * The Standard Webhooks secrets of the partners the local stack seeds (illumina, ont, pacbio):
 * one list (local-partners.ts), read by the registry's seed and by the partner simulator, so what
 * `pnpm sim partner send` signs is what the local ingress verifies. Local only, in the README.
 */
export { LOCAL_PARTNER_SECRETS };
export const LOCAL_PARTNER_IDS = Object.keys(LOCAL_PARTNER_SECRETS) as Array<keyof typeof LOCAL_PARTNER_SECRETS>;
export type LocalPartnerId = (typeof LOCAL_PARTNER_IDS)[number];

/** A seeded partner's local secret; any other partner's must be given (`--secret whsec_…`). */
export function localPartnerSecret(partnerId: string): string {
  const secret = (LOCAL_PARTNER_SECRETS as Record<string, string>)[partnerId];
  if (secret) return secret;
  const seeded = LOCAL_PARTNER_IDS.join(', ');
  throw new Error(`partner ${JSON.stringify(partnerId)} is not one the local stack seeds (${seeded}): pass --secret whsec_…`);
}
