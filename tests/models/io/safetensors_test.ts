import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  type SafetensorsSource,
  streamSafetensors,
  writeSafetensors,
} from "../../../models/io/safetensors.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

function bits(data: Float32Array): number[] {
  return [...new Uint32Array(data.buffer, data.byteOffset, data.length)];
}

Deno.test("F16/BF16/I64/I32 tensors written by torch decode to torch's own f32 values", async () => {
  const expected = JSON.parse(await Deno.readTextFile(fixture("io/halfs.expected.json")));
  const state = await readSafetensors(fixture("io/halfs.safetensors"));
  assert.deepEqual([...state.keys()], ["f16", "bf16", "i64", "i32"]);
  for (const name of ["f16", "bf16"]) {
    const tensor = state.get(name)!;
    assert.equal(tensor.dtype, name.toUpperCase());
    assert.deepEqual(tensor.shape, expected[name].shape);
    assert.deepEqual(bits(tensor.data), expected[name].f32_bits, name);
  }
  for (const name of ["i64", "i32"]) {
    assert.deepEqual(state.get(name)!.shape, expected[name].shape);
    assert.deepEqual([...state.get(name)!.data], expected[name].values, name);
  }
});

Deno.test("encodeSafetensors pads the header with spaces to 8 bytes and decodes back bit-identically", () => {
  const weird = new Float32Array(new Uint32Array([0x7fc00001, 0x80000000, 0x00000001]).buffer);
  const tensors = new Map([
    ["b.weight", { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 1e-30, 7, 8]) }],
    ["a", { shape: [3], data: weird }],
    ["s", { shape: [], data: new Float32Array([42]) }],
  ]);
  const bytes = encodeSafetensors(tensors);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  // Padding is spaces after the JSON, never inside it.
  assert.equal(headerText.trimEnd(), JSON.stringify(JSON.parse(headerText)));
  assert.match(headerText, /^\{"__metadata__":\{"format":"pt"\},"b\.weight":\{"dtype":"F32"/);
  const header = parseSafetensorsHeader(bytes);
  assert.deepEqual(header.metadata, { format: "pt" });
  assert.deepEqual(header.entries.get("a")!.dataOffsets, [24, 36]);
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.keys()], ["b.weight", "a", "s"]);
  for (const [name, tensor] of tensors) {
    assert.deepEqual(back.get(name)!.shape, tensor.shape);
    assert.deepEqual(bits(back.get(name)!.data), bits(tensor.data), name);
  }
});

Deno.test("re-encoding a reference file reproduces its header entries and data bytes", async () => {
  // The reference checkpoint came from Python; re-encoding its tensors in its data order must
  // give the same header entries (offsets included) and byte-identical data.
  const path = fixture("models/gpt2-a/model.safetensors");
  const original = await Deno.readFile(path);
  const header = parseSafetensorsHeader(original);
  const state = await readSafetensors(path);
  const ordered = [...header.entries].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  const ours = encodeSafetensors(new Map(ordered.map(([name]) => [name, state.get(name)!])));
  const ourHeader = parseSafetensorsHeader(ours);
  assert.equal(ourHeader.dataStart % 8, 0);
  const json = (bytes: Uint8Array, end: number) =>
    JSON.parse(new TextDecoder().decode(bytes.subarray(8, end)));
  assert.deepEqual(json(ours, ourHeader.dataStart), json(original, header.dataStart));
  assert.deepEqual(ours.subarray(ourHeader.dataStart), original.subarray(header.dataStart));
});

Deno.test("corrupt or mismatched safetensors files are refused with the tensor named", () => {
  const good = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 1), { source: "x.st" }),
    /x\.st: tensor "w".*truncated/,
  );
  const header = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }),
  );
  const bad = new Uint8Array(8 + header.length + 8);
  new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
  bad.set(header, 8);
  assert.throws(() => decodeSafetensors(bad), /tensor "w".*holds 8 bytes but F32 \[3\] needs 12/);
  const q = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }),
  );
  const qBytes = new Uint8Array(8 + q.length + 1);
  new DataView(qBytes.buffer).setBigUint64(0, BigInt(q.length), true);
  qBytes.set(q, 8);
  assert.throws(() => decodeSafetensors(qBytes), /unsupported dtype "Q4"/);
  assert.throws(
    () => decodeSafetensors(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 1])),
    /header length/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }),
    /tensor "w" has shape \[3\] \(3 values\) but its data is Float32Array of length 2/,
  );
});

Deno.test("writeSafetensors replaces the file atomically and include filters what is decoded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/w.safetensors`;
    await writeSafetensors(path, { a: { shape: [1], data: new Float32Array([1]) } });
    await writeSafetensors(path, {
      a: { shape: [1], data: new Float32Array([2]) },
      b: { shape: [1], data: new Float32Array([3]) },
    });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.safetensors"]);
    const only = await readSafetensors(path, { include: (name) => name === "b" });
    assert.deepEqual([...only.keys()], ["b"]);
    assert.deepEqual([...(await readSafetensors(path)).get("a")!.data], [2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("streamSafetensors writes encodeSafetensors' bytes, reading each tensor only when its turn comes", async () => {
  const values = {
    a: { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, 7]) },
    b: { shape: [3], data: Float64Array.from([Math.PI, -1 / 3, 2 ** 60]) },
    c: { shape: [1], data: Float32Array.from([42]) },
  };
  const reads: string[] = [];
  const sources = new Map<string, SafetensorsSource>(
    Object.entries(values).map(([name, t]) => [name, {
      shape: t.shape,
      dtype: t.data instanceof Float64Array ? "F64" : "F32",
      read: () => (reads.push(name), t.data),
    }]),
  );
  const reader = streamSafetensors(sources).getReader();
  const chunks: Uint8Array[] = [];
  const header = await reader.read();
  chunks.push(header.value!);
  assert.deepEqual(reads, [], "the header needs no values");
  for (const name of ["a", "b", "c"]) {
    const { value } = await reader.read();
    chunks.push(value!);
    assert.equal(reads.at(-1), name, "one tensor read per chunk, in order");
    assert.equal(reads.length, chunks.length - 1);
  }
  assert.equal((await reader.read()).done, true);
  const streamed = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (streamed.set(c, at), at + c.length), 0);
  assert.deepEqual(streamed, encodeSafetensors(values));

  const wrongType = streamSafetensors({
    w: { shape: [2], dtype: "F64", read: () => new Float32Array(2) },
  });
  await assert.rejects(
    () => new Response(wrongType).arrayBuffer(),
    /tensor "w" has shape \[2\] \(2 values\) but its data is Float32Array of length 2 \(dtype F64 takes a Float64Array\)/,
  );
});
