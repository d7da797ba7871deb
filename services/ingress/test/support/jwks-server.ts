import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningKey } from '@bp/benchling-sim/signing';

/** A real HTTP JWKS endpoint whose keys, latency and health a test controls, counting fetches. */
export interface JwksServer {
  url: string;
  /** GET requests served (or attempted) so far. */
  fetches: number;
  setKeys(keys: SigningKey[]): void;
  /** Milliseconds to wait before answering. */
  setDelay(ms: number): void;
  /** Answer 500 instead of the keys. */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  let current = keys;
  let delayMs = 0;
  let failing = false;
  const state = { fetches: 0 };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    setTimeout(() => {
      if (failing) {
        res.writeHead(500).end('{"error":"down"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current.map((k) => k.publicJwk) }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/apps/appdef_test/jwks`,
    get fetches() {
      return state.fetches;
    },
    setKeys: (k) => (current = k),
    setDelay: (ms) => (delayMs = ms),
    setFailing: (f) => (failing = f),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
