import { expect } from 'chai';
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { NoSuchBucket } from '@aws-sdk/client-s3';
import { awsFailure, awsMayHaveSucceeded, classifyAwsError, describeAwsError, PermanentError, TransientError } from '../src/index.ts';
import { isConditionFailed } from '../src/executions/conditions.ts';

const meta = (httpStatusCode?: number) => ({ $metadata: { ...(httpStatusCode === undefined ? {} : { httpStatusCode }) } });

/** Pure unit tests of the one AWS error reading, on the SDK's own exception classes. */
describe('AWS errors', () => {
  it('reads throttling from the SDK’s $retryable and the error class, whatever the status', () => {
    const e = new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(400) });
    expect(classifyAwsError(e)).to.deep.include({ class: 'throttled', transient: true, status: 400 });
    expect(
      classifyAwsError(
        Object.assign(new Error('x'), { name: 'SlowDown', $fault: 'client', $retryable: { throttling: true }, ...meta(503) }),
      ),
    ).to.deep.include({ class: 'throttled' });
  });

  it('counts a server fault as transient and a client refusal as permanent', () => {
    expect(classifyAwsError(Object.assign(new Error('boom'), { name: 'InternalError', $fault: 'server', ...meta(500) }))).to.deep.include({
      class: 'server',
      transient: true,
    });
    const refused = new NoSuchBucket({ message: 'no bucket', ...meta(404) });
    expect(classifyAwsError(refused)).to.deep.include({ class: 'client', transient: false, name: 'NoSuchBucket' });
    expect(awsFailure(refused, 'reading s3://b/k', 'QuiltRegistryRead', {})).to.be.instanceOf(PermanentError);
  });

  it('counts a timeout and a broken connection as transient, and says which may have been carried out', () => {
    const timeout = Object.assign(new Error('no answer'), { name: 'TimeoutError', ...meta() });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED', ...meta() });
    const reset = Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET', ...meta() });
    expect(classifyAwsError(timeout)).to.deep.include({ class: 'timeout', transient: true });
    expect(classifyAwsError(reset)).to.deep.include({ class: 'network', transient: true });
    expect([timeout, reset, refused].map(awsMayHaveSucceeded)).to.deep.equal([true, true, false]);
    expect(awsMayHaveSucceeded(Object.assign(new Error('x'), { name: 'InternalFailure', ...meta(500) })), 'the service answered').to.equal(
      false,
    );
    expect(awsFailure(timeout, 'sending', 'QueueUnavailable', {})).to.be.instanceOf(TransientError);
  });

  it('describes an error with its name and status', () => {
    expect(describeAwsError(new NoSuchBucket({ message: 'The bucket does not exist', ...meta(404) }))).to.equal(
      'NoSuchBucket (HTTP 404): The bucket does not exist',
    );
  });

  it('tells a failed condition by its class, in a transaction too', () => {
    expect(isConditionFailed(new ConditionalCheckFailedException({ message: 'no', ...meta(400) }))).to.equal(true);
    const cancelled = new TransactionCanceledException({
      message: 'cancelled',
      ...meta(400),
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    expect(isConditionFailed(cancelled)).to.equal(true);
    expect(isConditionFailed(Object.assign(new Error('x'), { name: 'ValidationException' }))).to.equal(false);
  });
});
