#!/usr/bin/env -S node --import tsx
/**
 * Command line for the Benchling simulator:
 *   serve   run a simulator until SIGINT/SIGTERM (env SIM_PORT, SIM_CLIENT_ID, SIM_CLIENT_SECRET,
 *           SIM_EXPORT_DELAY_MS give flag defaults)
 *   send    ask a running simulator to sign and POST a webhook to a receiver
 *   types   list the webhook types it can send
 *   canvas show <canvasId> [--json]   print a canvas of a running simulator (blocks, buttons, session)
 * This is the only file of the package that reads process.env.
 */
import { Command, InvalidArgumentError } from 'commander';
import { getInt, getOptionalString, getString } from '@bp/shared/env';
import { startSimulator } from './index.ts';
import { type CanvasSummary, formatCanvas } from './canvas-text.ts';
import { WEBHOOK_TYPES, webhookChannel, webhookKind } from './webhook-payloads.ts';
import { localPartnerSecret } from '@bp/shared/partners/local-secrets';
import { buildPartnerEvent, PARTNER_EVENT_TYPES, type PartnerEventTypeName, parseByteSize } from './partner-events.ts';
import { standardWebhookHeaders } from './partner-signing.ts';

function int(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

function rateLimit(raw: string): { limit: number; windowSeconds: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  if (!m) throw new InvalidArgumentError('expected LIMIT/WINDOW_SECONDS, e.g. 60/30');
  return { limit: Number(m[1]), windowSeconds: Number(m[2]) };
}

const env = process.env;
const program = new Command('benchling-sim').description(
  'A local Benchling tenant: OAuth, entries, exports, canvases, app sessions, JWKS and signed webhooks.',
);

program
  .command('serve')
  .description('start a simulator and keep it up until SIGINT/SIGTERM')
  .option('--port <n>', 'port to listen on (0 = any free port)', int('port'), getInt(env, 'SIM_PORT', 8090, { min: 0, max: 65535 }))
  .option('--client-id <id>', 'OAuth client id', getString(env, 'SIM_CLIENT_ID', 'sim-client'))
  .option('--client-secret <secret>', 'OAuth client secret', getString(env, 'SIM_CLIENT_SECRET', 'sim-secret'))
  .option(
    '--export-delay-ms <ms>',
    'how long exports stay RUNNING',
    int('export-delay-ms'),
    getInt(env, 'SIM_EXPORT_DELAY_MS', 500, { min: 0 }),
  )
  .option('--slow-export-delay-ms <ms>', 'how long etr_slow… exports stay RUNNING', int('slow-export-delay-ms'), 60_000)
  .option('--token-ttl-seconds <s>', 'access token lifetime', int('token-ttl-seconds'), 900)
  .option('--rate-limit <limit/window>', 'requests per window seconds per client', rateLimit, { limit: 60, windowSeconds: 30 })
  .option('--app-id <id>', 'app id', 'app_sim')
  .option('--app-definition-id <id>', 'app definition id (JWKS path)', 'appdef_sim')
  .option('--tenant-id <id>', 'tenant id in webhooks', 'ten_sim')
  .option('--zip-dir <dir>', 'where generated export ZIPs are cached', getOptionalString(env, 'SIM_ZIP_DIR'))
  .option(
    '--webhook-target <url>',
    'where canvas preview clicks send their webhooks (the ingress)',
    `http://127.0.0.1:${getInt(env, 'PORT', 8080)}`,
  )
  .option('--json', 'print the URLs as one JSON line instead of text')
  .action(async (o) => {
    const sim = await startSimulator({
      port: o.port,
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      exportDelayMs: o.exportDelayMs,
      slowExportDelayMs: o.slowExportDelayMs,
      tokenTtlSeconds: o.tokenTtlSeconds,
      rateLimit: o.rateLimit,
      appId: o.appId,
      appDefinitionId: o.appDefinitionId,
      tenantId: o.tenantId,
      ...(o.zipDir ? { zipDir: o.zipDir } : {}),
      webhookTarget: o.webhookTarget,
    });
    if (o.json) {
      console.log(
        JSON.stringify({
          url: sim.url,
          apiUrl: `${sim.url}/api/v2`,
          jwksUrl: sim.jwksUrl,
          clientId: sim.options.clientId,
          appDefinitionId: sim.options.appDefinitionId,
        }),
      );
    } else {
      console.log(`Benchling simulator listening on ${sim.url}`);
      console.log(`  API:  ${sim.url}/api/v2 (client id ${sim.options.clientId})`);
      console.log(`  JWKS: ${sim.jwksUrl}`);
    }
    const stop = async (signal: string) => {
      console.log(`${signal} received, closing`);
      await sim.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('send')
  .description('ask a running simulator to sign a webhook with its current key and POST it; exit 0 on a 2xx answer, 1 otherwise')
  .option(
    '--to <url>',
    "receiver's webhook URL (suffix /event, /lifecycle or /canvas is added unless --routing stable)",
    `http://127.0.0.1:${getInt(env, 'PORT', 8080)}`,
  )
  .requiredOption('--type <type>', `message type, e.g. ${WEBHOOK_TYPES[0]}`)
  .option('--sim <url>', 'running simulator', `http://127.0.0.1:${getInt(env, 'SIM_PORT', 8090)}`)
  .option('--entry <id>', 'entry id (resourceId)')
  .option('--canvas <id>', 'canvas id')
  .option('--button <id>', 'button id (v2.canvas.userInteracted)')
  .option('--user <id>', 'user id')
  .option('--feature <id>', 'canvas feature id')
  .option('--webhook-id <id>', 'webhook-id header (reuse to simulate a redelivery)')
  .option('--routing <mode>', 'suffixed or stable', 'suffixed')
  .option('--signature <value>', 'send this webhook-signature header instead of a valid one')
  .action(async (o) => {
    const body = {
      to: o.to,
      type: o.type,
      routing: o.routing,
      ...(o.entry ? { entryId: o.entry } : {}),
      ...(o.canvas ? { canvasId: o.canvas } : {}),
      ...(o.button ? { buttonId: o.button } : {}),
      ...(o.user ? { userId: o.user } : {}),
      ...(o.feature ? { featureId: o.feature } : {}),
      ...(o.webhookId ? { webhookId: o.webhookId } : {}),
      ...(o.signature ? { signatureOverride: o.signature } : {}),
    };
    let res: Response;
    try {
      res = await fetch(`${String(o.sim).replace(/\/+$/, '')}/_sim/webhooks/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      console.error(`could not reach the simulator at ${o.sim}: ${(err as Error).message}`);
      process.exit(2);
    }
    const text = await res.text();
    if (!res.ok) {
      console.error(`simulator refused (HTTP ${res.status}): ${text}`);
      process.exit(2);
    }
    const r = JSON.parse(text) as { status: number; body: string; webhookId: string; url: string };
    console.log(`POST ${r.url} webhook-id=${r.webhookId}`);
    console.log(`HTTP ${r.status}`);
    console.log(r.body);
    process.exit(r.status >= 200 && r.status < 300 ? 0 : 1);
  });

const partner = program
  .command('partner')
  .description('act as a sequencing partner (Illumina, ONT, PacBio): sign with Standard Webhooks and post run events');
partner
  .command('send')
  .description(
    'build a partner event whose files the running simulator serves (/partner-runs, ' +
      'Range supported), sign it and POST it; exit 0 on a 2xx answer',
  )
  .requiredOption('--partner <id>', 'partner id, e.g. illumina, ont, pacbio')
  .requiredOption('--type <type>', `event type: ${PARTNER_EVENT_TYPES.join(', ')}`)
  .requiredOption('--run <id>', 'run id')
  .option('--files <n>', 'files in the run', int('files'), 3)
  .option('--size <bytes>', 'total size of the run files, e.g. 200MB, 2GB (split over the files)', '10MB')
  .option('--format <format>', 'standard or ica', 'standard')
  .option('--to <url>', "ingress's partner route (default http://127.0.0.1:8080/webhooks/sequencing/<partner>)")
  .option('--sim <url>', 'running simulator that serves the run files', `http://127.0.0.1:${getInt(env, 'SIM_PORT', 8090)}`)
  .option('--secret <whsec>', "the partner's signing secret (default: the local stack's secret for the partner)")
  .option('--entry <id>', 'Benchling entry the run belongs to')
  .option('--tenant <id>', 'Benchling tenant of that entry')
  .option('--qc-fail', 'qc.complete: QC did not pass')
  .option('--no-sha256', 'do not state file SHA-256s (saves hashing a large run)')
  .option('--webhook-id <id>', 'webhook-id header (reuse to simulate a redelivery)')
  .option('--print', 'print the body instead of sending it')
  .action(async (o) => {
    if (!(PARTNER_EVENT_TYPES as readonly string[]).includes(o.type)) {
      console.error(`unknown --type ${o.type}; one of ${PARTNER_EVENT_TYPES.join(', ')}`);
      process.exit(2);
    }
    if (o.format !== 'standard' && o.format !== 'ica') {
      console.error('--format is standard or ica');
      process.exit(2);
    }
    const event = buildPartnerEvent({
      type: o.type as PartnerEventTypeName,
      runId: o.run,
      filesBase: o.sim,
      fileCount: o.files,
      totalBytes: parseByteSize(o.size),
      withSha256: o.sha256 !== false,
      format: o.format,
      ...(o.entry ? { entryId: o.entry } : {}),
      ...(o.tenant ? { tenantId: o.tenant } : {}),
      ...(o.qcFail ? { qcPassed: false } : {}),
    });
    const body = JSON.stringify(event);
    if (o.print) {
      console.log(JSON.stringify(event, null, 2));
      return;
    }
    const to = o.to ?? `http://127.0.0.1:${getInt(env, 'PORT', 8080)}/webhooks/sequencing/${encodeURIComponent(o.partner)}`;
    const headers = standardWebhookHeaders(o.secret ?? localPartnerSecret(o.partner), body, o.webhookId ? { id: o.webhookId } : {});
    let res: Response;
    try {
      res = await fetch(to, { method: 'POST', headers, body });
    } catch (err) {
      console.error(`could not reach ${to}: ${(err as Error).message}`);
      process.exit(2);
    }
    console.log(`POST ${to} webhook-id=${headers['webhook-id']}`);
    console.log(`HTTP ${res.status}`);
    console.log(await res.text());
    process.exit(res.ok ? 0 : 1);
  });

program
  .command('types')
  .description('list webhook message types with their channel and URL suffix')
  .action(() => {
    for (const t of WEBHOOK_TYPES) console.log(`${t.padEnd(36)} ${webhookChannel(t).padEnd(12)} /${webhookKind(t)}`);
  });

const canvas = program.command('canvas').description('inspect canvases of a running simulator');
canvas
  .command('show <canvasId>')
  .description('print a canvas: its blocks, buttons (enabled or not), data and app session; exit 1 if it does not exist')
  .option('--sim <url>', 'running simulator', `http://127.0.0.1:${getInt(env, 'SIM_PORT', 8090)}`)
  .option('--json', 'print the canvas as JSON')
  .action(async (canvasId: string, o) => {
    const base = String(o.sim).replace(/\/+$/, '');
    let res: Response;
    try {
      res = await fetch(`${base}/_sim/canvases/${encodeURIComponent(canvasId)}`);
    } catch (err) {
      console.error(`could not reach the simulator at ${o.sim}: ${(err as Error).message}`);
      process.exit(2);
    }
    if (res.status === 404) {
      console.error(`no canvas ${canvasId} in the simulator at ${base}`);
      process.exit(1);
    }
    const c = (await res.json()) as CanvasSummary;
    if (o.json) {
      console.log(JSON.stringify(c));
      return;
    }
    console.log(formatCanvas(c, `${base}/_sim/canvases/${encodeURIComponent(canvasId)}/preview`));
  });

await program.parseAsync(process.argv);
