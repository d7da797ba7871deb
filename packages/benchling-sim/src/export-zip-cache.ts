import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { PermanentError } from '@bp/shared/errors';
import { type ZipPlan, ZIP_PLAN_VERSION } from './export-zip-plan.ts';
import { randomByteStream, zeroByteStream } from './prng.ts';

/**
 * Turns ZIP plans into files in `dir`, once: a file whose name is the hash of the plan key is
 * reused by later exports (and later runs), and concurrent requests for the same plan share
 * one generation. Files appear atomically (written aside, then renamed).
 */
export class ExportZipCache {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly generating = new Set<Readable>();

  constructor(readonly dir: string) {}

  /** Path of the ZIP for `plan`, generating it first if needed. */
  ensure(plan: ZipPlan): Promise<string> {
    const name = createHash('sha256').update(`${ZIP_PLAN_VERSION}:${plan.key}`).digest('hex').slice(0, 40);
    const file = path.join(this.dir, `${name}.zip`);
    let p = this.inflight.get(file);
    if (!p) {
      p = (async () => {
        if (await exists(file)) return file;
        await mkdir(this.dir, { recursive: true });
        await writeZip(plan, file, this.generating);
        return file;
      })().finally(() => this.inflight.delete(file));
      this.inflight.set(file, p);
    }
    return p;
  }

  /** Stops every generation in progress (their partial files are removed; waiting callers get an error). */
  abortAll(): void {
    for (const s of this.generating) s.destroy(new Error('simulator closed'));
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function lazy(stream: () => Readable) {
  return (cb: (err: unknown, s: NodeJS.ReadableStream) => void) => cb(null, stream());
}

function fillZip(plan: ZipPlan): yazl.ZipFile {
  const zip = new yazl.ZipFile();
  const mtime = plan.mtime;
  for (const item of plan.items) {
    switch (item.source) {
      case 'bytes':
        zip.addBuffer(item.data, item.path, { mtime, compress: item.compress, ...(item.mode === undefined ? {} : { mode: item.mode }) });
        break;
      case 'random':
        zip.addReadStreamLazy(
          item.path,
          { mtime, compress: item.compress, size: item.size },
          lazy(() => randomByteStream(item.size, item.seed)),
        );
        break;
      case 'zeros':
        zip.addReadStreamLazy(
          item.path,
          { mtime, compress: item.compress, size: item.size },
          lazy(() => zeroByteStream(item.size)),
        );
        break;
      case 'directory':
        zip.addEmptyDirectory(item.path, { mtime });
        break;
    }
  }
  zip.end();
  return zip;
}

/** Replaces each placeholder name with its real (hostile) name in local and central headers. */
function patchNames(zipBytes: Buffer, renames: ZipPlan['renames']): Buffer {
  for (const { placeholder, actual } of renames) {
    const from = Buffer.from(placeholder, 'utf8');
    const to = Buffer.from(actual, 'utf8');
    if (from.length !== to.length)
      throw new PermanentError(`placeholder ${placeholder} and ${actual} differ in length`, { code: 'SimZipPlan' });
    let hits = 0;
    for (let at = zipBytes.indexOf(from); at !== -1; at = zipBytes.indexOf(from, at + from.length)) {
      to.copy(zipBytes, at);
      hits++;
    }
    // Once in the local header, once in the central directory.
    if (hits !== 2) throw new PermanentError(`expected placeholder ${placeholder} twice in the ZIP, found ${hits}`, { code: 'SimZipPlan' });
  }
  return zipBytes;
}

async function writeZip(plan: ZipPlan, file: string, generating: Set<Readable>): Promise<void> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const zip = fillZip(plan);
  // yazl reports input-stream and size errors on the ZipFile, not on its output stream.
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  failed.catch(() => undefined);
  const output = zip.outputStream as Readable;
  generating.add(output);
  try {
    if (plan.renames.length > 0) {
      // Only the small hostile fixtures are renamed, so holding them in memory is fine.
      const collect = (async () => {
        const chunks: Buffer[] = [];
        for await (const c of output) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      })();
      await writeFile(tmp, patchNames(await Promise.race([collect, failed]), plan.renames));
    } else {
      await Promise.race([pipeline(output, createWriteStream(tmp)), failed]);
    }
    await rename(tmp, file);
  } catch (err) {
    output.destroy();
    await unlink(tmp).catch(() => undefined);
    throw new PermanentError(`could not generate export ZIP ${plan.key.slice(0, 80)}`, { code: 'SimZipGeneration', cause: err });
  } finally {
    generating.delete(output);
  }
}
