import type { AnyJobMessage } from '@bp/shared';

/** A step either produces its output, or asks to be run again later (await-export). */
export type StepResult<T> = { output: T } | { waitSeconds: number; job: AnyJobMessage };

/**
 * How a step's progress is written. Every step's start and end reach the execution history (with
 * their own times), but not every step needs a write of its own:
 * - `long`: its start is written before it runs, so operators see it as the current step.
 * - `durable`: its output is written before the next step runs (it is costly to redo).
 * Other steps' outputs and events travel with the next write.
 */
export interface StepOptions<C, T> {
  long?: boolean;
  durable?: boolean;
  /** A write elsewhere that goes out alongside this step's checkpoint (the entry's latest package). */
  alongside?: (context: C, output: T) => Promise<unknown>;
}

export interface StepDef<C, O, T = unknown> extends StepOptions<C, T> {
  name: string;
  run(context: C, outputs: O): Promise<StepResult<T>>;
}

/**
 * The ordered steps of one job kind, declared once: each `.step(name, run)` adds a step whose
 * `run` sees the typed outputs of the steps before it, and the order and the names come from here.
 */
export class Steps<C, O extends object = object> {
  /** Type only: each step's output by name (see StepOutputs). */
  declare readonly outputs: O;

  private constructor(readonly list: ReadonlyArray<StepDef<C, Partial<O>>>) {}

  static for<C>(): Steps<C, object> {
    return new Steps<C, object>([]);
  }

  step<N extends string, T>(
    name: N & (N extends keyof O ? never : N),
    run: (context: C, outputs: O) => Promise<StepResult<T>>,
    options: StepOptions<C, T> = {},
  ): Steps<C, O & { [K in N]: T }> {
    const def = { name, run, ...options } as unknown as StepDef<C, Partial<O & { [K in N]: T }>>;
    return new Steps<C, O & { [K in N]: T }>([...(this.list as ReadonlyArray<StepDef<C, Partial<O & { [K in N]: T }>>>), def]);
  }

  get names(): string[] {
    return this.list.map((s) => s.name);
  }
}

/** The output of each step of a declaration, by step name. */
export type StepOutputs<S extends { outputs: object }> = S['outputs'];
