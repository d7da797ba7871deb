import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { type DeploymentConfig, deploymentConfigFrom } from '../../src/config.ts';
import { BenchlingPackagerStack } from '../../src/stack.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A complete deployment as context, the way `-c config=…` supplies it. */
export const BASE_CONTEXT: Record<string, unknown> = {
  account: '111122223333',
  region: 'us-east-1',
  stackName: 'BpTest',
  certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555',
  domainName: 'hooks.example.com',
  benchlingCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
  benchlingAppDefinitionId: 'appdef_test123',
  benchlingTenants: ['ten_acme=https://acme.benchling.com'],
  alarmEmail: 'oncall@example.com',
};

export interface Synthesized {
  config: DeploymentConfig;
  stack: BenchlingPackagerStack;
  template: Template;
  assembly: CloudAssembly;
}

const cache = new Map<string, Synthesized>();

/**
 * Synthesises the stack from context (plus optional raw app context such as cached lookups), once
 * per distinct input: suites share the Template instead of paying for a synth per test.
 */
export function synth(overrides: Record<string, unknown> = {}, appContext: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify([overrides, appContext]);
  const hit = cache.get(key);
  if (hit) return hit;
  const ctx = { ...BASE_CONTEXT, ...overrides };
  const config = deploymentConfigFrom((k) => ctx[k]);
  const app = new App({ outdir: mkdtempSync(path.join(os.tmpdir(), 'bp-cdk-')), context: appContext });
  const stack = new BenchlingPackagerStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
    repoRoot: REPO_ROOT,
  });
  const template = Template.fromStack(stack);
  const result = { config, stack, template, assembly: app.synth() };
  cache.set(key, result);
  return result;
}

/**
 * A synthesized resource, or any object inside one, typed as `aws-cdk-lib/assertions` types what
 * `findResources` returns: CloudFormation JSON whose shape the tests assert, not the compiler.
 */
export type CfnProps = ReturnType<Template['findResources']>[string];

/** Resources of one type, as `[logicalId, properties]`. */
export function resourcesOf(t: Template, type: string): [string, CfnProps][] {
  return Object.entries(t.findResources(type)).map(([id, r]) => [id, (r.Properties as CfnProps | undefined) ?? {}]);
}

/** The single resource of a type whose logical id starts with `prefix`. */
export function resourceNamed(t: Template, type: string, prefix: string): [string, CfnProps] {
  const found = resourcesOf(t, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0]!;
}

/** `{Ref: id}` or `{Fn::GetAtt: [id, attr]}` → id; anything else → undefined. */
export function refOf(v: unknown): string | undefined {
  const o = v as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return o?.Ref ?? o?.['Fn::GetAtt']?.[0];
}
