import { connectionError, describeUrl, interrupted } from './download-errors.ts';
import type { HttpGet } from './http-get.ts';
import { type DownloadHead, type ResumableBody, openResumableBody } from './resumable-body.ts';
import { type SpoolProgress, spoolBody } from './spool-file.ts';

export type { DownloadHead } from './resumable-body.ts';

export interface DownloadOptions {
  /** URL to GET; only its origin and path appear in errors (the query holds a signature). */
  url: string;
  /** Spool file to create if the body is spooled; must not exist. */
  dest: string;
  /** Most bytes accepted; more is a ZipTooLarge PermanentError. */
  maxBytes: number;
  /** Milliseconds without a byte after which the download counts as stalled. */
  stallTimeoutMs: number;
  get: HttpGet;
  signal?: AbortSignal;
}

/** The body handed to one sequential reader: chunks in order, `null` once it ended whole. */
export interface BodyReader {
  next(): Promise<Buffer | null>;
}

/**
 * A download whose body waits, unread, until its reader is chosen: either the spool file
 * (`spool()`, readable while it is written: `waitFor(n)` resolves once the first n bytes are on
 * disk), or one sequential reader in memory (`stream()`), which then sets the pace.
 */
export interface Download extends SpoolProgress {
  /** Resolves once the response headers are in; rejects like `done`. */
  readonly head: Promise<DownloadHead>;
  /** Resolves with the byte count once the whole body is read (and spooled); rejects with a classified error. */
  readonly done: Promise<number>;
  /** Bytes read so far (spooled: on disk). */
  readonly bytes: number;
  /** The error the download ended with, once it has (undefined while it runs or after success). */
  readonly failure: unknown;
  /** Times a broken or stalled connection was picked up where it stopped (by Range). */
  readonly resumes: number;
  /** Writes the body to the spool file. Does nothing if it is already spooling; an error if it is streamed. */
  spool(): void;
  /** The body for one sequential reader, or undefined if it is already being spooled. Once only. */
  stream(): BodyReader | undefined;
  /**
   * Resolves once at least `n` bytes are on disk (spooling the body if no reader was chosen); rejects if the download fails or ends first.
   */
  waitFor(n: number): Promise<void>;
}

/**
 * Starts the export download (a ResumableBody: classified errors, resumed by Range when its
 * connection breaks or stalls) and holds its body until a reader is chosen: the spool file
 * (never more than about a MiB of it in memory: the write stream's buffer) or one sequential
 * reader. An abort of `signal` ends whatever waits on it.
 */
export function startDownload(o: DownloadOptions): Download {
  const where = describeUrl(o.url);
  let bytes = 0;
  let ended: { error?: unknown } | undefined;
  const waiters = new Set<{ n: number; resolve: () => void; reject: (err: unknown) => void }>();
  const settleWaiters = () => {
    for (const w of waiters) {
      if (w.n <= bytes) w.resolve();
      else if (ended) w.reject(ended.error ?? interrupted(where, bytes, `before byte ${w.n}`));
      else continue;
      waiters.delete(w);
    }
  };

  let mode: 'spool' | 'stream' | undefined;
  let chooseMode!: () => void;
  const modeChosen = new Promise<void>((resolve) => (chooseMode = resolve));
  /** Settled by the stream reader: when it has read the end, or failed. */
  let streamEnd!: { resolve: () => void; reject: (err: unknown) => void };
  const streamEnded = new Promise<void>((resolve, reject) => (streamEnd = { resolve, reject }));
  streamEnded.catch(() => undefined);
  /** Rejects when the download is aborted from outside, so nothing waits on an abandoned reader. */
  const abandoned = new Promise<never>((_, reject) => {
    const onAbort = () =>
      reject(
        connectionError(o.signal?.reason, { where, what: 'aborted', signal: o.signal, stalled: false, stallTimeoutMs: o.stallTimeoutMs }),
      );
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  abandoned.catch(() => undefined);

  let body: ResumableBody | undefined;
  const opened = openResumableBody({
    url: o.url,
    where,
    maxBytes: o.maxBytes,
    stallTimeoutMs: o.stallTimeoutMs,
    get: o.get,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const done = (async () => {
    try {
      body = await opened;
      await Promise.race([modeChosen, abandoned]);
      if (mode === 'spool') {
        const b = body;
        await spoolBody(
          o.dest,
          () => b.pull(),
          (n) => {
            bytes += n;
            settleWaiters();
          },
        ).catch((err: unknown) => {
          throw connectionError(err, {
            where,
            what: 'could not be spooled',
            signal: o.signal,
            stalled: false,
            stallTimeoutMs: o.stallTimeoutMs,
          });
        });
      } else await Promise.race([streamEnded, abandoned]);
      ended = {};
      return bytes;
    } catch (err) {
      ended = { error: err };
      // Stop the connection: nobody reads the rest.
      await body?.close();
      throw err;
    } finally {
      settleWaiters();
    }
  })();
  // Whoever awaits `head` learns of a failure before the body started from it.
  const head = opened.then((b) => b.head);
  done.catch(() => undefined);
  head.catch(() => undefined);

  const spool = () => {
    if (mode === 'stream') throw new Error('export download is already streamed, it cannot be spooled');
    if (mode) return;
    mode = 'spool';
    chooseMode();
  };
  return {
    head,
    done,
    get bytes() {
      return bytes;
    },
    get failure() {
      return ended?.error;
    },
    get resumes() {
      return body?.resumes ?? 0;
    },
    spool,
    stream() {
      if (mode) return undefined;
      mode = 'stream';
      chooseMode();
      let over = false;
      return {
        next: async () => {
          if (over) return null;
          try {
            // The body exists once the headers are in; an abort ends the wait.
            const b = body ?? (await Promise.race([opened, abandoned]));
            const chunk = await b.pull();
            if (chunk) bytes += chunk.length;
            else {
              over = true;
              streamEnd.resolve();
            }
            return chunk;
          } catch (err) {
            over = true;
            streamEnd.reject(err);
            throw err;
          }
        },
      };
    },
    waitFor(n: number) {
      if (mode === 'stream') return Promise.reject(new Error('export download is streamed: there is no spool to wait for'));
      spool();
      return new Promise<void>((resolve, reject) => {
        waiters.add({ n, resolve, reject });
        settleWaiters();
      });
    },
  };
}
