import type { IncomingHttpHeaders } from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { WebhookAuthError } from '@bp/shared/webhook/verify';

/**
 * What runs on a webhook route before its handler, so that a stranger's request costs little:
 * 1. `precheck`: refuse from the headers alone (a declared length over the limit, missing webhook
 *    headers, a timestamp outside the tolerance, too many signature entries) before a single body
 *    byte is read;
 * 2. a body-read deadline: a body still incomplete `bodyTimeoutMs` after the headers is cut (408);
 * 3. the raw body, up to `maxBodyBytes` (413 beyond).
 * Any answer given before the whole body arrived closes the connection, so an unread body never
 * keeps the socket. Route-agnostic: each webhook route passes its own header check and limits.
 */
export interface WebhookGuardOptions {
  /** Throws WebhookAuthError when the headers alone disqualify the request (runs before the body is read). */
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
  const precheck: RequestHandler = (req, res, next) => {
    // The body parser reads an oversized body to its end before it reports 413: refuse a declared one now.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxBodyBytes) {
      closeAfterAnswer(req, res);
      res.status(413).json({ error: 'too_large', limitBytes: o.maxBodyBytes });
      o.record(req, res, { status: 413, outcome: 'too_large' });
      return;
    }
    try {
      o.checkHeaders(req.headers, o.now());
    } catch (err) {
      if (!(err instanceof WebhookAuthError)) return next(err);
      closeAfterAnswer(req, res);
      res.status(401).json({ error: 'unauthorized', reason: err.reason });
      o.record(req, res, { status: 401, outcome: 'unauthorized', reason: err.reason });
      return;
    }
    next();
  };

  const bodyDeadline: RequestHandler = (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent || req.complete) return;
      closeAfterAnswer(req, res);
      res.status(408).json({ error: 'body_timeout', limitMs: o.bodyTimeoutMs });
      o.record(req, res, { status: 408, outcome: 'body_timeout' });
    }, o.bodyTimeoutMs);
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };

  // Raw bytes, whatever the content type: the signature covers the body exactly as sent.
  const rawBody = express.raw({ type: () => true, limit: o.maxBodyBytes });
  return [precheck, bodyDeadline, rawBody];
}

/**
 * Marks an answer given before the body was read to close the connection: Node would otherwise
 * keep reading (and discarding) a trickled body for as long as the client sends it.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (!req.complete && !res.headersSent) res.set('connection', 'close');
}
