import type { AnyJobMessage } from '@bp/shared';
import { type AnyJobKind, registeredKind } from '../runner/job-kind.ts';
import { appLifecycle } from './app-lifecycle.ts';
import { canvasInit } from './canvas-init.ts';
import { canvasView } from './canvas-view.ts';
import { entryPackage } from './entry-package.ts';
import { PARTNER_KINDS } from './partner.ts';

/**
 * The job kinds this worker runs. A new kind declares its steps (and its resource and receive
 * limit, if any) in its own file and is added here. Partner kinds (`partner.<eventType>`) are
 * declared in partner.ts from partner/kinds.ts.
 */
const KINDS: Partial<Record<AnyJobMessage['kind'], AnyJobKind>> = {
  'entry.package': registeredKind(entryPackage),
  'canvas.init': registeredKind(canvasInit),
  'app.lifecycle': registeredKind(appLifecycle),
  'canvas.view': registeredKind(canvasView),
  ...Object.fromEntries(Object.entries(PARTNER_KINDS).map(([k, kind]) => [k, registeredKind(kind)])),
};

export function kindOf(job: AnyJobMessage): AnyJobKind | undefined {
  return KINDS[job.kind];
}
