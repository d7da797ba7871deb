import { Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { WORKER_NODE_OPTIONS } from '@bp/shared/node-options';

/** Services the Dockerfile builds, each a target of the same multi-stage file. */
export type ServiceTarget = 'ingress' | 'worker';

/**
 * What each container runs; the same as the Dockerfile's CMD of each target (a test holds them
 * equal), set explicitly so one prebuilt image serves both services.
 */
export const SERVICE_COMMANDS: Record<ServiceTarget, string[]> = {
  ingress: ['node', '--enable-source-maps', 'dist/ingress/main.mjs'],
  worker: ['node', '--enable-source-maps', ...WORKER_NODE_OPTIONS, 'dist/worker/main.mjs'],
};

const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+))?$/;

/**
 * The container image of one service: a prebuilt image (`imageUri`; ECR images get pull access for
 * that repository only), or the repository's Dockerfile built by `cdk deploy` as an asset.
 */
export function serviceImage(
  scope: Construct,
  o: { target: ServiceTarget; imageUri: string | undefined; repoRoot: string; arm64: boolean },
): ecs.ContainerImage {
  if (o.imageUri) {
    const m = ECR_URI.exec(o.imageUri);
    if (m) {
      const repo = ecr.Repository.fromRepositoryAttributes(scope, `${o.target}ImageRepository`, {
        repositoryName: m[3]!,
        repositoryArn: `arn:${Stack.of(scope).partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`,
      });
      return ecs.ContainerImage.fromEcrRepository(repo, m[4] ?? 'latest');
    }
    return ecs.ContainerImage.fromRegistry(o.imageUri);
  }
  return ecs.ContainerImage.fromAsset(o.repoRoot, {
    file: 'Dockerfile',
    target: o.target,
    platform: o.arm64 ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
  });
}
