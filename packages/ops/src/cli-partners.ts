import { type Command, Option } from 'commander';
import { PARTNER_EVENT_TYPES } from '@bp/shared/partners/event';
import { parseEventTypes, type PartnerFormat } from '@bp/shared/partners/partner-input';
import { partnerView } from '@bp/shared/partners/registry';
import type { OpsDeps } from './deps.ts';
import { OpsUsageError } from './errors.ts';
import { parseLimit } from './executions.ts';
import * as view from './format/partner-views.ts';
import { listPartnerEvents, parseEventStatus, parseEventType, partnerEventStats, registryOf, showPartnerEvent } from './partner-events.ts';
import { parseDuration, parseSince } from './time.ts';

/**
 * `partners add|list|show|update|activate|deactivate|rotate-secret|stats` and `events list|show`.
 * A secret is an input only: no command prints it (views carry when it was added, not what it is).
 */
export function addPartnerCommands(program: Command, deps: () => OpsDeps, print: (data: unknown, human: () => string) => void): void {
  const now = () => deps().clock();
  const partners = program.command('partners').description('sequencing partners: registry, secrets, stats').exitOverride();
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const format = () => new Option('--format <format>', 'payload format').choices(['standard', 'ica']);
  const int = (max: number) => (v: string) => parseCount(v, max);

  partners
    .command('add')
    .description('register a partner (active at once)')
    .requiredOption('--id <id>', 'partner id, as in POST /webhooks/sequencing/<id>')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--events <types>', `comma-separated event types (${PARTNER_EVENT_TYPES.join(', ')})`)
    .requiredOption('--secret <whsec>', 'Standard Webhooks secret, whsec_<base64 of 24-64 bytes>')
    .requiredOption('--allow-url <regex>', 'anchored regex (^…$) a file URL must match, or s3://bucket/prefix; repeatable', collect)
    .addOption(format().default('standard'))
    .option('--max-retries <n>', 'receives before the event fails to the DLQ', int(100))
    .option('--timeout <seconds>', 'seconds one attempt may take', int(86_400))
    .option('--callback-url <url>', "the partner's callback URL")
    .option('--namespace <name>', 'first part of run package names (default the id)')
    .action(
      async (o: {
        id: string;
        name: string;
        events: string;
        secret: string;
        allowUrl: string[];
        format: PartnerFormat;
        maxRetries?: number;
        timeout?: number;
        callbackUrl?: string;
        namespace?: string;
      }) => {
        const p = await registryOf(deps()).add({
          id: o.id,
          name: o.name,
          eventTypes: parseEventTypes(o.events),
          secret: o.secret,
          allowUrls: o.allowUrl,
          format: o.format,
          ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
          ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
          ...(o.callbackUrl ? { callbackUrl: o.callbackUrl } : {}),
          ...(o.namespace ? { namespace: o.namespace } : {}),
        });
        print(partnerView(p), () => `added partner ${p.partnerId}\n${view.partnerDetail(partnerView(p))}`);
      },
    );

  partners
    .command('list')
    .description('every partner')
    .action(async () => {
      const rows = (await registryOf(deps()).list()).map(partnerView);
      print(rows, () => view.partnerList(rows));
    });

  partners
    .command('show')
    .argument('<id>')
    .description('one partner (never its secret)')
    .action(async (id: string) => {
      const p = partnerView(await registryOf(deps()).require(id));
      print(p, () => view.partnerDetail(p));
    });

  partners
    .command('update')
    .argument('<id>')
    .description('change settings; what is not given stays (secrets: rotate-secret)')
    .option('--name <name>')
    .option('--events <types>', 'comma-separated event types (replaces the list)')
    .option('--allow-url <regex>', 'allowed source (replaces the list); repeatable', collect)
    .addOption(format())
    .option('--max-retries <n>', 'receives before the event fails to the DLQ', int(100))
    .option('--timeout <seconds>', 'seconds one attempt may take', int(86_400))
    .option('--callback-url <url>')
    .option('--namespace <name>')
    .action(
      async (
        id: string,
        o: {
          name?: string;
          events?: string;
          allowUrl?: string[];
          format?: PartnerFormat;
          maxRetries?: number;
          timeout?: number;
          callbackUrl?: string;
          namespace?: string;
        },
      ) => {
        const p = await registryOf(deps()).update(id, {
          ...(o.name ? { name: o.name } : {}),
          ...(o.events ? { eventTypes: parseEventTypes(o.events) } : {}),
          ...(o.allowUrl ? { allowUrls: o.allowUrl } : {}),
          ...(o.format ? { format: o.format } : {}),
          ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
          ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
          ...(o.callbackUrl ? { callbackUrl: o.callbackUrl } : {}),
          ...(o.namespace ? { namespace: o.namespace } : {}),
        });
        print(partnerView(p), () => `updated partner ${id}\n${view.partnerDetail(partnerView(p))}`);
      },
    );

  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    partners
      .command(name)
      .argument('<id>')
      .description(active ? 'accept the partner’s webhooks again' : 'refuse the partner’s webhooks (403) until activated')
      .action(async (id: string) => {
        const p = partnerView(await registryOf(deps()).setActive(id, active));
        print(p, () => `partner ${id} is ${active ? 'active' : 'inactive'}`);
      });
  }

  partners
    .command('rotate-secret')
    .argument('<id>')
    .description('start a rotation (old and new secret both verify), or end it with --finish')
    .option('--secret <whsec>', 'the new secret')
    .option('--overlap <duration>', 'the old secret stops verifying after this long (e.g. 24h) even without --finish')
    .option('--finish', 'end the rotation: only the current secret verifies from now on')
    .action(async (id: string, o: { secret?: string; overlap?: string; finish?: boolean }) => {
      const registry = registryOf(deps());
      if (o.finish) {
        if (o.secret) throw usage('rotate-secret takes --secret or --finish, not both');
        const p = partnerView(await registry.finishRotation(id));
        return print(p, () => `rotation of ${id} finished: only the secret added ${p.secrets.current.addedAt} verifies`);
      }
      if (!o.secret) throw usage('rotate-secret needs --secret whsec_… (or --finish)');
      const overlap = o.overlap ? Math.round(parseDuration(o.overlap, '--overlap') / 1000) : undefined;
      const p = partnerView(await registry.rotateSecret(id, o.secret, overlap === undefined ? {} : { overlapSeconds: overlap }));
      const until = p.secrets.previous?.validUntil || `\`rotate-secret ${id} --finish\``;
      print(p, () => `rotation of ${id} started: both secrets verify until ${until}`);
    });

  partners
    .command('stats')
    .description('partner events: totals by status, partner and type, processing p50/p95, retries, success rate, queue depth')
    .option('--since <when>', 'window start: 30m, 2h, 7d or an ISO time', '24h')
    .option('--partner <id>', 'only this partner')
    .action(async (o: { since: string; partner?: string }) => {
      const s = await partnerEventStats(deps(), { since: parseSince(o.since, now()), ...(o.partner ? { partnerId: o.partner } : {}) });
      print(s, () => view.eventStats(s));
    });

  const events = program.command('events').description('partner events: status, retries, errors, package').exitOverride();
  events
    .command('list')
    .description('partner events, newest first')
    .option('--status <status>', 'received, processing, retrying, completed, failed or superseded')
    .option('--partner <id>', 'only this partner')
    .option('--type <type>', 'only this event type')
    .option('--since <when>', 'received at or after: 30m, 2h, 7d or an ISO time (default 24h)')
    .option('--limit <n>', 'most rows (1-1000)', '20')
    .action(async (o: { status?: string; partner?: string; type?: string; since?: string; limit: string }) => {
      const status = parseEventStatus(o.status);
      const type = parseEventType(o.type);
      const rows = await listPartnerEvents(deps(), {
        ...(status ? { status } : {}),
        ...(type ? { type } : {}),
        ...(o.partner ? { partnerId: o.partner } : {}),
        ...(o.since ? { since: parseSince(o.since, now()) } : {}),
        limit: parseLimit(o.limit, 20),
      });
      print(rows, () => view.eventList(rows));
    });
  events
    .command('show')
    .argument('<eventId>')
    .description('one event: status, retries, error, timings, package')
    .action(async (id: string) => {
      const e = await showPartnerEvent(deps(), id);
      print(e, () => view.eventDetail(e));
    });
}

function usage(message: string): Error {
  return new OpsUsageError(message);
}

/** A non-negative integer option (0 retries is a valid policy, so parseLimit's 1.. does not fit). */
function parseCount(v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new OpsUsageError(`expected an integer from 0 to ${max}, got "${v}"`);
  return n;
}
