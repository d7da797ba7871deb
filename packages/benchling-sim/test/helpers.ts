import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/index.ts';

/**
 * A response body as `JSON.parse` types it: the simulator's JSON, whose shape each test asserts
 * rather than declares.
 */
export type JsonBody = ReturnType<typeof JSON.parse>;

export interface ApiResponse<T = JsonBody> {
  status: number;
  headers: Headers;
  body: T;
}

/** A fresh directory for one suite's generated ZIPs, removed by the returned function. */
export function tempZipDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bsim-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** `POST /token` with HTTP Basic credentials, as our client does. */
export async function fetchToken(
  sim: Simulator,
  creds = { id: sim.options.clientId, secret: sim.options.clientSecret },
): Promise<ApiResponse> {
  const res = await fetch(`${sim.url}/api/v2/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(creds.id, creds.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Calls the simulated API as an authenticated client. */
export function apiClient(sim: Simulator, token: string) {
  return async function call<T = JsonBody>(method: string, apiPath: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${sim.url}/api/v2${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

export type ApiCall = ReturnType<typeof apiClient>;

export async function authedClient(sim: Simulator): Promise<ApiCall> {
  const t = await fetchToken(sim);
  if (t.status !== 200) throw new Error(`token request failed: ${t.status}`);
  return apiClient(sim, t.body.access_token as string);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls the task until it leaves RUNNING (or `timeoutMs` passes). */
export async function awaitTask(call: ReturnType<typeof apiClient>, taskId: string, timeoutMs = 20_000): Promise<ApiResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call('GET', `/tasks/${taskId}`);
    if (r.body?.status !== 'RUNNING' || Date.now() > deadline) return r;
    await sleep(50);
  }
}

/** Starts an export and returns its finished task and the downloaded ZIP bytes. */
export async function exportAndDownload(call: ReturnType<typeof apiClient>, entryId: string, format: 'pdf' | 'html' = 'pdf') {
  const started = await call('POST', '/exports', { id: entryId, format });
  if (started.status !== 202) throw new Error(`export of ${entryId} answered ${started.status}`);
  const task = await awaitTask(call, started.body.taskId, 120_000);
  if (task.body.status !== 'SUCCEEDED') throw new Error(`export of ${entryId} ended ${JSON.stringify(task.body)}`);
  const url = task.body.response.downloadURL as string;
  const res = await fetch(url);
  return { url, response: res, zip: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A simulator for the enclosing mocha suite: started, with a client signed in, before its tests
 * and closed after them. With `zipLabel` its ZIPs go to a temp directory, removed afterwards.
 */
export function useSimulator(options: SimulatorOptions = {}, zipLabel?: string): { readonly sim: Simulator; readonly call: ApiCall } {
  const zips = zipLabel ? tempZipDir(zipLabel) : undefined;
  let sim: Simulator | undefined;
  let call: ApiCall | undefined;
  before(async () => {
    sim = await startSimulator({ ...options, ...(zips ? { zipDir: zips.dir } : {}) });
    call = await authedClient(sim);
  });
  after(async () => {
    await sim?.close();
    zips?.remove();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the simulator is started in before()');
    return value;
  };
  return {
    get sim() {
      return started(sim);
    },
    get call() {
      return started(call);
    },
  };
}
