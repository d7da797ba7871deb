import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake agent received. */
export interface AgentCall {
  method: string;
  path: string;
  body: { ProtectionEnabled?: boolean; ExpiresInMinutes?: number };
  at: number;
}

/** How the fake agent answers PUTs: like the real one, or like its failure modes. */
export type AgentMode = 'ok' | 'failure' | 'error' | 'http500';

/**
 * Plays the ECS agent's task scale-in protection endpoint (`/task-protection/v1/state`) over real
 * HTTP, with the response shapes AWS documents: `{protection}`, `{failure}`, `{error}`.
 */
export class FakeEcsAgent {
  readonly calls: AgentCall[] = [];
  mode: AgentMode = 'ok';
  /** Milliseconds to wait before answering. */
  delayMs = 0;
  private server: Server | undefined;
  private protectedUntil: Date | undefined;

  /** `ECS_AGENT_URI` pointing here. */
  get uri(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('fake ECS agent is not listening');
    return `http://127.0.0.1:${addr.port}/api/task-1234`;
  }

  /** PUT bodies only, in arrival order. */
  get states(): (boolean | undefined)[] {
    return this.calls.filter((c) => c.method === 'PUT').map((c) => c.body.ProtectionEnabled);
  }

  get isProtected(): boolean {
    return this.protectedUntil !== undefined && this.protectedUntil.getTime() > Date.now();
  }

  async start(): Promise<void> {
    const taskArn = 'arn:aws:ecs:us-east-1:111122223333:task/cluster/1234';
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: AgentCall['body'] = {};
        try {
          body = raw ? (JSON.parse(raw) as AgentCall['body']) : {};
        } catch {
          /* recorded as empty */
        }
        this.calls.push({ method: req.method ?? '', path: req.url ?? '', body, at: Date.now() });
        setTimeout(() => {
          res.setHeader('content-type', 'application/json');
          if (req.url !== '/api/task-1234/task-protection/v1/state') {
            res.statusCode = 404;
            res.end('{"error":{"Code":"NotFound","Message":"no such path"}}');
            return;
          }
          if (this.mode === 'http500') {
            res.statusCode = 500;
            res.end('agent exploded');
            return;
          }
          if (this.mode === 'failure') {
            res.end(JSON.stringify({ failure: { Arn: taskArn, Detail: null, Reason: 'TASK_NOT_VALID' } }));
            return;
          }
          if (this.mode === 'error') {
            res.statusCode = 400;
            res.end(
              JSON.stringify({
                requestID: 'r-1',
                error: { Arn: taskArn, Code: 'AccessDeniedException', Message: 'not authorized to perform: ecs:UpdateTaskProtection' },
              }),
            );
            return;
          }
          if (req.method === 'PUT') {
            this.protectedUntil = body.ProtectionEnabled ? new Date(Date.now() + (body.ExpiresInMinutes ?? 120) * 60_000) : undefined;
          }
          res.end(
            JSON.stringify({
              protection: {
                ExpirationDate: this.protectedUntil?.toISOString() ?? null,
                ProtectionEnabled: this.isProtected,
                TaskArn: taskArn,
              },
            }),
          );
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
