/**
 * The onnxruntime matmul route: a one-node ONNX session per transpose variant, run on MLAS's
 * multi-threaded SGEMM through onnxruntime's C API, called with Deno's FFI. The library is the
 * one shipped inside the npm package onnxruntime-node; its Node-API addon is not used, because
 * that addon keeps JavaScript handles in process-wide statics and panics Deno as soon as two
 * isolates (workers, `deno test --parallel` modules) use it at once. The C API holds no
 * JavaScript state, so every isolate can run its own sessions.
 *
 * Operands are wrapped in place: OrtValues point at our Float32Array storage, and the output is
 * written straight into the preallocated output array. Loading needs Deno's --allow-ffi and
 * --allow-read (or -A); where the library cannot load, `ortAvailable()` is false and says why.
 */

import { createRequire } from "node:module";
import { matmulModel } from "./onnx_model.ts";
import { cpuThreads } from "./threads.ts";

/** Positions in onnxruntime's `OrtApi` function table (stable: the table is append-only). */
const API = {
  CreateStatus: 0,
  GetErrorCode: 1,
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionExecutionMode: 13,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseStatus: 93,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;

const SIGNATURES = {
  CreateStatus: { parameters: ["i32", "buffer"], result: "pointer" },
  GetErrorCode: { parameters: ["pointer"], result: "i32" },
  GetErrorMessage: { parameters: ["pointer"], result: "pointer" },
  CreateEnv: { parameters: ["i32", "buffer", "buffer"], result: "pointer" },
  CreateSessionFromArray: {
    parameters: ["pointer", "buffer", "usize", "pointer", "buffer"],
    result: "pointer",
  },
  Run: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  CreateSessionOptions: { parameters: ["buffer"], result: "pointer" },
  SetSessionExecutionMode: { parameters: ["pointer", "i32"], result: "pointer" },
  SetSessionGraphOptimizationLevel: { parameters: ["pointer", "i32"], result: "pointer" },
  SetIntraOpNumThreads: { parameters: ["pointer", "i32"], result: "pointer" },
  SetInterOpNumThreads: { parameters: ["pointer", "i32"], result: "pointer" },
  CreateTensorWithDataAsOrtValue: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "i32", "buffer"],
    result: "pointer",
  },
  CreateCpuMemoryInfo: { parameters: ["i32", "i32", "buffer"], result: "pointer" },
  ReleaseStatus: { parameters: ["pointer"], result: "void" },
  ReleaseValue: { parameters: ["pointer"], result: "void" },
  ReleaseSessionOptions: { parameters: ["pointer"], result: "void" },
  AddSessionConfigEntry: { parameters: ["pointer", "buffer", "buffer"], result: "pointer" },
} as const satisfies Record<keyof typeof API, Deno.UnsafeCallbackDefinition>;

type Api = { [K in keyof typeof API]: Deno.UnsafeFnPointer<(typeof SIGNATURES)[K]> };

interface Runtime {
  api: Api;
  env: Deno.PointerValue;
  cpuMemory: Deno.PointerValue;
}

const ORT_LOGGING_LEVEL_ERROR = 3;
const ORT_SEQUENTIAL = 0;
const ORT_ENABLE_ALL = 99;
const ORT_DEVICE_ALLOCATOR = 0;
const ORT_MEM_TYPE_DEFAULT = 0;
const TENSOR_FLOAT = 1;
/** Any API version up to the library's own returns the same append-only table. */
const REQUESTED_API_VERSION = 11;
/** Spin while a Run is in progress, park the pool's threads when it returns. */
const SESSION_CONFIG = [
  ["session.intra_op.allow_spinning", "1"],
  ["session.force_spinning_stop", "1"],
] as const;

let runtime: Runtime | null | undefined;
let unavailableReason = "";
const sessions = new Map<string, Deno.PointerValue>();
const intraOpThreads = cpuThreads();

/**
 * Multiply-adds (batch·m·k·n) below which a product runs on the calling thread only. A decode
 * step's products (64 rows: 38-151 M) gain little from a second thread on a quiet machine and
 * lose badly on a busy one, where a parallel section waits for a descheduled worker: sampled
 * GPT-2 generation took 121 s wall for 71 CPU s with them split, on two cores shared with other
 * jobs, against about half on one thread. Training products (2176+ rows: 1.3 G and up) and the
 * vocabulary-wide LM head (2.5 G) stay split.
 */
export const ORT_SPLIT_WORK = 2 ** 28;

const utf8 = new TextEncoder();
const cString = (s: string) => utf8.encode(`${s}\0`);

// Per-call scratch, reused: every call is synchronous, so nothing outlives it.
const outPointer = new BigUint64Array(1);
const shapes = [new BigInt64Array(3), new BigInt64Array(3), new BigInt64Array(3)];
const inputValues = new BigUint64Array(2);
const outputValues = new BigUint64Array(1);
let inputNames = new BigUint64Array(2);
let outputNames = new BigUint64Array(1);
/** Keeps the name bytes alive: onnxruntime reads them through the pointers above. */
let nameBytes: Uint8Array | null = null;

/** "A\0B\0Y\0" in an explicit ArrayBuffer: small typed arrays may live on V8's moving heap. */
function prepareNames(): void {
  nameBytes = new Uint8Array(new ArrayBuffer(6));
  nameBytes.set(cString("A"), 0);
  nameBytes.set(cString("B"), 2);
  nameBytes.set(cString("Y"), 4);
  const at = (offset: number) =>
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(nameBytes!.subarray(offset))));
  inputNames = new BigUint64Array([at(0), at(2)]);
  outputNames = new BigUint64Array([at(4)]);
}

function permitted(name: "ffi" | "read"): boolean {
  // querySync never prompts, so a terminal session without the flags is not interrupted.
  return Deno.permissions.querySync({ name }).state === "granted";
}

/** The shared library inside the onnxruntime-node package for this platform. */
function libraryPath(): string {
  const require = createRequire(import.meta.url);
  const index = require.resolve("onnxruntime-node");
  const platform =
    ({ linux: "linux", darwin: "darwin", windows: "win32" } as Record<string, string>)[
      Deno.build.os
    ];
  const arch = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch];
  if (!platform || !arch) {
    throw new Error(`no onnxruntime binary for ${Deno.build.os}/${Deno.build.arch}`);
  }
  const dir = new URL(`../bin/napi-v3/${platform}/${arch}/`, `file://${index}`);
  const file = [...Deno.readDirSync(dir)].map((e) => e.name).find((n) =>
    /^(lib)?onnxruntime(\.\d+)*\.(so(\.\d+)*|dylib|dll)$/.test(n) && !n.includes("providers")
  );
  if (!file) throw new Error(`no onnxruntime library in ${dir.pathname}`);
  return new URL(file, dir).pathname;
}

function check(api: Api, status: Deno.PointerValue, what: string): void {
  if (status === null) return;
  const message = Deno.UnsafePointerView.getCString(api.GetErrorMessage.call(status)!);
  api.ReleaseStatus.call(status);
  throw new Error(`matmul (onnxruntime): ${what} failed: ${message}`);
}

function created(api: Api, status: Deno.PointerValue, what: string): Deno.PointerValue {
  check(api, status, what);
  return Deno.UnsafePointer.create(outPointer[0]);
}

function load(): Runtime | null {
  if (runtime !== undefined) return runtime;
  runtime = null;
  try {
    if (!permitted("ffi") || !permitted("read")) {
      unavailableReason = "Deno was started without --allow-ffi and --allow-read (or -A)";
      return null;
    }
    const lib = Deno.dlopen(libraryPath(), {
      OrtGetApiBase: { parameters: [], result: "pointer" },
    });
    const base = new Deno.UnsafePointerView(lib.symbols.OrtGetApiBase()!);
    const getApi = new Deno.UnsafeFnPointer(base.getPointer(0)!, {
      parameters: ["u32"],
      result: "pointer",
    });
    const table = getApi.call(REQUESTED_API_VERSION);
    if (table === null) {
      throw new Error(`the library refused C API version ${REQUESTED_API_VERSION}`);
    }
    const view = new Deno.UnsafePointerView(table);
    const api = Object.fromEntries(
      Object.entries(API).map(([name, index]) => [
        name,
        new Deno.UnsafeFnPointer(
          view.getPointer(index * 8)!,
          SIGNATURES[name as keyof typeof API] as Deno.UnsafeCallbackDefinition,
        ),
      ]),
    ) as unknown as Api;
    // A round trip through a status object checks the table layout before anything heavier.
    const probe = api.CreateStatus.call(2, cString("probe"));
    const probeOk = api.GetErrorCode.call(probe) === 2 &&
      Deno.UnsafePointerView.getCString(api.GetErrorMessage.call(probe)!) === "probe";
    api.ReleaseStatus.call(probe);
    if (!probeOk) throw new Error("the C API table does not have the expected layout");
    const env = created(
      api,
      api.CreateEnv.call(ORT_LOGGING_LEVEL_ERROR, cString("tether"), outPointer),
      "CreateEnv",
    );
    const cpuMemory = created(
      api,
      api.CreateCpuMemoryInfo.call(ORT_DEVICE_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, outPointer),
      "CreateCpuMemoryInfo",
    );
    prepareNames();
    runtime = { api, env, cpuMemory };
  } catch (e) {
    unavailableReason = `onnxruntime did not load: ${e instanceof Error ? e.message : e}`;
  }
  return runtime;
}

/** True when onnxruntime's library loaded (it is loaded by the first call). */
export function ortAvailable(): boolean {
  return load() !== null;
}

/** Why the onnxruntime route is unavailable ("" when it is available). */
export function ortUnavailableReason(): string {
  load();
  return unavailableReason;
}

function session(
  rt: Runtime,
  transA: boolean,
  transB: boolean,
  threads: number,
): Deno.PointerValue {
  const key = `${transA ? "t" : "n"}${transB ? "t" : "n"}${threads}`;
  let s = sessions.get(key);
  if (s === undefined) {
    s = createSession(rt, transA, transB, threads);
    sessions.set(key, s);
  }
  return s;
}

/**
 * Each transpose variant gets its own intra-op pool whose threads spin only while a Run is in
 * progress (between MLAS's work batches, where parking them halved a lone 1024³ product's speed)
 * and park as soon as it returns. Pools that kept spinning between runs (one shared pool, as
 * before) held a core busy while the calling thread ran everything else: during generation's
 * many small steps they fought the split kernels' helper threads and any other process for the
 * cores (52 s wall for 93 CPU s on two cores, against 25 s on one thread). Parked pools also
 * cannot fight each other when a training step alternates variants. Products below
 * `ORT_SPLIT_WORK` run on the calling thread alone (a session without a pool).
 */
function createSession(
  rt: Runtime,
  transA: boolean,
  transB: boolean,
  threads: number,
): Deno.PointerValue {
  const { api } = rt;
  const options = created(api, api.CreateSessionOptions.call(outPointer), "CreateSessionOptions");
  try {
    check(api, api.SetIntraOpNumThreads.call(options, threads), "SetIntraOpNumThreads");
    check(api, api.SetInterOpNumThreads.call(options, 1), "SetInterOpNumThreads");
    for (const [key, value] of SESSION_CONFIG) {
      check(api, api.AddSessionConfigEntry.call(options, cString(key), cString(value)), key);
    }
    check(api, api.SetSessionExecutionMode.call(options, ORT_SEQUENTIAL), "SetExecutionMode");
    check(
      api,
      api.SetSessionGraphOptimizationLevel.call(options, ORT_ENABLE_ALL),
      "SetGraphOptimizationLevel",
    );
    const model = matmulModel(transA, transB);
    return created(
      api,
      api.CreateSessionFromArray.call(rt.env, model, BigInt(model.length), options, outPointer),
      "CreateSessionFromArray",
    );
  } finally {
    api.ReleaseSessionOptions.call(options);
  }
}

function wrap(rt: Runtime, data: Float32Array, dims: readonly number[], slot: number): bigint {
  // Reading .buffer moves a small typed array off V8's moving heap (where it would otherwise
  // live), so the address onnxruntime keeps stays valid until Run.
  if (data.buffer.byteLength === 0) throw new Error("matmul (onnxruntime): empty operand");
  const shape = shapes[slot];
  for (let i = 0; i < dims.length; i++) shape[i] = BigInt(dims[i]);
  const status = rt.api.CreateTensorWithDataAsOrtValue.call(
    rt.cpuMemory,
    data,
    BigInt(data.byteLength),
    shape,
    BigInt(dims.length),
    TENSOR_FLOAT,
    outPointer,
  );
  check(rt.api, status, "CreateTensorWithDataAsOrtValue");
  return outPointer[0];
}

/**
 * out = op(A) @ op(B) with onnxruntime; `aDims`, `bDims` and `outDims` are the stored shapes
 * (rank 2, or rank 3 with a leading batch axis; a rank-2 B is shared by every batch).
 */
export function ortMatmul(
  A: Float32Array,
  B: Float32Array,
  out: Float32Array,
  aDims: readonly number[],
  bDims: readonly number[],
  outDims: readonly number[],
  transA: boolean,
  transB: boolean,
): void {
  const rt = load();
  if (!rt) throw new Error(`matmul (onnxruntime): unavailable: ${unavailableReason}`);
  const { api } = rt;
  const work = outDims.reduce((x, y) => x * y, 1) *
    aDims[transA ? aDims.length - 2 : aDims.length - 1];
  const s = session(rt, transA, transB, work < ORT_SPLIT_WORK ? 1 : intraOpThreads);
  inputValues[0] = inputValues[1] = outputValues[0] = 0n;
  try {
    inputValues[0] = wrap(rt, A, aDims, 0);
    inputValues[1] = wrap(rt, B, bDims, 1);
    outputValues[0] = wrap(rt, out, outDims, 2);
    check(
      api,
      api.Run.call(s, null, inputNames, inputValues, 2n, outputNames, 1n, outputValues),
      "Run",
    );
  } finally {
    for (const v of [inputValues[0], inputValues[1], outputValues[0]]) {
      if (v !== 0n) api.ReleaseValue.call(Deno.UnsafePointer.create(v));
    }
  }
}
