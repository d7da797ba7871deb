import type { Request, Router } from 'express';
import { partnerView } from '@bp/shared/partners/registry';
import type { OpsDeps } from '../deps.ts';
import { OpsUsageError } from '../errors.ts';
import { registryOf } from '../partner-events.ts';
import { callerOf } from './auth.ts';

/**
 * Partner management under the ops API (the same operations as `pnpm ops partners …`). Secrets
 * go in (add, rotate-secret) and never come out: every answer is a PartnerView.
 *   GET  /partners                     GET  /partners/:id
 *   POST /partners {id, name, events, secret, allowUrls, format?, maxRetries?, timeoutSeconds?, callbackUrl?, namespace?}
 *   PATCH /partners/:id {name?, events?, allowUrls?, format?, maxRetries?, timeoutSeconds?, callbackUrl?, namespace?}
 *   POST /partners/:id/activate        POST /partners/:id/deactivate
 *   POST /partners/:id/rotate-secret {secret, overlapSeconds?}    POST /partners/:id/rotate-secret/finish
 */
export function mountPartnerRoutes(router: Router, deps: OpsDeps): void {
  const registry = () => registryOf(deps);
  const audit = (req: Request, res: Parameters<typeof callerOf>[0], action: string) =>
    deps.logger?.info('partner changed', {
      action,
      partnerId: String(req.params.id ?? (req.body as { id?: unknown })?.id ?? '').slice(0, 64),
      by: callerOf(res)?.name ?? 'unknown',
    });

  router.get('/partners', async (_req, res) => {
    res.json({ partners: (await registry().list()).map(partnerView) });
  });
  router.get('/partners/:id', async (req, res) => {
    res.json(partnerView(await registry().require(String(req.params.id))));
  });
  router.post('/partners', async (req, res) => {
    const b = body(req);
    const p = await registry().add({
      id: text(b, 'id', true)!,
      name: text(b, 'name', true)!,
      eventTypes: list(b, 'events', true) as never,
      secret: text(b, 'secret', true)!,
      allowUrls: list(b, 'allowUrls', true)!,
      ...settings(b),
    });
    audit(req, res, 'add');
    res.status(201).json(partnerView(p));
  });
  router.patch('/partners/:id', async (req, res) => {
    const b = body(req);
    const p = await registry().update(String(req.params.id), {
      ...(b.name !== undefined ? { name: text(b, 'name', true)! } : {}),
      ...(b.events !== undefined ? { eventTypes: list(b, 'events', true) as never } : {}),
      ...(b.allowUrls !== undefined ? { allowUrls: list(b, 'allowUrls', true)! } : {}),
      ...settings(b),
    });
    audit(req, res, 'update');
    res.json(partnerView(p));
  });
  for (const [action, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    router.post(`/partners/:id/${action}`, async (req, res) => {
      const p = await registry().setActive(String(req.params.id), active);
      audit(req, res, action);
      res.json(partnerView(p));
    });
  }
  router.post('/partners/:id/rotate-secret', async (req, res) => {
    const b = body(req);
    const overlap = b.overlapSeconds;
    if (overlap !== undefined && !(Number.isInteger(overlap) && (overlap as number) > 0))
      throw new OpsUsageError('overlapSeconds must be a positive integer');
    const p = await registry().rotateSecret(
      String(req.params.id),
      text(b, 'secret', true)!,
      overlap === undefined ? {} : { overlapSeconds: overlap as number },
    );
    audit(req, res, 'rotate-secret');
    res.json(partnerView(p));
  });
  router.post('/partners/:id/rotate-secret/finish', async (req, res) => {
    const p = await registry().finishRotation(String(req.params.id));
    audit(req, res, 'rotate-secret --finish');
    res.json(partnerView(p));
  });
}

function body(req: Request): Record<string, unknown> {
  const b = req.body as unknown;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new OpsUsageError('the body must be a JSON object');
  return b as Record<string, unknown>;
}

function text(b: Record<string, unknown>, k: string, required: boolean): string | undefined {
  const v = b[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw new OpsUsageError(`${k} must be a non-empty string`);
  return v;
}

function list(b: Record<string, unknown>, k: string, required: boolean): string[] | undefined {
  const v = b[k];
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new OpsUsageError(`${k} must be a list of strings`);
  return v as string[];
}

function int(b: Record<string, unknown>, k: string): number | undefined {
  const v = b[k];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v)) throw new OpsUsageError(`${k} must be an integer`);
  return v as number;
}

/** The optional settings shared by add and update. */
function settings(b: Record<string, unknown>) {
  const format = text(b, 'format', false);
  if (format !== undefined && format !== 'standard' && format !== 'ica') throw new OpsUsageError('format must be standard or ica');
  const maxRetries = int(b, 'maxRetries');
  const timeoutSeconds = int(b, 'timeoutSeconds');
  const callbackUrl = text(b, 'callbackUrl', false);
  const namespace = text(b, 'namespace', false);
  return {
    ...(format ? { format: format as 'standard' | 'ica' } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(callbackUrl ? { callbackUrl } : {}),
    ...(namespace ? { namespace } : {}),
  };
}
