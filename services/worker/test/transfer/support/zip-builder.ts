import { crc32, deflateRawSync } from 'node:zlib';

/** One entry of a hand-built ZIP. Every header field an attacker controls can be set. */
export interface ZipEntrySpec {
  /** Raw entry name, written as UTF-8 (general purpose bit 11 set). */
  name: string;
  /** Uncompressed bytes. Default empty. */
  data?: Buffer;
  /** Default 'deflate'. */
  method?: 'store' | 'deflate';
  /** Unix mode in the high 16 bits of the external attributes. Default 0o100644 (0o040755 for names ending in `/`). */
  unixMode?: number;
  /** Uncompressed size written in the headers instead of the true one: a lying header. */
  declaredSize?: number;
  /** Sizes and CRC after the data (bit 3), as streaming writers do. Default false. */
  dataDescriptor?: boolean;
}

/**
 * A minimal ZIP writer for tests. yazl (what the simulator uses) refuses to write the unsafe
 * names and lying sizes these tests need, so the archive is assembled by hand, per APPNOTE 4.3.
 */
export function buildZip(entries: ZipEntrySpec[], o: { directoryOrder?: number[] } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method === 'store' ? 0 : 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const crc = crc32(data) >>> 0;
    const size = e.declaredSize ?? data.length;
    const flags = 0x0800 | (e.dataDescriptor ? 0x0008 : 0);
    const mode = e.unixMode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644);
    const [time, date] = [0x6000, 0x5a21];

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(e.dataDescriptor ? 0 : crc, 14);
    local.writeUInt32LE(e.dataDescriptor ? 0 : body.length, 18);
    local.writeUInt32LE(e.dataDescriptor ? 0 : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const parts = [local, name, body];
    if (e.dataDescriptor) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(size, 12);
      parts.push(dd);
    }
    const localRecord = Buffer.concat(parts);
    locals.push(localRecord);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits mean what they say
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(Buffer.concat([central, name]));
    offset += localRecord.length;
  }
  // The central directory may list the entries in another order than their data (`directoryOrder`: indexes into `entries`).
  const cd = Buffer.concat(o.directoryOrder ? o.directoryOrder.map((i) => centrals[i]!) : centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
