import { inflateRawSync } from 'node:zlib';

/**
 * A minimal ZIP reader for the tests (yauzl-promise is only installed for services/worker):
 * reads the central directory, including ZIP64 fields, and extracts small members.
 */
export interface ZipMember {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Upper 16 bits: unix mode (file type and permissions). */
  externalAttributes: number;
  localHeaderOffset: number;
  utf8: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function readCentralDirectory(zip: Buffer): ZipMember[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no end of central directory record: not a ZIP');
  let count = zip.readUInt16LE(eocd + 10);
  let cdOffset = zip.readUInt32LE(eocd + 16);
  if (eocd >= 20 && zip.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const z64 = Number(zip.readBigUInt64LE(eocd - 20 + 8));
    if (zip.readUInt32LE(z64) !== ZIP64_EOCD) throw new Error('bad ZIP64 end of central directory');
    count = Number(zip.readBigUInt64LE(z64 + 32));
    cdOffset = Number(zip.readBigUInt64LE(z64 + 48));
  }
  const members: ZipMember[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== CENTRAL) throw new Error(`bad central directory header at ${p}`);
    const flags = zip.readUInt16LE(p + 8);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const m: ZipMember = {
      name: zip.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen),
      method: zip.readUInt16LE(p + 10),
      crc32: zip.readUInt32LE(p + 16),
      compressedSize: zip.readUInt32LE(p + 20),
      uncompressedSize: zip.readUInt32LE(p + 24),
      externalAttributes: zip.readUInt32LE(p + 38),
      localHeaderOffset: zip.readUInt32LE(p + 42),
      utf8: (flags & 0x800) !== 0,
    };
    applyZip64(m, zip.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
    members.push(m);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** ZIP64 extra field (0x0001): 64-bit values for whichever 32-bit fields are saturated. */
function applyZip64(m: ZipMember, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const size = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = () => {
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (m.uncompressedSize === 0xffffffff) m.uncompressedSize = next();
      if (m.compressedSize === 0xffffffff) m.compressedSize = next();
      if (m.localHeaderOffset === 0xffffffff) m.localHeaderOffset = next();
    }
    q += 4 + size;
  }
}

/** The member's bytes, inflated if deflated. */
export function extract(zip: Buffer, m: ZipMember): Buffer {
  const p = m.localHeaderOffset;
  if (zip.readUInt32LE(p) !== LOCAL) throw new Error(`bad local header for ${m.name}`);
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  const raw = zip.subarray(start, start + m.compressedSize);
  if (m.method === 0) return raw;
  if (m.method === 8) return inflateRawSync(raw);
  throw new Error(`unsupported compression method ${m.method}`);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
