import net from 'node:net';

/**
 * Sends bytes that no well-behaved HTTP client would (oversized header blocks, lying or malformed
 * Content-Length, bare garbage) over a plain TCP connection and returns the status of the first
 * answer, or 0 when the server closed without answering. Bounded by `timeoutMs`.
 */
export function rawRequest(baseUrl: string, bytes: Buffer, timeoutMs = 5000): Promise<{ status: number; head: string }> {
  const u = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? '';
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, head });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).includes('\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    // The server may answer (and close) before every byte is written: ignore write errors.
    socket.write(bytes, () => undefined);
  });
}

/** An HTTP/1.1 request as raw bytes: request line, headers (in order, duplicates allowed), body. */
export function httpBytes(o: { method?: string; path?: string; headers: Array<[string, string]>; body?: Buffer | string }): Buffer {
  const head = [
    `${o.method ?? 'POST'} ${o.path ?? '/event'} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...o.headers.map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([
    Buffer.from(head, 'latin1'),
    typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : (o.body ?? Buffer.alloc(0)),
  ]);
}
