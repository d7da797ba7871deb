import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { HttpAnswer, HttpGet } from '../transfer/index.ts';
import { forbiddenAddress, forbiddenHost, matchesAllowed, refusedWhileFetching } from './source-policy.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * An HttpGet for one run file that never leaves the partner's allow-list: every redirect target is
 * checked against the patterns (and the forbidden hosts) before it is followed, and every address
 * a host name resolves to is checked as the socket connects, so a name that resolves to the
 * metadata service (DNS rebinding) is refused too. A refusal is a PermanentError naming the file.
 */
export function guardedHttpGet(filePath: string, allowedUrlPatterns: readonly string[]): HttpGet {
  return async (url, o) => {
    let target = url;
    for (let hop = 0; ; hop++) {
      const res = await request(target, o, filePath);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return answer(res);
      res.destroy();
      if (hop === MAX_REDIRECTS) throw refusedWhileFetching(filePath, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, target);
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw refusedWhileFetching(filePath, `redirected to scheme ${next.protocol}`);
      const forbidden = forbiddenHost(next.hostname);
      if (forbidden) throw refusedWhileFetching(filePath, `redirected to a forbidden host: ${forbidden}`);
      if (!matchesAllowed(next.toString(), allowedUrlPatterns)) {
        throw refusedWhileFetching(filePath, `redirected to ${next.origin}${next.pathname}, outside the partner's allowed URL patterns`);
      }
      target = next.toString();
    }
  };
}

function request(url: string, o: { headers?: Record<string, string>; signal?: AbortSignal }, filePath: string): Promise<IncomingMessage> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = client.get(
      url,
      { headers: o.headers ?? {}, lookup: checkedLookup(filePath), ...(o.signal ? { signal: o.signal } : {}) },
      resolve,
    );
    req.once('error', reject);
  });
}

/** dns.lookup that fails the connection when the name resolves to a forbidden address. */
function checkedLookup(filePath: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addresses) {
        const why = forbiddenAddress(a.address);
        if (why) return callback(refusedWhileFetching(filePath, `${hostname} resolves to a forbidden address: ${why}`), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

function answer(res: IncomingMessage): HttpAnswer {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: res,
    discard: () => res.destroy(),
  };
}
