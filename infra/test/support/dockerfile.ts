import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages (enough of the grammar for the checks in these tests). */
export function parseDockerfile(file: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const joined: string[] = [];
  let current = '';
  for (const raw of lines) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) joined.push(current.trim());
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of joined) {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      stages.push({ name: f[2] ?? String(stages.length), from: f[1]!, instructions: [] });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [k, v] = rest.split('=');
      args[k!] = v ?? '';
    } else {
      stages.at(-1)?.instructions.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

/** The stage and every stage it is built FROM, nearest first. */
export function lineage(stages: Stage[], name: string): Stage[] {
  const out: Stage[] = [];
  for (let s = stages.find((x) => x.name === name); s; s = stages.find((x) => x.name === s!.from)) out.push(s);
  return out;
}

/** The effective value of an instruction for a target: the nearest stage that sets it. */
export function effective(stages: Stage[], target: string, keyword: string): string | undefined {
  for (const s of lineage(stages, target)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

export const dockerfilePath = (root: string) => path.join(root, 'Dockerfile');
