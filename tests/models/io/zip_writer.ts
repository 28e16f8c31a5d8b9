/** Test helper: write a zip archive of stored (uncompressed) entries, as torch.save does. */

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zip with the given entries, stored uncompressed, in order. */
export function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = encoder.encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Pickle building blocks (protocol 2). */
export const op = {
  proto2: [0x80, 0x02],
  global: (
    module: string,
    name: string,
  ) => [0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)],
  unicode: (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return [0x58, bytes.length & 0xff, (bytes.length >> 8) & 0xff, 0, 0, ...bytes];
  },
  shortUnicode: (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return [0x8c, bytes.length, ...bytes];
  },
  tuple1: [0x85],
  reduce: [0x52],
  stop: [0x2e],
  emptyDict: [0x7d],
  setitem: [0x73],
  stackGlobal: [0x93],
};

/** Concatenate opcode byte lists. */
export function pickleBytes(...parts: number[][]): Uint8Array {
  return new Uint8Array(parts.flat());
}
