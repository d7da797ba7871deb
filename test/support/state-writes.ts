import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** DynamoDB commands that change state (the document client's commands map onto these). */
const WRITE_COMMAND =
  /^(PutItem|Put|UpdateItem|Update|DeleteItem|Delete|TransactWriteItems|TransactWrite|BatchWriteItem|BatchWrite)Command$/;

export interface StateWrite {
  command: string;
  /** Epoch ms the command was sent and answered (its SDK retries included). */
  start: number;
  end: number;
}

export interface StateWriteCounter {
  /** The write commands sent since the counter started, in the order they were sent. */
  readonly writes: ReadonlyArray<StateWrite>;
  stop(): void;
}

/**
 * Counts the state writes a DynamoDB client sends (each command once, however often the SDK
 * retried it), with AWS SDK middleware: what a bench or a test reports is what was sent, not an
 * estimate. The document client shares its DynamoDBClient's middleware stack, so counting on the
 * client sees both.
 */
export function countStateWrites(clients: DynamoDBClient[]): StateWriteCounter {
  const writes: StateWrite[] = [];
  const name = `count-state-writes-${Math.random().toString(36).slice(2)}`;
  for (const client of clients) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? '');
        if (!WRITE_COMMAND.test(command)) return next(args);
        const write = { command, start: Date.now(), end: Number.NaN };
        writes.push(write);
        try {
          return await next(args);
        } finally {
          write.end = Date.now();
        }
      },
      { step: 'initialize', name },
    );
  }
  return {
    writes,
    stop: () => {
      for (const client of clients) client.middlewareStack.remove(name);
    },
  };
}

/**
 * How many of the writes were sequential round trips: writes in flight at the same time (sent
 * alongside one another) count once, as the caller waited for them together.
 */
export function sequentialRoundTrips(writes: ReadonlyArray<StateWrite>): number {
  const sorted = [...writes].sort((a, b) => a.start - b.start);
  let trips = 0;
  let busyUntil = Number.NEGATIVE_INFINITY;
  for (const w of sorted) {
    if (w.start >= busyUntil) trips++;
    busyUntil = Math.max(busyUntil, w.end);
  }
  return trips;
}
