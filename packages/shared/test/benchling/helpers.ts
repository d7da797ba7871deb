import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../src/logger.ts';

/** The service's real logger, writing its JSON lines to memory instead of the console, so tests can read them. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ service: 'test', level: 'debug' });
  logger.clear().add(new winston.transports.Stream({ stream }));
  const raw = () => chunks.join('');
  return {
    logger,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A clock that only moves when something sleeps on it; records every sleep. */
export function fakeTime(start = 1_000_000): {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  slept: number[];
  advance: (ms: number) => void;
} {
  let t = start;
  const slept: number[] = [];
  return {
    now: () => t,
    slept,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}
