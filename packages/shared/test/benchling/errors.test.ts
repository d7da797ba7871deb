import { expect } from 'chai';
import {
  BenchlingNetworkError,
  BenchlingPermanentError,
  BenchlingRateLimitError,
  BenchlingServerError,
  benchlingErrorFromFailure,
  benchlingErrorFromResponse,
  parseBenchlingErrorBody,
} from '../../src/benchling/index.ts';
import { describeError, PermanentError, TransientError } from '../../src/errors.ts';

const req = { method: 'GET', path: '/entries/etr_1?returning=id' };
const fromStatus = (status: number, headers: Record<string, string> = {}, body = '') =>
  benchlingErrorFromResponse(req, { status, headers: new Headers(headers) }, body);

describe('Benchling error classification', () => {
  it('treats 429 and every 5xx as transient, and 4xx as permanent', () => {
    for (const s of [429, 500, 502, 503, 504]) expect(fromStatus(s), String(s)).to.be.instanceOf(TransientError);
    for (const s of [400, 401, 403, 404, 409, 422, 418]) expect(fromStatus(s), String(s)).to.be.instanceOf(PermanentError);
    expect(fromStatus(418).code).to.equal('BenchlingHttp418');
    expect(fromStatus(502)).to.be.instanceOf(BenchlingServerError).with.property('code', 'BenchlingServerError');
  });

  it('reads retryAfterMs for a 429 from x-rate-limit-reset seconds', () => {
    expect(fromStatus(429, { 'x-rate-limit-reset': '12' }))
      .to.be.instanceOf(BenchlingRateLimitError)
      .with.property('retryAfterMs', 12_000);
    expect(fromStatus(429)).to.have.property('retryAfterMs', undefined);
  });

  it('never puts the query string in the error, its message or its details', () => {
    const err = fromStatus(404, {}, JSON.stringify({ error: { message: 'Not found', invalidId: 'etr_1' } }));
    expect(err.path).to.equal('/entries/etr_1');
    expect(err.message).to.equal('Benchling GET /entries/etr_1 failed with 404: Not found');
    expect(JSON.stringify(err.details)).to.not.contain('returning');
    expect(describeError(err)).to.deep.equal({ class: 'BenchlingNotFound', message: err.message, retryable: false });
  });

  it('tolerates error bodies that are not Benchling JSON', () => {
    expect(parseBenchlingErrorBody('<html>Bad gateway</html>')).to.deep.equal({});
    expect(parseBenchlingErrorBody('{"error":"invalid_client"}')).to.deep.equal({});
    expect(fromStatus(502, {}, '<html/>').message).to.equal('Benchling GET /entries/etr_1 failed with 502: server error');
  });

  it('maps a fetch timeout and a network failure to retryable network errors keeping the cause', () => {
    const timeout = benchlingErrorFromFailure(req, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(timeout).to.be.instanceOf(BenchlingNetworkError).with.property('code', 'BenchlingTimeout');
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const refused = benchlingErrorFromFailure(req, new TypeError('fetch failed', { cause }));
    expect(refused).to.include({ code: 'BenchlingNetwork', retryable: true });
    expect(refused.message).to.contain('ECONNREFUSED');
    expect((refused.cause as Error).cause).to.equal(cause);
    expect(refused).to.not.be.instanceOf(BenchlingPermanentError);
  });
});
