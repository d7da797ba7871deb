import { randomBytes, randomUUID } from 'node:crypto';
import { signWebhook } from '@bp/shared/partners/standard-webhooks';

/** A fresh `whsec_` secret (32 random bytes). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface PartnerDelivery {
  webhookId: string;
  timestamp: number;
  body: string;
  headers: Record<string, string>;
}

/** Signs `body` like a partner: one `v1` entry per secret (two during a rotation). */
export function signedPartner(secrets: string[], body: unknown, o: { webhookId?: string; timestamp?: number } = {}): PartnerDelivery {
  const webhookId = o.webhookId ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = secrets.map((secret) => signWebhook({ secret, webhookId, timestamp, body: text })).join(' ');
  return {
    webhookId,
    timestamp,
    body: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    },
  };
}

export async function postPartner(
  baseUrl: string,
  partnerId: string,
  d: Pick<PartnerDelivery, 'headers' | 'body'>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/webhooks/sequencing/${encodeURIComponent(partnerId)}`, {
    method: 'POST',
    headers: d.headers,
    body: d.body,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/** A valid standard-format event of `type` for `runId`. */
export function standardEvent(type: string, runId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `evt_${randomUUID()}`,
    type,
    timestamp: new Date().toISOString(),
    run: { id: runId, instrument: 'NovaSeq X', flowcell: 'FC123' },
    samples: [{ id: 'S1', name: 'sample one', barcode: 'ACGT' }],
    files: [{ path: 'reads/S1_R1.fastq.gz', url: 'http://127.0.0.1:9999/runs/S1_R1.fastq.gz', size: 10 }],
    ...extra,
  };
}

/** An ICA v4 notification as ICA sends it. */
export function icaNotification(eventCode: string, analysisId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    correlationId: randomUUID(),
    timestamp: new Date().toISOString(),
    eventCode,
    eventParameters: { pipelineExecution: analysisId, analysisPreviousStatus: 'INPROGRESS', analysisStatus: 'SUCCEEDED' },
    description: 'Analysis succeeded',
    projectId: 'prj_1',
    payloadVersion: 'v4',
    payload: {
      id: analysisId,
      timeCreated: new Date().toISOString(),
      owner: { id: 'usr_1' },
      tenant: { id: 'ten_1', name: 'lab' },
      reference: `run-${analysisId}-dragen`,
      userReference: `run-${analysisId}`,
      pipeline: { id: 'pl_1', urn: 'urn:ilmn:ica:pipeline:pl_1', code: 'DRAGEN Germline' },
      status: 'SUCCEEDED',
      startDate: '2026-11-30T09:00:00Z',
      endDate: '2026-11-30T10:15:00Z',
      summary: 'ok',
      tags: { technicalTags: [], userTags: [], referenceTags: [] },
    },
    ...extra,
  };
}
