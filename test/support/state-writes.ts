import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** DynamoDB commands that change state (the document client's commands map onto these). */
const WRITE_COMMAND =
  /^(PutItem|Put|UpdateItem|Update|DeleteItem|Delete|TransactWriteItems|TransactWrite|BatchWriteItem|BatchWrite)Command$/;

export interface StateWriteCounter {
  /** The write commands sent since the counter started, in order, with when each was sent. */
  readonly writes: ReadonlyArray<{ command: string; at: number }>;
  stop(): void;
}

/**
 * Counts the state writes a DynamoDB client sends (each command once, however often the SDK
 * retried it), with AWS SDK middleware: what a bench or a test reports is what was sent, not an
 * estimate. The document client shares its DynamoDBClient's middleware stack, so counting on the
 * client sees both.
 */
export function countStateWrites(clients: DynamoDBClient[]): StateWriteCounter {
  const writes: Array<{ command: string; at: number }> = [];
  const name = `count-state-writes-${Math.random().toString(36).slice(2)}`;
  for (const client of clients) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? '');
        if (WRITE_COMMAND.test(command)) writes.push({ command, at: Date.now() });
        return next(args);
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
