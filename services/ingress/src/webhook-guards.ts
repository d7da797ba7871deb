import type { IncomingHttpHeaders } from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { StandardWebhookError } from '@bp/shared/partners/standard-webhooks';
import { WebhookAuthError } from '@bp/shared/webhook/verify';

/**
 * What runs on a webhook route before its handler, so that a stranger's request costs little:
 * 1. `precheck`: refuse from the headers alone (missing webhook headers, a timestamp outside the
 *    tolerance, too many signature entries, a declared length over the limit) before a single
 *    body byte is read;
 * 2. body limits: a body still incomplete `bodyTimeoutMs` after the headers is cut (408), and one
 *    whose bytes pass `maxBodyBytes` is refused (413) the moment they do;
 * 3. the raw body (decompressed bodies are held to `maxBodyBytes` by the parser).
 * Any answer given before the whole body arrived closes the connection once the body ends or the
 * deadline passes (the rest is read and discarded), so an unread body never keeps the socket.
 * Route-agnostic: each webhook route passes its own header check and limits, e.g.
 *   app.post(path, webhookGuards({ checkHeaders: (h, now) => checkWebhookHeaders(h, now, 300), … }), handler)
 */
export interface WebhookGuardOptions {
  /** Throws WebhookAuthError or StandardWebhookError when the headers alone disqualify the request (runs before the body is read). */
  checkHeaders: (headers: IncomingHttpHeaders, now: number) => void;
  /** Largest body accepted, bytes. */
  maxBodyBytes: number;
  /** Milliseconds from the headers to the last body byte. */
  bodyTimeoutMs: number;
  now: () => number;
  /** Told of every answer the guards give (to count and log it); the body is never passed. */
  record: (req: Request, res: Response, answer: { status: number; outcome: string; reason?: string }) => void;
}

export function webhookGuards(o: WebhookGuardOptions): RequestHandler[] {
  /** `lingerMs`: what is left of the body deadline (the body gets no longer than that in all). */
  const tooLarge = (req: Request, res: Response, lingerMs = o.bodyTimeoutMs) => {
    answerEarly(req, res, 413, { error: 'too_large', limitBytes: o.maxBodyBytes }, lingerMs);
    o.record(req, res, { status: 413, outcome: 'too_large' });
  };

  const precheck: RequestHandler = (req, res, next) => {
    try {
      o.checkHeaders(req.headers, o.now());
    } catch (err) {
      // Benchling's (ECDSA) or a partner's (Standard Webhooks) refusal, each with its own reasons.
      if (!(err instanceof WebhookAuthError || err instanceof StandardWebhookError)) return next(err);
      answerEarly(req, res, 401, { error: 'unauthorized', reason: err.reason }, o.bodyTimeoutMs);
      o.record(req, res, { status: 401, outcome: 'unauthorized', reason: err.reason });
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > o.maxBodyBytes) return tooLarge(req, res);
    next();
  };

  /**
   * The body parser, on a body over the limit, reads (and discards) the rest of it before it
   * reports 413: a client could make us read megabytes. Counting the bytes on the wire here
   * answers 413 and closes as soon as the limit is passed. (Listeners attached before the parser's
   * in the same tick miss no chunk: a stream starts flowing on the next tick.)
   */
  const bodyLimits: RequestHandler = (req, res, next) => {
    const deadlineAt = o.now() + o.bodyTimeoutMs;
    const timer = setTimeout(() => {
      if (res.headersSent || req.complete) return;
      closeAfterAnswer(req, res);
      res.status(408).json({ error: 'body_timeout', limitMs: o.bodyTimeoutMs });
      o.record(req, res, { status: 408, outcome: 'body_timeout' });
    }, o.bodyTimeoutMs);
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > o.maxBodyBytes && !res.headersSent) {
        req.off('data', count);
        tooLarge(req, res, Math.max(0, deadlineAt - o.now()));
      }
    };
    req.on('data', count);
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };

  // Raw bytes, whatever the content type: the signature covers the body exactly as sent.
  const rawBody = express.raw({ type: () => true, limit: o.maxBodyBytes });
  return [precheck, bodyLimits, rawBody];
}

/**
 * Answers before the body is in, without keeping any of it: the whole answer is written at once
 * (a client reads it while still sending), the rest of the body is read and discarded, and the
 * connection closes when the body ends or `lingerMs` has passed, whichever comes first. (Closing
 * at once would reset the connection under a client still sending, which then never sees the
 * answer; reading on without a bound would let a trickle hold the socket.)
 */
export function answerEarly(req: Request, res: Response, status: number, body: Record<string, unknown>, lingerMs: number): void {
  const payload = JSON.stringify(body);
  res
    .status(status)
    .set({ 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)), connection: 'close' });
  if (req.complete) {
    res.end(payload);
    return;
  }
  res.write(payload);
  const finish = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end(); // Connection: close, so Node closes the socket after this
  };
  const timer = setTimeout(finish, lingerMs);
  req.once('end', finish);
  req.once('close', finish);
  req.resume();
}

/**
 * Marks an answer given before the body was read to close the connection: Node would otherwise
 * keep reading (and discarding) a trickled body for as long as the client sends it.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (!req.complete && !res.headersSent) res.set('connection', 'close');
}
