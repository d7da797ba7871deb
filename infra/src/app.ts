/**
 * CDK entry (cdk.json `app`). Reads the deployment from context: `-c key=value`, or a JSON file of
 * the same keys named by `-c config=path` (explicit `-c` values win). See docs/deploy.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { deploymentConfigFrom } from './config.ts';
import { BenchlingPackagerStack } from './stack.ts';

const app = new App();
const configPath = app.node.tryGetContext('config') as string | undefined;
const fromFile = configPath ? (JSON.parse(readFileSync(path.resolve(configPath), 'utf8')) as Record<string, unknown>) : {};
const config = deploymentConfigFrom((key) => app.node.tryGetContext(key) ?? fromFile[key], {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
new BenchlingPackagerStack(app, config.stackName, {
  config,
  env: { account: config.account, region: config.region },
  repoRoot: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
  description: 'benchling-packager: Benchling webhooks → SQS → Fargate workers → Quilt packages in S3',
});
app.synth();
