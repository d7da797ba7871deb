import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where the services, CLIs, the local stack and the CDK app read their environment. */
const SOURCE_DIRS = ['services', 'packages', 'infra/src', 'infra/bin'];
/** Read by the OS, Node, the AWS SDK or CDK for themselves, not configuration of ours. */
const NOT_OURS = new Set([
  'PATH',
  'HOME',
  'NODE_ENV',
  'CI',
  'ECS_AGENT_URI',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_DEFAULT_REGION',
  'CDK_DEFAULT_ACCOUNT',
  'CDK_DEFAULT_REGION',
]);

/** Every `*.ts` source file under a directory, tests and node_modules left out. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'test' || name === 'cdk.out') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * Variable names the code reads: `env.NAME`, `env['NAME']`, `process.env.NAME`, and the getters of
 * packages/shared/src/env.ts called with a literal name (`getInt(env, 'NAME', …)`).
 */
export function variablesReadIn(text: string): Set<string> {
  const names = new Set<string>();
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]+)\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
    /\bget\w*\(\s*\w+\s*,\s*['"]([A-Z][A-Z0-9_]+)['"]/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) names.add(m[1]!);
  return names;
}

/** Names in the first column of the README's "Configuration" table (several per row allowed). */
function documentedVariables(readme: string): Set<string> {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Configuration'));
  if (!section) throw new Error('README has no "## Configuration" section');
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const firstCell = line.split('|')[1]!;
    for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return names;
}

describe("README's configuration table", () => {
  it('lists every environment variable the code reads', () => {
    const read = new Map<string, string>();
    for (const dir of SOURCE_DIRS) {
      let files: string[] = [];
      try {
        files = sourceFiles(path.join(root, dir));
      } catch {
        continue;
      }
      for (const f of files)
        for (const name of variablesReadIn(readFileSync(f, 'utf8')))
          if (!NOT_OURS.has(name) && !read.has(name)) read.set(name, path.relative(root, f));
    }
    const documented = documentedVariables(readFileSync(path.join(root, 'README.md'), 'utf8'));
    const missing = [...read].filter(([name]) => !documented.has(name)).map(([name, file]) => `${name} (read in ${file})`);
    expect(missing, 'add these to the Configuration table in README.md').to.deep.equal([]);
    expect(read.size).to.be.greaterThan(40);
  });

  it('finds the names however the code reads them, so a miss is a real miss', () => {
    const found = variablesReadIn(
      `const a = getInt(env, 'ALPHA_MS', 5); const b = env.BETA; const c = process.env.GAMMA_X; const d = env['DELTA'];`,
    );
    expect([...found].sort()).to.deep.equal(['ALPHA_MS', 'BETA', 'DELTA', 'GAMMA_X']);
  });
});
