import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * Serves a registry in the Prometheus text format. `metricsRequestHandler` is a plain
 * (req, res) handler, so it mounts on express (`app.get('/metrics', handler)`) or on node:http.
 */
export function metricsRequestHandler(
  registry: Registry,
  opts: { onError?: (errorId: string, err: unknown) => void } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    registry.metrics().then(
      (body) => {
        res.statusCode = 200;
        res.setHeader('content-type', registry.contentType);
        res.end(body);
      },
      (err: unknown) => {
        // The scraper gets an id to quote; the error itself goes to the log.
        const errorId = randomUUID();
        opts.onError?.(errorId, err);
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain');
        res.end(`metrics collection failed (error id ${errorId})`);
      },
    );
  };
}

export interface MetricsServer {
  server: Server;
  /** `http://host:port/metrics`, with the port actually bound (useful with port 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server for processes without one (the worker): GET /metrics → the registry,
 * anything else → 404. Port 0 picks a free port. Binds to `host` (default 0.0.0.0, so the
 * scraper in the same task or VPC can reach it).
 */
export async function startMetricsServer(
  port: number,
  registry: Registry,
  opts: { host?: string; onError?: (errorId: string, err: unknown) => void } = {},
): Promise<MetricsServer> {
  const handler = metricsRequestHandler(registry, opts.onError ? { onError: opts.onError } : {});
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return handler(req, res);
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain');
    res.end('not found: try GET /metrics');
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
