import yauzl from 'yauzl-promise';
import { hashBuffer } from '@bp/shared/quilt/hash';

/** Every file of a ZIP on disk with its size and Quilt hash, read independently of the worker's transfer code. */
export async function filesOfZip(zipPath: string): Promise<Map<string, { size: number; hash: string }>> {
  const out = new Map<string, { size: number; hash: string }>();
  const zip = await yauzl.open(zipPath);
  try {
    for await (const entry of zip) {
      if (entry.filename.endsWith('/')) continue;
      const stream = await entry.openReadStream();
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      out.set(entry.filename.normalize('NFC'), { size: data.length, hash: hashBuffer(data).value });
    }
  } finally {
    await zip.close();
  }
  return out;
}
