import { createServer, type Server } from 'node:http';
import type express from 'express';
import type { IngressConfig } from './config.ts';

/**
 * The HTTP server around the app, with the limits that protect it from slow or numerous clients:
 * - at most `maxConnections` open connections (further ones are closed at once);
 * - headers must arrive within 10 s and a whole request within 15 s (a backstop for every route;
 *   webhook routes cut slow bodies sooner, see webhook-guards.ts), checked every second rather
 *   than Node's default 30 s, which let a trickled request live for over a minute;
 * - keep-alive longer than a load balancer's idle timeout (60 s), so it never reuses a connection
 *   we closed.
 */
export function createIngressServer(app: express.Application, config: Pick<IngressConfig, 'maxConnections'>): Server {
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 65_000, connectionsCheckingInterval: 1000 },
    app,
  );
  server.maxConnections = config.maxConnections;
  return server;
}
