// The checkpoint readers check every size against the file before allocating: a small
// `pytorch_model.bin` whose pickle describes a huge stride-0 expand is refused in milliseconds
// without a large allocation, as are views past their storage, storages larger than their
// entries, aliasing tricks and decompression bombs; safetensors headers likewise.

import assert from "node:assert/strict";
import {
  decodeTorchCheckpoint,
  MAX_EXPANDED_ELEMENTS,
  MAX_VIEWS_PER_STORAGE,
} from "../../../models/io/torch_bin.ts";
import { decodeSafetensors, encodeSafetensors } from "../../../models/io/safetensors.ts";
import { readZipEntry } from "../../../models/io/zip.ts";
import { op, pickleBytes, storedZip } from "./zip_writer.ts";

const MARK = [0x28], TUPLE = [0x74], BINPERSID = [0x51], NEWFALSE = [0x89], EMPTY_TUPLE = [0x29];
const binint = (
  n: number,
) => [0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const ints = (xs: number[]) => [...MARK, ...xs.flatMap(binint), ...TUPLE];
const orderedDict = [...op.global("collections", "OrderedDict"), ...EMPTY_TUPLE, ...op.reduce];

/** One tensor entry as torch.save pickles it: a view of a FloatStorage. */
interface View {
  name: string;
  storage: string;
  storageElements: number;
  offset?: number;
  shape: number[];
  stride: number[];
}

function statePickle(views: View[]): Uint8Array {
  const items = views.flatMap((v) => [
    ...op.unicode(v.name),
    ...op.global("torch._utils", "_rebuild_tensor_v2"),
    ...MARK,
    ...MARK,
    ...op.unicode("storage"),
    ...op.global("torch", "FloatStorage"),
    ...op.unicode(v.storage),
    ...op.unicode("cpu"),
    ...binint(v.storageElements),
    ...TUPLE,
    ...BINPERSID,
    ...binint(v.offset ?? 0),
    ...ints(v.shape),
    ...ints(v.stride),
    ...NEWFALSE,
    ...orderedDict,
    ...TUPLE,
    ...op.reduce,
    ...op.setitem,
  ]);
  return pickleBytes(op.proto2, orderedDict, items, op.stop);
}

/** A torch.save-style archive: the pickle and one f32 storage file per key. */
function torchBin(views: View[], storages: Record<string, number>): Uint8Array {
  const entries: [string, Uint8Array][] = [["archive/data.pkl", statePickle(views)]];
  for (const [key, elements] of Object.entries(storages)) {
    const data = new Float32Array(elements);
    for (let i = 0; i < elements; i++) data[i] = i % 97;
    entries.push([`archive/data/${key}`, new Uint8Array(data.buffer)]);
  }
  entries.push(["archive/version", new TextEncoder().encode("3\n")]);
  return storedZip(entries);
}

/** 212,000 f32 weights (848 KB) plus a one-element storage expanded to 20000×20000 (1.6 GB). */
const WEIGHTS = 212_000;
const HUGE_EXPAND: View = {
  name: "position_bias",
  storage: "1",
  storageElements: 1,
  shape: [20_000, 20_000],
  stride: [0, 0],
};

Deno.test("an ~850 KB .bin with a stride-0 expand of 20000×20000 is refused in milliseconds, without a large allocation", async () => {
  const file = torchBin([
    { name: "weight", storage: "0", storageElements: WEIGHTS, shape: [WEIGHTS], stride: [1] },
    HUGE_EXPAND,
  ], { "0": WEIGHTS, "1": 1 });
  assert.ok(file.byteLength > 840_000 && file.byteLength < 860_000, `${file.byteLength} bytes`);
  // The same file with a small expand loads: the reader is not refusing everything.
  const fine = await decodeTorchCheckpoint(torchBin([
    { name: "weight", storage: "0", storageElements: WEIGHTS, shape: [WEIGHTS], stride: [1] },
    { ...HUGE_EXPAND, shape: [4, 8] },
  ], { "0": WEIGHTS, "1": 1 }));
  assert.deepEqual(fine.get("position_bias")!.shape, [4, 8]);
  assert.deepEqual([...fine.get("position_bias")!.data], new Array(32).fill(0));

  const rssBefore = Deno.memoryUsage().rss;
  const t0 = performance.now();
  await assert.rejects(
    decodeTorchCheckpoint(file, { source: "pytorch_model.bin" }),
    new RegExp(
      '^Error: pytorch_model\\.bin: tensor "position_bias": shape \\[20000,20000\\] \\(400000000 ' +
        "elements, 1\\.5 GiB as f32\\) repeats the 1 elements of its storage \\(a stride-0 / " +
        "expanded view, offset 0, shape \\[20000,20000\\], stride \\[0,0\\]\\); views expanding " +
        `past their storage are refused above ${MAX_EXPANDED_ELEMENTS} elements`,
    ),
  );
  const ms = performance.now() - t0;
  const grewMiB = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
  console.log(`refused in ${ms.toFixed(1)} ms; RSS grew ${grewMiB.toFixed(1)} MiB`);
  assert.ok(ms < 250, `refused in ${ms.toFixed(0)} ms`);
  assert.ok(grewMiB < 64, `RSS grew by ${grewMiB.toFixed(0)} MiB (a copy would take 1526 MiB)`);
});

Deno.test(".bin: views past their storage, storages larger than their entries and absurd shapes are named", async () => {
  const reject = (views: View[], storages: Record<string, number>, pattern: RegExp) =>
    assert.rejects(decodeTorchCheckpoint(torchBin(views, storages), { source: "m.bin" }), pattern);
  const w = { name: "w", storage: "0", storageElements: 12 };
  await reject(
    [{ ...w, offset: 2, shape: [3, 4], stride: [4, 1] }],
    { "0": 12 },
    /m\.bin: tensor "w": view \(offset 2, shape \[3,4\], stride \[4,1\]\) reaches element 13, past its storage of 12 elements/,
  );
  await reject(
    [{ ...w, storageElements: 1_000_000, shape: [12], stride: [1] }],
    { "0": 12 },
    /m\.bin: tensor "w": its storage 0 declares 1000000 F32 elements \(4000000 bytes\) but the archive entry holds 48 bytes/,
  );
  await reject(
    [{ ...w, shape: [2 ** 30, 2 ** 30, 2 ** 30], stride: [0, 0, 0] }],
    { "0": 12 },
    /m\.bin: tensor "w": shape \[1073741824,1073741824,1073741824\] is absurdly large/,
  );
  await reject(
    [{ ...w, shape: [12], stride: [-1] }],
    { "0": 12 },
    /m\.bin: tensor "w": negative size, stride or offset/,
  );
  // An empty tensor of any declared shape is fine.
  const empty = await decodeTorchCheckpoint(
    torchBin([{ ...w, shape: [0, 2 ** 30], stride: [1, 1] }], { "0": 12 }),
  );
  assert.equal(empty.get("w")!.data.length, 0);
});

Deno.test(".bin: many views aliasing one storage may not multiply it past the limit", async () => {
  const n = 50_000; // each view is within its storage; together they are not
  const views: View[] = Array.from({ length: MAX_VIEWS_PER_STORAGE + 25 }, (_, i) => ({
    name: `alias.${i}`,
    storage: "0",
    storageElements: n,
    shape: [n],
    stride: [1],
  }));
  await assert.rejects(
    decodeTorchCheckpoint(torchBin(views, { "0": n }), { source: "a.bin" }),
    /a\.bin: tensor "alias\.\d+": the tensors up to here hold \d+ elements, over 16× the 50000 elements their storages hold/,
  );
  // Tied weights (a few views of one storage) load.
  const tied = await decodeTorchCheckpoint(torchBin(views.slice(0, 3), { "0": n }));
  assert.equal(tied.size, 3);
});

Deno.test("zip: a deflated entry claiming an absurd size is refused before inflating", async () => {
  const bytes = new Uint8Array(64);
  const entry = {
    name: "a/data/0",
    method: 8,
    compressedSize: 10,
    size: 2 ** 33,
    localHeaderOffset: 0,
  };
  // A local header at 0 so the size check is what refuses it.
  new DataView(bytes.buffer).setUint32(0, 0x04034b50, true);
  await assert.rejects(
    readZipEntry(bytes, entry, "b.bin"),
    /b\.bin: entry "a\/data\/0" claims 8589934592 bytes from 10 deflated bytes \(over 100×\); refusing it as a decompression bomb/,
  );
  // A stored entry must hold what it claims.
  await assert.rejects(
    readZipEntry(bytes, { ...entry, method: 0, size: 100, compressedSize: 10 }, "b.bin"),
    /stored entry "a\/data\/0" claims 100 bytes but holds 10/,
  );
});

Deno.test("safetensors: header length, byte ranges and dtype × shape are checked before anything is read", () => {
  const good = encodeSafetensors({
    a: { shape: [2, 3], data: new Float32Array(6) },
    b: { shape: [4], data: new Float32Array(4) },
  });
  assert.equal(decodeSafetensors(good).size, 2);
  const withHeader = (header: unknown, dataBytes: number) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const huge = new Uint8Array(good);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(
    () => decodeSafetensors(huge, { source: "h.safetensors" }),
    /h\.safetensors: header length 1099511627776 does not fit the file/,
  );
  // Two tensors on the same bytes (each would be copied out of one range).
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({
          a: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
          b: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
        }, 8),
        { source: "o.safetensors" },
      ),
    /o\.safetensors: tensor "[ab]": byte range \[0, 8\) overlaps the tensor before it/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, 16),
        { source: "g.safetensors" },
      ),
    /g\.safetensors: tensor "a": byte range \[8, 16\) leaves a gap/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8),
        { source: "s.safetensors" },
      ),
    /s\.safetensors: tensor "a": byte range \[0, 8\) holds 8 bytes but F32 \[3\] needs 12/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({ a: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, 8),
        { source: "x.safetensors" },
      ),
    /x\.safetensors: tensor "a": shape \[1099511627776,1099511627776\] is absurdly large/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 12),
        { source: "t.safetensors" },
      ),
    /t\.safetensors: the tensors end at byte 8 of a 12-byte data section/,
  );
});
