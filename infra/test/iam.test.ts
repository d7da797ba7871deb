import { expect } from 'chai';
import type { Template } from 'aws-cdk-lib/assertions';
import { refOf, resourceNamed, resourcesOf, synth } from './support/synth.ts';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Actions that AWS does not allow to be scoped to a resource: `*` is the only valid resource. */
const NO_RESOURCE_LEVEL = new Set(['ecr:GetAuthorizationToken']);

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(t: Template, rolePrefix: string): Statement[] {
  const [roleId] = resourceNamed(t, 'AWS::IAM::Role', rolePrefix);
  return resourcesOf(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Roles as unknown[]).some((r) => refOf(r) === roleId))
    .flatMap(([, p]) => p.PolicyDocument.Statement as Statement[]);
}

function bySid(statements: Statement[], sid: string): Statement {
  const s = statements.find((x) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}; have ${statements.map((x) => x.Sid).join(', ')}`);
  return s;
}

/** Logical ids a resource value points at (`Ref`, `GetAtt`, or inside a `Fn::Join`). */
function idsIn(resource: unknown): string[] {
  return [...JSON.stringify(resource).matchAll(/"(?:Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)"/g)]
    .map((m) => m[1]!)
    .filter((id) => !id.startsWith('AWS'));
}

/** The object keys (after `arn:…:bucket/`) a statement's resources name, sorted. */
function objectKeysOf(resource: unknown): string[] {
  return asList(resource)
    .map((r) => {
      const text = typeof r === 'string' ? r : JSON.stringify(r);
      // `arn:aws:s3:::bucket/<key>`, or a Join ending in `"/<key>"]]}`: the key is after the first `/`.
      const m = /\/([^"/][^"]*?)"?\]*\}*$/.exec(text);
      return m ? m[1]! : text;
    })
    .sort();
}

describe('least-privilege IAM', function () {
  this.timeout(60_000);
  let t: Template;
  before(() => {
    t = synth().template;
  });

  it('has no statement with a `*` resource, except for actions AWS cannot scope to a resource', () => {
    const offenders: string[] = [];
    for (const [id, p] of resourcesOf(t, 'AWS::IAM::Policy')) {
      for (const s of p.PolicyDocument.Statement as Statement[]) {
        if (!asList(s.Resource).includes('*')) continue;
        const scopable = asList(s.Action).filter((a) => !NO_RESOURCE_LEVEL.has(a));
        if (scopable.length > 0) offenders.push(`${id}: ${scopable.join(', ')}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it('grants no wildcard actions', () => {
    for (const [id, p] of resourcesOf(t, 'AWS::IAM::Policy')) {
      for (const s of p.PolicyDocument.Statement as Statement[]) {
        for (const a of asList(s.Action)) expect(a, id).to.not.match(/\*/);
      }
    }
  });

  it('lets the ingress only send to the jobs queue, touch dedupe and execution items, and read partners and their secrets', () => {
    const statements = statementsOf(t, 'IngressTaskTaskRole');
    const [jobsId] = resourceNamed(t, 'AWS::SQS::Queue', 'JobsQueue');
    const dedupe = resourceNamed(t, 'AWS::DynamoDB::Table', 'DedupeTable')[0];
    const executions = resourceNamed(t, 'AWS::DynamoDB::Table', 'ExecutionsTable')[0];
    const partners = resourceNamed(t, 'AWS::DynamoDB::Table', 'PartnersTable')[0];
    expect(statements.map((s) => s.Sid).sort()).to.deep.equal([
      'DedupeAndExecutionItems',
      'EnqueueJobs',
      'PartnerEventQueries',
      'PartnerRegistryRead',
      'PartnerSecrets',
      'ReadinessProbes',
    ]);
    const enqueue = bySid(statements, 'EnqueueJobs');
    expect(asList(enqueue.Action).sort()).to.deep.equal(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(idsIn(enqueue.Resource)).to.deep.equal([jobsId]);
    const items = bySid(statements, 'DedupeAndExecutionItems');
    expect(asList(items.Action).sort()).to.deep.equal([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(idsIn(items.Resource).sort()).to.deep.equal([dedupe, executions].sort());
    expect(idsIn(bySid(statements, 'ReadinessProbes').Resource).sort()).to.deep.equal([dedupe, executions].sort());
    // Partners: the registry read-only, the executions only through their indexes, secrets only under the prefix.
    const registry = bySid(statements, 'PartnerRegistryRead');
    expect(asList(registry.Action).sort()).to.deep.equal(['dynamodb:GetItem', 'dynamodb:Scan']);
    expect(idsIn(registry.Resource)).to.deep.equal([partners]);
    expect(JSON.stringify(bySid(statements, 'PartnerEventQueries').Resource)).to.include('/index/byEntry');
    expect(idsIn(bySid(statements, 'PartnerEventQueries').Resource)).to.deep.equal([executions, executions]);
    expect(asList(bySid(statements, 'PartnerSecrets').Action)).to.deep.equal(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(bySid(statements, 'PartnerSecrets').Resource)).to.include(':secret:bptest-partners/*');
    const elsewhere = statements.filter((s) => !s.Sid?.startsWith('Partner')).flatMap((s) => asList(s.Action));
    const actions = statements.flatMap((s) => asList(s.Action));
    for (const forbidden of ['s3:', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
      expect(
        actions.filter((a) => a.startsWith(forbidden)),
        forbidden,
      ).to.deep.equal([]);
    }
    for (const forbidden of ['secretsmanager:', 'dynamodb:Scan', 'dynamodb:Query']) {
      expect(
        elsewhere.filter((a) => a.startsWith(forbidden)),
        forbidden,
      ).to.deep.equal([]);
    }
  });

  it('lets the worker do exactly what the pipeline needs, each action on its own resources', () => {
    const statements = statementsOf(t, 'WorkerTaskTaskRole');
    const [jobsId] = resourceNamed(t, 'AWS::SQS::Queue', 'JobsQueue');
    const [dlqId] = resourceNamed(t, 'AWS::SQS::Queue', 'DeadLetterQueue');
    const [bucketId] = resourceNamed(t, 'AWS::S3::Bucket', 'PackageBucket');
    // Every table but the partner registry: a partner job carries the policy it needs.
    const tables = resourcesOf(t, 'AWS::DynamoDB::Table')
      .map(([id]) => id)
      .filter((id) => !id.startsWith('PartnersTable'))
      .sort();
    const [clusterId] = resourceNamed(t, 'AWS::ECS::Cluster', 'Cluster');

    const consume = bySid(statements, 'ConsumeJobs');
    expect(asList(consume.Action).sort()).to.deep.equal([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    expect(idsIn(consume.Resource)).to.deep.equal([jobsId]);
    const dead = bySid(statements, 'DeadLetterJobs');
    expect(asList(dead.Action)).to.deep.equal(['sqs:SendMessage']);
    expect(idsIn(dead.Resource)).to.deep.equal([dlqId]);

    const items = bySid(statements, 'PipelineItems');
    expect(idsIn(items.Resource).sort()).to.deep.equal(tables);
    expect(asList(items.Action)).to.not.include.members(['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteTable']);
    const queries = bySid(statements, 'ExecutionQueries');
    expect(JSON.stringify(queries.Resource)).to.include('/index/byEntry').and.include('/index/byStatus');

    // Each S3 statement: exactly the actions the code issues, on exactly the prefixes it writes.
    const s3 = (sid: string) => {
      const st = bySid(statements, sid);
      expect(
        idsIn(st.Resource).every((id) => id === bucketId),
        sid,
      ).to.equal(true);
      return { actions: asList(st.Action).sort(), keys: objectKeysOf(st.Resource) };
    };
    expect(s3('PackageFiles')).to.deep.equal({
      actions: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:PutObject'],
      keys: ['benchling/*'],
    });
    expect(s3('ExecutionFileLists')).to.deep.equal({
      actions: ['s3:GetObject', 's3:PutObject'],
      keys: ['.benchling-packager/executions/*'],
    });
    expect(s3('QuiltManifests')).to.deep.equal({ actions: ['s3:GetObject', 's3:PutObject'], keys: ['.quilt/packages/*'] });
    expect(s3('QuiltPointers')).to.deep.equal({ actions: ['s3:GetObject', 's3:PutObject'], keys: ['.quilt/named_packages/benchling/*'] });
    const list = bySid(statements, 'ListPackagePrefixes');
    expect(asList(list.Action)).to.deep.equal(['s3:ListBucket']);
    expect(idsIn(list.Resource)).to.deep.equal([bucketId]);
    expect(list.Condition).to.deep.equal({ StringLike: { 's3:prefix': ['benchling/*', '.quilt/named_packages/benchling/*'] } });
    // No delete anywhere but under the package prefixes; nothing at all on other packages' pointers.
    const deletes = statements.filter((st) => asList(st.Action).some((a) => a.startsWith('s3:Delete')));
    expect(deletes.map((st) => st.Sid)).to.deep.equal(['PackageFiles']);

    const protection = bySid(statements, 'ScaleInProtection');
    expect(asList(protection.Action)).to.include('ecs:UpdateTaskProtection');
    expect(JSON.stringify(protection.Resource)).to.include(':task/').and.include(clusterId);
    expect(statements.map((s) => s.Sid).sort()).to.deep.equal([
      'ConsumeJobs',
      'DeadLetterJobs',
      'ExecutionFileLists',
      'ExecutionQueries',
      'ListPackagePrefixes',
      'PackageFiles',
      'PipelineItems',
      'QuiltManifests',
      'QuiltPointers',
      'ScaleInProtection',
    ]);
  });

  it('scopes package files and pointers to each configured tenant’s own prefix', () => {
    const two = synth({ benchlingTenants: ['ten_a=https://a.benchling.com', 'ten_b=https://b.benchling.com=lab-b'] });
    const statements = statementsOf(two.template, 'WorkerTaskTaskRole');
    expect(objectKeysOf(bySid(statements, 'PackageFiles').Resource)).to.deep.equal(['benchling/*', 'lab-b/*']);
    expect(objectKeysOf(bySid(statements, 'QuiltPointers').Resource)).to.deep.equal([
      '.quilt/named_packages/benchling/*',
      '.quilt/named_packages/lab-b/*',
    ]);
    const [, task] = resourceNamed(two.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
    const env = Object.fromEntries(
      task.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env.BENCHLING_TENANTS).to.equal('ten_a=https://a.benchling.com=benchling,ten_b=https://b.benchling.com=lab-b');
  });

  it('lets only the worker execution role read the Benchling secret, and only that secret', () => {
    const [secretId] = resourceNamed(t, 'AWS::SecretsManager::Secret', 'BenchlingCredentials');
    // (The ingress task role reads partner secrets by name prefix: PartnerSecrets, tested above.)
    const readers = resourcesOf(t, 'AWS::IAM::Policy').filter(([, p]) =>
      (p.PolicyDocument.Statement as Statement[]).some(
        (s) => s.Sid !== 'PartnerSecrets' && asList(s.Action).some((a) => a.startsWith('secretsmanager:')),
      ),
    );
    expect(readers).to.have.length(1);
    const [roleRef] = readers[0]![1].Roles as unknown[];
    expect(refOf(roleRef)).to.match(/^WorkerTaskExecutionRole/);
    const s = (readers[0]![1].PolicyDocument.Statement as Statement[]).find((x) =>
      asList(x.Action).includes('secretsmanager:GetSecretValue'),
    )!;
    expect(idsIn(s.Resource)).to.deep.equal([secretId]);
  });

  it('adds the packager queue and the bucket key only when they are configured', () => {
    const withQueue = synth({
      quiltPublish: 'queue',
      packagerQueueArn: 'arn:aws:sqs:us-east-1:111122223333:quilt-packager.fifo',
      bucketName: 'quilt-registry',
      bucketKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/abcd',
      imageUri: '111122223333.dkr.ecr.us-east-1.amazonaws.com/bp:1.2.3',
    });
    const statements = statementsOf(withQueue.template, 'WorkerTaskTaskRole');
    expect(bySid(statements, 'PublishToPackager').Resource).to.equal('arn:aws:sqs:us-east-1:111122223333:quilt-packager.fifo');
    expect(bySid(statements, 'BucketKey').Resource).to.equal('arn:aws:kms:us-east-1:111122223333:key/abcd');
    expect(JSON.stringify(bySid(statements, 'PackageFiles').Resource))
      .to.include('arn:')
      .and.include(':s3:::quilt-registry/benchling/*');
    // The packaging engine writes `.quilt/`: a queue-mode worker neither reads nor writes there.
    expect(statements.map((s) => s.Sid)).to.not.include.members(['QuiltManifests', 'QuiltPointers']);
    expect(statements.filter((s) => JSON.stringify(s.Resource).includes('.quilt/'))).to.deep.equal([]);
    expect(bySid(statements, 'ListPackagePrefixes').Condition).to.deep.equal({ StringLike: { 's3:prefix': ['benchling/*'] } });
    withQueue.template.resourceCountIs('AWS::S3::Bucket', 0);
    const [, task] = resourceNamed(withQueue.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
    const env = Object.fromEntries(
      task.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env.PACKAGER_QUEUE_URL).to.equal('https://sqs.us-east-1.amazonaws.com/111122223333/quilt-packager.fifo');
    expect(env.QUILT_PUBLISH).to.equal('queue');
    // A prebuilt ECR image: pull rights on that repository only.
    const exec = statementsOf(withQueue.template, 'WorkerTaskExecutionRole');
    const pull = exec.find((s) => asList(s.Action).includes('ecr:BatchGetImage'))!;
    expect(JSON.stringify(pull.Resource)).to.include(':ecr:us-east-1:111122223333:repository/bp');
    for (const s of statementsOf(t, 'IngressTaskTaskRole')) expect(JSON.stringify(s)).to.not.include('PublishToPackager');
  });
});
