import { PARTNER_EVENT_TYPES, type PartnerEventType } from './event.ts';
import { type NewPartner, PartnerExistsError, type PartnerRegistry } from './registry.ts';

/**
 * The partners the local stack seeds, with secrets published in the README: they sign local
 * simulator traffic only and must never be registered anywhere else.
 */
export const LOCAL_PARTNER_SECRETS = {
  illumina: 'whsec_YnAtbG9jYWwtaWxsdW1pbmEtd2ViaG9vay1zZWNyZXQ=',
  ont: 'whsec_YnAtbG9jYWwtb250LXdlYmhvb2stc2VjcmV0ISEhISE=',
  pacbio: 'whsec_YnAtbG9jYWwtcGFjYmlvLXdlYmhvb2stc2VjcmV0ISE=',
} as const;

/** Local sources: the partner simulator's file server on loopback, and the local bucket's `partners/` prefix. */
function localSources(bucket: string): string[] {
  return ['^http://127\\.0\\.0\\.1:[0-9]{1,5}/.*$', '^http://localhost:[0-9]{1,5}/.*$', `s3://${bucket}/partners/`];
}

const ALL: PartnerEventType[] = [...PARTNER_EVENT_TYPES];

export function localPartners(bucket: string): NewPartner[] {
  return [
    // Illumina relays ICA notifications; an `ica` partner accepts standard events too.
    {
      id: 'illumina',
      name: 'Illumina (local)',
      eventTypes: ALL,
      secret: LOCAL_PARTNER_SECRETS.illumina,
      allowUrls: localSources(bucket),
      format: 'ica',
    },
    {
      id: 'ont',
      name: 'Oxford Nanopore (local)',
      eventTypes: ['sequencing.complete', 'qc.complete', 'upload.complete', 'error.notification'],
      secret: LOCAL_PARTNER_SECRETS.ont,
      allowUrls: localSources(bucket),
    },
    { id: 'pacbio', name: 'PacBio (local)', eventTypes: ALL, secret: LOCAL_PARTNER_SECRETS.pacbio, allowUrls: localSources(bucket) },
  ];
}

/** Adds the local partners that are missing; existing ones (maybe edited) are left alone. */
export async function seedLocalPartners(registry: PartnerRegistry, bucket: string): Promise<string[]> {
  const added: string[] = [];
  for (const p of localPartners(bucket)) {
    try {
      await registry.add(p);
      added.push(p.id);
    } catch (err) {
      if (!(err instanceof PartnerExistsError)) throw err;
    }
  }
  return added;
}
