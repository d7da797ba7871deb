import { Command, CommanderError } from 'commander';
import { describeError, type Env, getOptionalString } from '@bp/shared';
import { addPartnerCommands } from './cli-partners.ts';
import { buildOpsDeps, type OpsDeps } from './deps.ts';
import { peekDlq } from './dlq-peek.ts';
import { type ReplayEvent, replayDlq, type ReplayTotals } from './dlq-replay.ts';
import { OpsUsageError } from './errors.ts';
import { showExecution } from './execution-detail.ts';
import { listExecutions, parseLimit, parseStatus } from './executions.ts';
import { EXIT, exitCodeFor, type ExitCode } from './exit-codes.ts';
import * as view from './format/views.ts';
import { queueStats } from './queues.ts';
import { parseRate } from './rate-pacer.ts';
import { repackage } from './repackage.ts';
import { executionStats } from './stats.ts';
import { parseSince } from './time.ts';

export interface CliIo {
  /** Environment the configuration is read from (the entry passes process.env). */
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on Ctrl-C/SIGTERM: a replay stops between two messages. */
  signal?: AbortSignal;
  /** Who runs the CLI, recorded with replays and repackages. Default `cli`. */
  user?: string;
  /** Builds the AWS-backed dependencies. Default `buildOpsDeps(env)`. */
  deps?: (env: Env) => OpsDeps & { destroy(): void };
}

/** Runs one CLI invocation (`argv` without node and script) and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  let deps: (OpsDeps & { destroy(): void }) | undefined;
  let code: ExitCode = EXIT.ok;
  const getDeps = () => (deps ??= (io.deps ?? ((env) => buildOpsDeps(env)))(io.env));
  const program = buildProgram(io, getDeps, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    const e = describeError(err);
    if (program.opts().json) io.stdout(`${JSON.stringify({ error: { code: e.class, message: e.message } }, null, 2)}\n`);
    io.stderr(`error: ${e.message}\n`);
    return exitCodeFor(err);
  } finally {
    deps?.destroy();
  }
}

function buildProgram(io: CliIo, deps: () => OpsDeps, setCode: (c: ExitCode) => void): Command {
  const program = new Command('benchling-packager-ops')
    .description('Operate benchling-packager: executions, queues, dead-letter replay, on-demand packaging.')
    .option('--json', 'print JSON for scripts instead of tables')
    .addHelpText(
      'after',
      `
Configuration comes from the same variables the services read: JOBS_QUEUE_URL, DLQ_URL, TABLE_PREFIX,
PACKAGE_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_SQS / _DYNAMODB, QUILT_CATALOG_URL; repackage also reads
OPS_TENANT_ID and OPS_BENCHLING_BASE_URL as defaults for --tenant and --base-url; partners reads
PARTNER_SECRET_STORE (secretsmanager against AWS, table with local emulators). Secrets are never printed.

Exit codes: 0 ok, 1 operation failed, 2 usage or configuration error, 3 not found, 130 interrupted.`,
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)');
  const json = () => program.opts().json === true;
  const print = (data: unknown, human: () => string) => io.stdout(json() ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
  const now = () => deps().clock();

  const executions = program.command('executions').description('list and inspect executions').exitOverride();
  executions
    .command('list')
    .description('executions, newest first')
    .option('--status <status>', 'only this status: QUEUED, RUNNING, SUCCEEDED, FAILED or SUPERSEDED')
    .option('--entry <entryId>', 'only this entry')
    .option('--tenant <tenantId>', 'tenant of --entry (faster: reads the entry index)')
    .option('--since <when>', 'created at or after: 30m, 2h, 7d or an ISO time (default 24h; 7d with --entry)')
    .option('--limit <n>', 'most rows (1-1000)', '20')
    .action(async (o: { status?: string; entry?: string; tenant?: string; since?: string; limit: string }) => {
      const rows = await listExecutions(deps(), {
        ...(o.status ? { status: parseStatus(o.status) } : {}),
        ...(o.entry ? { entryId: o.entry } : {}),
        ...(o.tenant ? { tenantId: o.tenant } : {}),
        ...(o.since ? { since: parseSince(o.since, now()) } : {}),
        limit: parseLimit(o.limit, 20),
      });
      print(rows, () => view.executionList(rows));
    });
  executions
    .command('show')
    .description('one execution: steps, attempts, timings, errors, history, package link')
    .argument('<executionId>')
    .action(async (id: string) => {
      const detail = await showExecution(deps(), id);
      print(detail, () => view.executionDetail(detail));
    });

  program
    .command('queues')
    .description('depth, in-flight and oldest message age of the jobs queue and the DLQ')
    .option('--peek-jobs', 'also sample the jobs queue for its oldest message (each peek counts as one receive of those jobs)')
    .action(async (o: { peekJobs?: boolean }) => {
      const rows = await queueStats(deps(), { peekJobs: o.peekJobs === true });
      print(rows, () => view.queues(rows));
    });

  const dlq = program.command('dlq').description('dead-letter queue: peek and replay').exitOverride();
  dlq
    .command('peek')
    .description("messages with their execution's last error, without consuming them")
    .option('--limit <n>', 'most messages (1-100)', '10')
    .action(async (o: { limit: string }) => {
      const rows = await peekDlq(deps(), { limit: parseLimit(o.limit, 10, 100) });
      print(rows, () => view.peek(rows));
    });
  dlq
    .command('replay')
    .description('move matching DLQ messages back to the jobs queue and reopen their executions')
    .option('--execution <executionId>', "only this execution's message")
    .option('--entry <entryId>', 'only messages for this entry')
    .option('--error-matches <regex>', "only messages whose execution's last error matches (case-insensitive)")
    .option('--all', 'every message')
    .option('--rate <n/s>', 'at most this many moves per second (5, 5/s, 300/m)', '5/s')
    .option('--max <n>', 'stop after moving this many')
    .option('--dry-run', 'show what would move; move nothing')
    .action(
      async (o: {
        execution?: string;
        entry?: string;
        errorMatches?: string;
        all?: boolean;
        rate: string;
        max?: string;
        dryRun?: boolean;
      }) => {
        const d = deps();
        const filter = {
          ...(o.execution ? { executionId: o.execution } : {}),
          ...(o.entry ? { entryId: o.entry } : {}),
          ...(o.errorMatches ? { errorMatches: regex(o.errorMatches) } : {}),
          ...(o.all ? { all: true } : {}),
        };
        const rate = parseRate(o.rate);
        const max = o.max === undefined ? undefined : parseLimit(o.max, 1, 1_000_000);
        const depth = (await queueStats(d)).find((q) => q.queue === 'dlq')?.visible ?? 0;
        io.stderr(`${o.dryRun ? 'dry run over' : 'replaying from'} the DLQ (~${depth} visible) at most ${rate}/s\n`);
        const result = await replayDlq(d, {
          filter,
          ratePerSecond: rate,
          dryRun: o.dryRun === true,
          ...(max !== undefined ? { maxMessages: max } : {}),
          requestedBy: io.user ?? 'cli',
          ...(io.signal ? { signal: io.signal } : {}),
          onProgress: (e, t) => io.stderr(progressLine(e, t, depth)),
        });
        print(result, () => view.replaySummary(result));
        if (result.interrupted) setCode(EXIT.interrupted);
        else if (result.totals.failed > 0) setCode(EXIT.failed);
      },
    );

  program
    .command('repackage')
    .description('start a fresh packaging of an entry now (QUEUED execution + job message)')
    .argument('<entryId>')
    .option('--tenant <tenantId>', 'tenant of the entry (default $OPS_TENANT_ID)')
    .option('--base-url <url>', 'tenant origin, e.g. https://acme.benchling.com (default $OPS_BENCHLING_BASE_URL)')
    .option('--app-id <appId>', 'Benchling app id for the canvas')
    .action(async (entryId: string, o: { tenant?: string; baseUrl?: string; appId?: string }) => {
      const tenantId = o.tenant ?? getOptionalString(io.env, 'OPS_TENANT_ID');
      const baseURL = o.baseUrl ?? getOptionalString(io.env, 'OPS_BENCHLING_BASE_URL');
      if (!tenantId) throw new OpsUsageError('repackage needs --tenant (or OPS_TENANT_ID)');
      if (!baseURL) throw new OpsUsageError('repackage needs --base-url (or OPS_BENCHLING_BASE_URL)');
      const r = await repackage(deps(), {
        tenantId,
        entryId,
        baseURL,
        ...(o.appId ? { appId: o.appId } : {}),
        requestedBy: io.user ?? 'cli',
      });
      print({ executionId: r.executionId, jobsMessageId: r.jobsMessageId, job: r.job }, () => view.repackaged(r));
    });

  program
    .command('stats')
    .description('counts by status and event type, success rate, p50/p95 duration, queue depths')
    .option('--since <when>', 'window start: 30m, 2h, 7d or an ISO time', '24h')
    .action(async (o: { since: string }) => {
      const s = await executionStats(deps(), { since: parseSince(o.since, now()) });
      print(s, () => view.stats(s));
    });

  addPartnerCommands(program, deps, print);

  return program;
}

function regex(source: string): RegExp {
  try {
    return new RegExp(source, 'i');
  } catch (err) {
    throw new OpsUsageError(`--error-matches is not a valid regular expression: ${(err as Error).message}`);
  }
}

function progressLine(e: ReplayEvent, t: ReplayTotals, depth: number): string {
  const n = t.moved + t.wouldMove + t.alreadyMoved + t.skipped + t.failed;
  const what = e.executionId ? `${e.executionId}${e.entryId ? ` (${e.entryId})` : ''}` : e.messageId;
  const tail = (e.outcome === 'moved' ? ` → jobs queue as ${e.jobsMessageId}` : '') + (e.reason ? `: ${e.reason}` : '');
  return `[${n}/~${depth}] ${e.outcome} ${what}${tail}\n`;
}
