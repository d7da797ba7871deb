#!/usr/bin/env node
// Biome formats to 140 columns but cannot split a long string, template or comment; this catches
// those. Checks every .ts/.mjs/.cjs file git tracks or would track (ignored files are skipped).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 140;
const SOURCE = /\.(ts|mts|cts|mjs|cjs)$/;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' })
  .split('\0')
  .filter((f) => SOURCE.test(f));

let long = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') continue; // deleted in the work tree, not yet in the index
    throw err;
  }
  text.split(/\r?\n/).forEach((line, i) => {
    // Characters as a reader counts them: code points, not UTF-16 units.
    const length = [...line].length;
    if (length > MAX) {
      long++;
      console.error(`${file}:${i + 1}: ${length} characters (max ${MAX})`);
    }
  });
}

if (long > 0) {
  console.error(`${long} line(s) over ${MAX} characters: split them by hand (the formatter cannot).`);
  process.exit(1);
}
console.log(`${files.length} files, no line over ${MAX} characters.`);
