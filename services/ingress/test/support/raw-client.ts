import net from 'node:net';

/**
 * A hand-driven HTTP/1.1 client over a plain socket, for clients no library would be: ones that
 * send a body slowly, or not at all, or keep a connection open doing nothing. Reports the status
 * line, when it came and when the server closed the connection.
 */
export interface RawExchange {
  /** Status of the first answer, 0 if none came. */
  status: number;
  /** Milliseconds from connect to the status line (undefined without an answer). */
  answeredMs?: number;
  /** Milliseconds from connect to the server closing the socket (undefined if it stayed open). */
  closedMs?: number;
  head: string;
}

export interface RawRequest {
  path?: string;
  headers: Record<string, string>;
  /** Bytes sent right after the headers. */
  body?: Buffer | string;
  /** Then one byte every `everyMs` until the server answers or closes, at most `bytes` of them. */
  trickle?: { everyMs: number; bytes: number };
  /** Give up (and destroy the socket) after this many milliseconds. Default 10_000. */
  timeoutMs?: number;
}

export function rawExchange(baseUrl: string, r: RawRequest): Promise<RawExchange> {
  const u = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(Number(u.port), u.hostname);
    const result: RawExchange = { status: 0, head: '' };
    let received = '';
    let trickle: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearInterval(trickle);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(finish, r.timeoutMs ?? 10_000);
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})[^\r]*/.exec(received);
      if (m && result.status === 0) {
        result.status = Number(m[1]);
        result.head = m[0];
        result.answeredMs = performance.now() - started;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      result.closedMs = performance.now() - started;
      finish();
    });
    const head = [
      `POST ${r.path ?? '/event'} HTTP/1.1`,
      'Host: 127.0.0.1',
      ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head, 'latin1');
    if (r.body !== undefined && r.body.length > 0) socket.write(r.body, () => undefined);
    if (r.trickle) {
      let sent = 0;
      trickle = setInterval(() => {
        if (result.status !== 0 || socket.destroyed || sent++ >= r.trickle!.bytes) return clearInterval(trickle);
        socket.write('x', () => undefined);
      }, r.trickle.everyMs);
    }
  });
}

/** Opens a TCP connection and leaves it idle; resolves once connected (or refused). */
export function idleConnection(baseUrl: string): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  const u = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(Number(u.port), u.hostname);
    const closed = new Promise<number>((r) => socket.on('close', () => r(performance.now() - started)));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('close', () => resolve({ socket, closed }));
  });
}
