import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unpickle, UnsafePickleError } from "../../../models/io/pickle.ts";
import { decodeTorchCheckpoint, readTorchCheckpoint } from "../../../models/io/torch_bin.ts";
import { readZipDirectory } from "../../../models/io/zip.ts";
import { op, pickleBytes, storedZip } from "./zip_writer.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("views with storage offsets, strides, stride-0 expands, halves and parameters become row-major copies", async () => {
  const expected: Record<string, { shape: number[]; values: number[] }> = JSON.parse(
    await Deno.readTextFile(fixture("io/strided.expected.json")),
  );
  for (const file of ["io/strided.bin", "io/deflated.bin"]) {
    const state = await readTorchCheckpoint(fixture(file));
    assert.deepEqual([...state.keys()], Object.keys(expected), file);
    for (const [name, want] of Object.entries(expected)) {
      const got = state.get(name)!;
      assert.deepEqual(got.shape, want.shape, `${file} ${name} shape`);
      assert.deepEqual([...got.data], want.values.map(Math.fround), `${file} ${name} values`);
    }
    assert.equal(state.get("half_t")!.dtype, "F16");
    assert.equal(state.get("bf16")!.dtype, "BF16");
    assert.equal(state.get("long")!.dtype, "I64");
  }
  // The fixture really exercises shared storages: the views differ from their base's layout.
  assert.deepEqual(expected.transposed.values.slice(0, 3), [0, 6 / 7, 12 / 7].map(Math.fround));
});

Deno.test("the deflated fixture really is deflated and the stored one stored", async () => {
  const methods = (bytes: Uint8Array) =>
    new Set([...readZipDirectory(bytes).values()].map((e) => e.method));
  assert.deepEqual(methods(await Deno.readFile(fixture("io/deflated.bin"))), new Set([8]));
  assert.deepEqual(methods(await Deno.readFile(fixture("io/strided.bin"))), new Set([0]));
});

function maliciousCheckpoint(module: string, name: string, argument: string): Uint8Array {
  const pickle = pickleBytes(
    op.proto2,
    op.global(module, name),
    op.unicode(argument),
    op.tuple1,
    op.reduce,
    op.stop,
  );
  return storedZip([["archive/data.pkl", pickle], [
    "archive/version",
    new TextEncoder().encode("3\n"),
  ]]);
}

Deno.test("pickles that call os.system, posix.system, builtins.eval or subprocess are refused and nothing runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const marker = join(dir, "pwned");
    const attacks: [string, string, string][] = [
      ["os", "system", `touch ${marker}`],
      ["posix", "system", `touch ${marker}`],
      ["builtins", "eval", `__import__('os').system('touch ${marker}')`],
      ["builtins", "exec", `open('${marker}', 'w').close()`],
      ["subprocess", "check_call", `touch ${marker}`],
    ];
    for (const [module, name, argument] of attacks) {
      const path = join(dir, `${module}_${name}.bin`);
      await Deno.writeFile(path, maliciousCheckpoint(module, name, argument));
      const error = await readTorchCheckpoint(path).then(() => null, (e) => e);
      assert.ok(error instanceof UnsafePickleError, `${module}.${name} was not refused`);
      assert.equal(error.what, `${module}.${name}`);
      assert.match(error.message, new RegExp(`"${module}\\.${name}"`));
      assert.ok(error.message.includes(path), "the message names the file");
      assert.match(error.message, /Nothing was executed/);
    }
    assert.equal(await exists(marker), false, "a payload ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("STACK_GLOBAL, a merely referenced global and object-building opcodes are refused too", () => {
  const globals = new Map<string, unknown>([["collections.OrderedDict", {
    qualifiedName: "x",
    call: () => new Map(),
  }]]);
  const stackGlobal = pickleBytes(
    op.proto2,
    op.shortUnicode("os"),
    op.shortUnicode("system"),
    op.stackGlobal,
    op.stop,
  );
  assert.throws(
    () => unpickle(stackGlobal, { globals, source: "s.pkl" }),
    (e: unknown) =>
      e instanceof UnsafePickleError && e.what === "os.system" && e.message.startsWith("s.pkl"),
  );
  // A global stored in a dict without ever being called is refused at the GLOBAL opcode.
  const referenced = pickleBytes(
    op.proto2,
    op.emptyDict,
    op.unicode("k"),
    op.global("builtins", "eval"),
    op.setitem,
    op.stop,
  );
  assert.throws(
    () => unpickle(referenced, { globals }),
    (e: unknown) => e instanceof UnsafePickleError && e.what === "builtins.eval",
  );
  // INST ('i') builds an object from a module path in one opcode: refused as an opcode.
  const inst = new Uint8Array([
    0x80,
    0x02,
    0x28,
    ...new TextEncoder().encode("i" + "os\nsystem\n"),
    0x2e,
  ]);
  assert.throws(
    () => unpickle(inst, { globals }),
    (e: unknown) => e instanceof UnsafePickleError && /opcode 0x69 'i'/.test(e.message),
  );
  // An allowed global is still callable only through REDUCE with a tuple.
  const ok = pickleBytes(
    op.proto2,
    op.global("collections", "OrderedDict"),
    [0x29],
    op.reduce,
    op.stop,
  );
  assert.ok(unpickle(ok, { globals }) instanceof Map);
});

Deno.test("a malicious entry after valid tensors still stops the load", async () => {
  const good = await Deno.readFile(fixture("io/strided.bin"));
  const entries = readZipDirectory(good);
  const name = [...entries.keys()].find((n) => n.endsWith("data.pkl"))!;
  // Replace the final STOP of the real pickle with a call to os.system, then STOP.
  const { readZipEntry } = await import("../../../models/io/zip.ts");
  const pickle = await readZipEntry(good, entries.get(name)!);
  const tampered = pickleBytes(
    [...pickle.subarray(0, pickle.length - 1)],
    [0x30], // POP the state dict
    op.global("os", "system"),
    op.unicode("true"),
    op.tuple1,
    op.reduce,
    op.stop,
  );
  const files: [string, Uint8Array][] = [];
  for (const entry of entries.values()) {
    files.push([entry.name, entry.name === name ? tampered : await readZipEntry(good, entry)]);
  }
  await assert.rejects(
    decodeTorchCheckpoint(storedZip(files), { source: "tampered.bin" }),
    /tampered\.bin.*"os\.system"/,
  );
});

Deno.test("non-zip and legacy files get a clear error", async () => {
  await assert.rejects(
    decodeTorchCheckpoint(new Uint8Array([0x80, 0x02, 0x8a, 0x0a]), { source: "old.bin" }),
    /old\.bin: not a zip archive.*PyTorch < 1\.6/,
  );
});
