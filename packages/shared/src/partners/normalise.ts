import { PARTNER_EVENT_TYPES, type PartnerEvent, PartnerEventSchema, type PartnerEventType } from './event.ts';
import type { PartnerFormat } from './partner-input.ts';

/**
 * A partner's JSON body → the normalised PartnerEvent (docs/partners.md). Two steps so the
 * ingress can answer in the documented order: `eventTypeOf` (400 without a type, 422 for one
 * the partner does not send), then `normalise` (400 naming the first bad field).
 */

/** The body is not an event we can read; answered 400 naming `field`. */
export class PartnerPayloadError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PartnerPayloadError';
  }
}

/** The event type is not one we map (or not one the partner sends); answered 422 naming it. */
export class UnsupportedPartnerEventError extends Error {
  constructor(
    readonly eventType: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsupportedPartnerEventError';
  }
}

/**
 * ICA event codes and the event each becomes. ICA_EXEC_028 (status changed) maps by the new
 * `eventParameters.analysisStatus`: SUCCEEDED → analysis.complete, FAILED/ABORTED →
 * error.notification; any other status (INPROGRESS…) is not an event we act on (422).
 */
export const ICA_EVENT_CODES: Record<string, { type: PartnerEventType; severity?: 'error' | 'warning' }> = {
  ICA_EXEC_002: { type: 'analysis.complete' },
  ICA_EXEC_001: { type: 'error.notification', severity: 'error' },
  ICA_EXEC_027: { type: 'error.notification', severity: 'warning' },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a body of an `ica` partner is an ICA envelope (else it is read as a standard event). */
function isIcaEnvelope(body: Json): boolean {
  return 'eventCode' in body && !('type' in body);
}

/** The event type the body claims, as a string, for the 422 check (it may be a type we do not know). */
export function eventTypeOf(body: unknown, format: PartnerFormat): string {
  if (!isObject(body)) throw new PartnerPayloadError('(body)', 'the body is not a JSON object');
  if (format === 'ica' && isIcaEnvelope(body)) {
    const code = body.eventCode;
    if (typeof code !== 'string' || code === '' || code.length > 128)
      throw new PartnerPayloadError('eventCode', 'eventCode must be a non-empty string');
    const mapped = icaType(code, body);
    if (!mapped) {
      const status = isObject(body.eventParameters) ? body.eventParameters.analysisStatus : undefined;
      throw new UnsupportedPartnerEventError(
        code,
        `ICA event ${code}${typeof status === 'string' ? ` (${status.slice(0, 64)})` : ''} is not an event we process`,
      );
    }
    return mapped.type;
  }
  const type = body.type;
  if (typeof type !== 'string' || type === '') throw new PartnerPayloadError('type', 'type must be a non-empty string');
  if (type.length > 128) throw new PartnerPayloadError('type', 'type is longer than 128 characters');
  if (!(PARTNER_EVENT_TYPES as readonly string[]).includes(type))
    throw new UnsupportedPartnerEventError(type, `event type ${type} is not one we process (${PARTNER_EVENT_TYPES.join(', ')})`);
  return type;
}

function icaType(code: string, body: Json): { type: PartnerEventType; severity?: 'error' | 'warning' } | undefined {
  if (ICA_EVENT_CODES[code]) return ICA_EVENT_CODES[code];
  if (code === 'ICA_EXEC_028') {
    const status = isObject(body.eventParameters) ? body.eventParameters.analysisStatus : undefined;
    if (status === 'SUCCEEDED') return { type: 'analysis.complete' };
    if (status === 'FAILED') return { type: 'error.notification', severity: 'error' };
    if (status === 'ABORTED') return { type: 'error.notification', severity: 'warning' };
  }
  return undefined;
}

/** The normalised event; throws PartnerPayloadError naming the first bad field (as sent). */
export function normalise(body: unknown, format: PartnerFormat): PartnerEvent {
  if (!isObject(body)) throw new PartnerPayloadError('(body)', 'the body is not a JSON object');
  const candidate = format === 'ica' && isIcaEnvelope(body) ? fromIca(body) : body;
  const parsed = PartnerEventSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(body)';
    throw new PartnerPayloadError(format === 'ica' && isIcaEnvelope(body) ? icaField(field) : field, `${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** Names an ICA envelope's field for a problem found in the event built from it. */
function icaField(field: string): string {
  if (field === 'id') return 'correlationId';
  if (field === 'timestamp') return 'timestamp';
  if (field.startsWith('run.')) return 'payload';
  return field;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** ICA envelope → standard event: the run is the analysis (`payload.reference`, else `payload.id`). */
function fromIca(body: Json): Json {
  const code = String(body.eventCode);
  const mapped = icaType(code, body);
  if (!isObject(body.payload)) throw new PartnerPayloadError('payload', 'payload must be an object (the analysis)');
  const p = body.payload;
  const runId = str(p.reference) ?? str(p.id);
  if (!runId) throw new PartnerPayloadError('payload.id', 'payload.id (or payload.reference) is required: it names the run');
  const pipeline = isObject(p.pipeline) ? p.pipeline : undefined;
  const ica = {
    eventCode: code,
    ...(body.eventParameters !== undefined ? { eventParameters: body.eventParameters } : {}),
    ...(str(body.projectId) ? { projectId: body.projectId } : {}),
    ...(str(body.payloadVersion) ? { payloadVersion: body.payloadVersion } : {}),
    ...(str(body.description) ? { description: body.description } : {}),
    payload: p,
  };
  const data: Json =
    mapped?.type === 'error.notification'
      ? { severity: mapped.severity ?? 'error', message: str(body.description) ?? str(p.summary) ?? `ICA ${code}`, code, ica }
      : {
          status: p.status,
          ...(str(p.summary) ? { summary: p.summary } : {}),
          ...(pipeline && str(pipeline.code) ? { pipeline: pipeline.code } : {}),
          ica,
        };
  return {
    id: body.correlationId,
    type: mapped?.type,
    timestamp: body.timestamp,
    run: { id: runId, ...(str(p.startDate) ? { startedAt: p.startDate } : {}), ...(str(p.endDate) ? { completedAt: p.endDate } : {}) },
    data,
  };
}
