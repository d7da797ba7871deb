import { createRequire } from 'node:module';

/**
 * AWS SDK commands for test assertions (read the queue, read and plant table items).
 * @bp/ingress reaches AWS only through @bp/shared and has no @aws-sdk dependency of its own, so
 * the SDK is loaded from @bp/shared's location: the very copy the clients under test use.
 * Replace with plain imports once @bp/ingress lists @aws-sdk/* as devDependencies.
 */
const requireFromShared = createRequire(import.meta.resolve('@bp/shared'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = new (input: Record<string, unknown>) => any;

const sqs = requireFromShared('@aws-sdk/client-sqs') as Record<'ReceiveMessageCommand' | 'GetQueueAttributesCommand', AnyCommand>;
const doc = requireFromShared('@aws-sdk/lib-dynamodb') as Record<'GetCommand' | 'PutCommand' | 'ScanCommand' | 'TransactWriteCommand', AnyCommand>;

export const { ReceiveMessageCommand, GetQueueAttributesCommand } = sqs;
export const { GetCommand, PutCommand, ScanCommand, TransactWriteCommand } = doc;
