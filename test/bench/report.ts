/**
 * What every benchmark shares: its arguments, the one JSON line it ends with under `--json`, and
 * the error that says its workload did not answer as expected (the CLI prints INVALID and exits
 * non-zero, so no ratio is ever printed for a run that measured something else).
 */
export interface BenchArgs {
  /** `--json`: end with one JSON object on the last line of stdout. */
  json: boolean;
  /** Everything after the bench name, for bench-specific flags. */
  rest: string[];
}

export class BenchInvalidError extends Error {
  override name = 'BenchInvalidError';
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  return { json: argv.includes('--json'), rest: argv.filter((a) => a !== '--json') };
}

/** The bench's figures as the last line of stdout. */
export function printJson(figures: Record<string, number | string | boolean | null>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
