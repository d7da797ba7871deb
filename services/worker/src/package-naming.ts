import { PermanentError } from '@bp/shared';
import { packageNameFor } from '@bp/shared/quilt/package-name';
import type { WorkerConfig } from './config.ts';

export { packageNameFor };

/**
 * The package an entry of a tenant is published as: `<tenant's prefix>/<display id>`, mapped
 * injectively to a valid Quilt name (see packageNamePart). Tenants never share a prefix
 * (parseTenants refuses it), so two tenants' entries never share a package or an S3 prefix.
 */
export function entryPackageName(config: Pick<WorkerConfig, 'benchling'>, tenantId: string, displayId: string): string {
  const tenant = config.benchling.tenants.find((t) => t.tenantId === tenantId);
  // Unreachable for a job that got a Benchling client (the same list is checked first); a guard all the same.
  if (!tenant)
    throw new PermanentError(`tenant ${JSON.stringify(tenantId)} is not served by this deployment`, {
      code: 'BenchlingTenantRejected',
      details: { tenantId },
    });
  return packageNameFor(tenant.packagePrefix, displayId);
}
