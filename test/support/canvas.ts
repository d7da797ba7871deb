import { expect } from 'chai';
import type { ExecutionRecord } from '@bp/shared';
import type { RunningSystem } from './system.ts';

export type Block = { type: string; id?: string; value?: string; text?: string; enabled?: boolean; children?: Block[] };
export interface CanvasNow {
  id: string;
  blocks: Block[];
  data: string | null;
  sessionId?: string | null;
}

/** Every block, sections' children included. */
export function allBlocks(blocks: Block[]): Block[] {
  return blocks.flatMap((b) => [b, ...allBlocks(b.children ?? [])]);
}

export function buttonOf(c: CanvasNow, id: string): Block | undefined {
  return allBlocks(c.blocks).find((b) => b.type === 'BUTTON' && b.id === id);
}

export function markdownOf(c: CanvasNow): string {
  return allBlocks(c.blocks)
    .filter((b) => b.type === 'MARKDOWN')
    .map((b) => b.value ?? '')
    .join('\n');
}

/** Table rows of the Markdown (not the header or its separator). */
export function tableRows(markdown: string): string[] {
  const lines = markdown.split('\n').filter((l) => l.startsWith('| '));
  return lines.filter((l, i) => !/^\|[\s|:-]+\|$/.test(l) && !/^\| ---/.test(lines[i + 1] ?? ''));
}

/** Drives one entry's canvas through the real ingress and workers. */
export class CanvasDriver {
  constructor(
    private readonly sys: RunningSystem,
    readonly entryId: string,
  ) {}

  /** Sends like Benchling: a 503 (the ingress could not enqueue yet) is retried. */
  async send(w: Parameters<RunningSystem['send']>[0]): ReturnType<RunningSystem['send']> {
    for (let i = 0; ; i++) {
      const r = await this.sys.send(w);
      if (r.status !== 503 || i >= 4) return r;
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  /** Waits until the canvas satisfies `ok` (a packaging writes its end after its execution's final status). */
  async until(ok: (c: CanvasNow) => boolean, what: string, timeoutMs = 10_000): Promise<CanvasNow> {
    const deadline = Date.now() + timeoutMs;
    while (!ok(this.now())) {
      if (Date.now() > deadline) throw new Error(`canvas never showed ${what}; last: ${JSON.stringify(this.now().blocks)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return this.now();
  }

  /** `v2.canvas.initialized`, then waits for the canvas. */
  async init(): Promise<string> {
    const r = await this.send({ type: 'v2.canvas.initialized', entryId: this.entryId, featureId: 'quilt_entry', userId: 'ent_user1' });
    expect(r.status).to.equal(202);
    const exec = await this.sys.waitForExecution(String(r.json.executionId));
    expect(exec.status, JSON.stringify(exec.lastError)).to.equal('SUCCEEDED');
    return this.canvasId();
  }

  canvasId(): string {
    const canvases = this.sys.sim.state.canvasesFor(this.entryId);
    expect(canvases, 'one canvas').to.have.length(1);
    return String(canvases[0]!.current.id);
  }

  now(): CanvasNow {
    return this.sys.sim.state.canvasesFor(this.entryId)[0]!.current as unknown as CanvasNow;
  }

  /** Clicks a button; resolves with the execution it started, once final. */
  async click(buttonId: string, o: { timeoutMs?: number } = {}): Promise<ExecutionRecord> {
    const r = await this.send({
      type: 'v2.canvas.userInteracted',
      canvasId: this.canvasId(),
      buttonId,
      featureId: 'quilt_entry',
      userId: 'ent_user1',
    });
    expect(r.status, r.json ? JSON.stringify(r.json) : '').to.equal(202);
    return this.sys.waitForExecution(String(r.json.executionId), o);
  }

  /** Clicks a navigation button and returns the canvas it led to. */
  async go(buttonId: string): Promise<CanvasNow> {
    const exec = await this.click(buttonId);
    expect(exec.status, JSON.stringify(exec.lastError)).to.equal('SUCCEEDED');
    return this.now();
  }

  /** Clicks "Update package" and waits for the packaging to end. */
  async update(): Promise<ExecutionRecord> {
    return this.click('update-package', { timeoutMs: 60_000 });
  }
}
