import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { SERVICE_COMMANDS, type ServiceTarget } from '../../src/images.ts';
import { dockerfilePath, effective, lineage, parseDockerfile } from '../support/dockerfile.ts';
import { REPO_ROOT } from '../support/synth.ts';

const TARGETS: ServiceTarget[] = ['ingress', 'worker'];

describe('the Dockerfile (Docker cannot run here: its structure is checked, its bundles are run)', () => {
  const { args, stages } = parseDockerfile(dockerfilePath(REPO_ROOT));

  it('is multi-stage: a build stage, and one runtime target per service, ingress being the default', () => {
    expect(stages.map((s) => s.name)).to.include.members(['build', 'runtime', ...TARGETS]);
    expect(stages.at(-1)!.name, 'the last stage is what a plain `docker build` produces').to.equal('ingress');
    for (const t of TARGETS) expect(lineage(stages, t).map((s) => s.name)).to.deep.equal([t, 'runtime']);
  });

  it('runs on Node 20', () => {
    expect(args.NODE_IMAGE).to.match(/^node:20[-.]/);
    for (const s of stages.filter((x) => x.name === 'build' || x.name === 'runtime')) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG reference, literally
      expect(s.from).to.equal('${NODE_IMAGE}');
    }
  });

  it('bundles in the build stage from the frozen lockfile, and copies only the bundles into the runtime', () => {
    const build = stages.find((s) => s.name === 'build')!;
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /pnpm install --frozen-lockfile/.test(r))).to.equal(true);
    expect(runs.some((r) => /bash scripts\/bundle\.sh dist/.test(r))).to.equal(true);
    for (const s of stages.filter((x) => x.name !== 'build')) {
      for (const i of s.instructions) {
        if (i.keyword === 'COPY') expect(i.args, `${s.name}: ${i.args}`).to.match(/^--from=build \/src\/dist \.\/dist$/);
        if (i.keyword === 'RUN') expect(i.args, `${s.name} installs no packages from npm`).to.not.match(/\b(pnpm|npm|yarn)\b/);
      }
    }
  });

  it('runs as the unprivileged node user under tini, with exec-form commands that match the task definitions', () => {
    for (const t of TARGETS) {
      const users = lineage(stages, t).flatMap((s) => s.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args));
      expect(users, t).to.deep.equal(['node']);
      expect(JSON.parse(effective(stages, t, 'ENTRYPOINT')!), t).to.deep.equal(['/usr/bin/tini', '--']);
      expect(JSON.parse(effective(stages, t, 'CMD')!), t).to.deep.equal(SERVICE_COMMANDS[t]);
    }
    expect(
      stages.find((s) => s.name === 'runtime')!.instructions.some((i) => i.keyword === 'RUN' && /install .*\btini\b/.test(i.args)),
    ).to.equal(true);
  });

  it('health-checks the ingress on /health/live in exec form, and declares no check for the port-less worker', () => {
    const check = effective(stages, 'ingress', 'HEALTHCHECK')!;
    expect(check).to.match(/CMD \["node", "-e", .*\/health\/live/);
    expect(effective(stages, 'ingress', 'EXPOSE')).to.equal('8080');
    expect(effective(stages, 'worker', 'HEALTHCHECK')).to.equal('NONE');
  });

  it('keeps node_modules, git history and local state out of the build context', () => {
    const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['**/node_modules', '.git', '**/.local', '**/cdk.out', '**/dist']) expect(ignore, p).to.include(p);
  });
});
