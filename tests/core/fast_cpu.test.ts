/**
 * The f32 `cpu` backend's fast matmul against an f64 product of the same f32 inputs: every route
 * (TypeScript, WebAssembly SIMD, onnxruntime) forced on odd sizes, both transposes, batched and
 * shared right operands; routing by size; the frontend on non-contiguous views with gradients;
 * the fallback when the addon may not load; and the committed WebAssembly build against a fresh
 * compile of its source.
 */

import assert from "node:assert/strict";
import {
  getBackend,
  type KernelTensor,
  matmul,
  mul,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
  transpose,
} from "../../core/mod.ts";
import {
  fastMatmul,
  forceMatmulRoute,
  MATMUL_THRESHOLDS,
  type MatmulRoute,
  matmulRoute,
} from "../../core/backends/cpu/fast/matmul.ts";
import {
  ORT_SPLIT_WORK,
  ortAvailable,
  ortUnavailableReason,
} from "../../core/backends/cpu/fast/ort_matmul.ts";
import { wasmAvailable, wasmUnavailableReason } from "../../core/backends/cpu/fast/wasm_module.ts";
import { Generator } from "../../core/random.ts";

const RTOL = 1e-4;

interface Case {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  bShared: boolean;
}

function kt(handle: Float32Array, shape: number[], offset = 0): KernelTensor {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  return { handle, shape, strides, offset, size: shape.reduce((p, d) => p * d, 1) };
}

function randomArray(gen: Generator, size: number): Float32Array {
  return gen.normal(size);
}

/** f64 op(A)·op(B) and Σ|a||b| per element, the natural scale of each element's rounding error. */
function reference(
  A: Float32Array,
  B: Float32Array,
  c: Case,
): { ref: Float64Array; abs: Float64Array } {
  const { batch, m, k, n, transA, transB, bShared } = c;
  const ref = new Float64Array(batch * m * n), abs = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const ao = p * m * k, bo = bShared ? 0 : p * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0, sa = 0;
        for (let q = 0; q < k; q++) {
          const a = transA ? A[ao + q * m + i] : A[ao + i * k + q];
          const b = transB ? B[bo + j * k + q] : B[bo + q * n + j];
          s += a * b;
          sa += Math.abs(a * b);
        }
        ref[p * m * n + i * n + j] = s;
        abs[p * m * n + i * n + j] = sa;
      }
    }
  }
  return { ref, abs };
}

function describe(c: Case): string {
  return `${c.batch}×${c.m}×${c.k}×${c.n}${c.transA ? " Aᵀ" : ""}${c.transB ? " Bᵀ" : ""}` +
    `${c.bShared ? " shared B" : ""}`;
}

function assertMatches(out: ArrayLike<number>, ref: Float64Array, abs: Float64Array, what: string) {
  assert.equal(out.length, ref.length, `${what}: output length`);
  let errSq = 0, refSq = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(out[i] - ref[i]);
    // f32 rounding of a k-term dot product is bounded by ~k·2^-24·Σ|a||b|; 1e-4 is far above it.
    if (!(err <= RTOL * abs[i] + 1e-30)) {
      assert.fail(`${what}: element ${i} is ${out[i]}, f64 reference ${ref[i]} (error ${err})`);
    }
    errSq += err * err;
    refSq += ref[i] * ref[i];
  }
  const rel = Math.sqrt(errSq) / Math.sqrt(refSq);
  assert.ok(refSq === 0 || rel < RTOL, `${what}: ‖out−ref‖/‖ref‖ = ${rel}`);
}

/** Runs the fast kernel on a case with operands placed at odd offsets inside larger arrays. */
function runKernel(
  c: Case,
  gen: Generator,
): { out: Float32Array; A: Float32Array; B: Float32Array } {
  const { batch, m, k, n, transA, transB, bShared } = c;
  const aShape = [batch, ...(transA ? [k, m] : [m, k])];
  const bShape = [...(bShared ? [] : [batch]), ...(transB ? [n, k] : [k, n])];
  const aSize = batch * m * k, bSize = (bShared ? 1 : batch) * k * n, oSize = batch * m * n;
  const aStore = randomArray(gen, aSize + 5), bStore = randomArray(gen, bSize + 3);
  const oStore = new Float32Array(oSize + 7).fill(Number.NaN);
  fastMatmul(
    [kt(aStore, aShape, 5), kt(bStore, bShape, 3)],
    [kt(oStore, [batch, m, n], 7)],
    { transA, transB },
    getBackend("cpu"),
  );
  assert.ok(oStore.subarray(0, 7).every(Number.isNaN), `${describe(c)}: wrote before the output`);
  return {
    out: oStore.subarray(7),
    A: aStore.subarray(5, 5 + aSize),
    B: bStore.subarray(3, 3 + bSize),
  };
}

const ODD = [1, 3, 17, 65, 127, 129];

function cases(gen: Generator, count: number, maxWork: number): Case[] {
  const out: Case[] = [];
  // Every transpose and sharing combination at least once on a fixed odd shape.
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const bShared of [false, true]) {
        out.push({ batch: 3, m: 17, k: 65, n: 3, transA, transB, bShared });
      }
    }
  }
  while (out.length < count) {
    const pick = () => ODD[gen.int(ODD.length)];
    const c: Case = {
      batch: 1 + gen.int(3),
      m: pick(),
      k: pick(),
      n: pick(),
      transA: gen.next() < 0.5,
      transB: gen.next() < 0.5,
      bShared: gen.next() < 0.3,
    };
    if (c.batch * c.m * c.k * c.n <= maxWork) out.push(c);
  }
  return out;
}

function withRoute<T>(route: MatmulRoute | null, fn: () => T): T {
  const prev = forceMatmulRoute(route);
  try {
    return fn();
  } finally {
    forceMatmulRoute(prev);
  }
}

Deno.test("fast matmul: the WebAssembly kernels and onnxruntime load here", () => {
  assert.ok(wasmAvailable(), `WebAssembly kernels: ${wasmUnavailableReason()}`);
  assert.ok(ortAvailable(), `onnxruntime (tests run with -A): ${ortUnavailableReason()}`);
});

for (const route of ["ts", "wasm", "ort"] as const) {
  Deno.test(`fast matmul (${route} route) matches the f64 product on odd shapes`, () => {
    const gen = new Generator(route.length * 7919);
    const all = cases(gen, 28, 3 * 129 * 129 * 129);
    // Larger shapes that cross panel edges in both directions on the SIMD and MLAS routes.
    all.push({ batch: 2, m: 129, k: 127, n: 65, transA: true, transB: false, bShared: false });
    all.push({ batch: 1, m: 200, k: 300, n: 131, transA: false, transB: true, bShared: true });
    // Past ORT_SPLIT_WORK: the onnxruntime session with a thread pool, not the calling thread.
    if (route === "ort") {
      all.push({ batch: 2, m: 257, k: 512, n: 1024, transA: true, transB: true, bShared: false });
      assert.ok(2 * 257 * 512 * 1024 >= ORT_SPLIT_WORK);
    }
    withRoute(route, () => {
      for (const c of all) {
        const { out, A, B } = runKernel(c, gen);
        const { ref, abs } = reference(A, B, c);
        assertMatches(out, ref, abs, `${route} ${describe(c)}`);
      }
    });
  });
}

Deno.test("fast matmul: k = 0 gives zeros and empty outputs are fine on every route", () => {
  const gen = new Generator(3);
  for (const route of ["ts", "wasm", "ort"] as const) {
    withRoute(route, () => {
      const { out } = runKernel(
        { batch: 2, m: 3, k: 0, n: 4, transA: false, transB: false, bShared: false },
        gen,
      );
      assert.deepEqual([...out], new Array(24).fill(0), `${route}: k = 0`);
      runKernel({ batch: 1, m: 0, k: 5, n: 4, transA: true, transB: false, bShared: false }, gen);
    });
  }
});

Deno.test("fast matmul: operands that do not fill the output's batches are refused", () => {
  const a = kt(new Float32Array(6), [2, 3]), b = kt(new Float32Array(24), [2, 3, 4]);
  const out = kt(new Float32Array(16), [2, 2, 4]);
  assert.throws(
    () => fastMatmul([a, b], [out], { transA: false, transB: false }, getBackend("cpu")),
    /matmul: operands \[2,3\] and \[2,3,4\] do not hold 2 batch\(es\) of 2×3 @ 3×4/,
  );
});

Deno.test("fast matmul: routes by work with the measured thresholds", () => {
  const { wasm, ort } = MATMUL_THRESHOLDS;
  assert.ok(
    0 <= wasm && wasm < ort,
    `thresholds out of order: ${JSON.stringify(MATMUL_THRESHOLDS)}`,
  );
  if (wasm > 0) assert.equal(matmulRoute(wasm - 1), "ts");
  assert.equal(matmulRoute(wasm), "wasm");
  assert.equal(matmulRoute(ort - 1), "wasm");
  assert.equal(matmulRoute(ort), "ort");
  assert.equal(withRoute("ts", () => matmulRoute(1e9)), "ts");
});

Deno.test("fast matmul: auto routing on realistic shapes matches the f64 product", () => {
  const gen = new Generator(11);
  const shapes: Case[] = [
    { batch: 1, m: 256, k: 64, n: 192, transA: false, transB: false, bShared: true },
    { batch: 1, m: 64, k: 256, n: 192, transA: true, transB: false, bShared: true },
    { batch: 8, m: 32, k: 16, n: 32, transA: false, transB: true, bShared: false },
    { batch: 4, m: 2, k: 3, n: 2, transA: false, transB: false, bShared: false },
  ];
  withRoute(null, () => {
    for (const c of shapes) {
      const { out, A, B } = runKernel(c, gen);
      const { ref, abs } = reference(A, B, c);
      assertMatches(out, ref, abs, `auto ${describe(c)}`);
    }
  });
});

/** Values of a frontend tensor and the same computation on the f64 reference backend. */
function frontendCase(backend: "cpu" | "cpu64", gen: Generator): Tensor[] {
  const opts = { backend, requiresGrad: true };
  const a = tensor(randomArray(gen, 2 * 3 * 70 * 90), [2, 3, 70, 90], opts);
  const b = tensor(randomArray(gen, 3 * 100 * 80), [3, 100, 80], opts);
  const w = tensor(randomArray(gen, 70 * 33), [33, 70], opts);
  const z = tidy(() => {
    // A transposed view, a strided slice and a broadcast batch: none of them contiguous.
    const at = transpose(a); // [2, 3, 90, 70]
    const bs = slice(b, [0, 5, 0], [3, 90, 80]); // rows 5..95 of each batch
    const y = matmul(at, bs, { transA: true }); // [2, 3, 70, 80]
    const z = matmul(transpose(y), w, { transB: true }); // [2, 3, 80, 33]
    sum(mul(z, z)).backward();
    return z;
  });
  return [z, a.grad!, b.grad!, w.grad!, a, b, w];
}

Deno.test("fast matmul: frontend products on non-contiguous views and their grads match cpu64", () => {
  const cpu = frontendCase("cpu", new Generator(5));
  const ref = frontendCase("cpu64", new Generator(5));
  const names = ["z", "dA", "dB", "dW"];
  for (let i = 0; i < names.length; i++) {
    assert.deepEqual(cpu[i].shape, ref[i].shape);
    const got = cpu[i].toArraySync(), want = ref[i].toFloat64ArraySync();
    let errSq = 0, refSq = 0, maxRef = 0;
    for (let j = 0; j < want.length; j++) {
      errSq += (got[j] - want[j]) ** 2;
      refSq += want[j] ** 2;
      maxRef = Math.max(maxRef, Math.abs(want[j]));
    }
    const rel = Math.sqrt(errSq / refSq);
    assert.ok(rel < RTOL, `${names[i]}: ‖cpu−cpu64‖/‖cpu64‖ = ${rel}`);
    for (let j = 0; j < want.length; j++) {
      const err = Math.abs(got[j] - want[j]);
      if (!(err <= RTOL * maxRef)) assert.fail(`${names[i]}[${j}]: ${got[j]} vs ${want[j]}`);
    }
  }
  for (const t of [...cpu, ...ref]) t.dispose();
});

Deno.test("fast matmul: without --allow-ffi a large matmul warns once and falls back", async () => {
  const child = new URL("./fast_cpu_no_ffi_child.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", child.pathname],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout), err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `child failed:\n${err}`);
  assert.equal(out.trim(), "ok 300 300", `child output:\n${out}\n${err}`);
  const warnings = err.split("\n").filter((l) => l.includes("onnxruntime-node is unavailable"));
  assert.equal(warnings.length, 1, `expected one warning, stderr was:\n${err}`);
  assert.match(warnings[0], /--allow-ffi/);
});

Deno.test("fast matmul: workers run the onnxruntime route at the same time", async () => {
  // Several isolates in one process (workers, deno test --parallel) each run their own sessions.
  const url = new URL("./fast_cpu_worker_child.ts", import.meta.url);
  const workers = [0, 1, 2].map(() => new Worker(url, { type: "module" }));
  try {
    const replies = await Promise.all(workers.map((w) =>
      new Promise<string>((resolve, reject) => {
        w.onmessage = (e) => resolve(String(e.data));
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`worker failed: ${e.message}`));
        };
      })
    ));
    assert.deepEqual(replies, ["exact", "exact", "exact"]);
  } finally {
    for (const w of workers) w.terminate();
  }
});

for (const addonFirst of [false, true]) {
  const name = addonFirst
    ? "sessions run in the environment the addon made first"
    : "sessions run in the environment the matmul route made";
  Deno.test(`fast matmul: ${name}`, async () => {
    const child = new URL("./fast_cpu_env_child.ts", import.meta.url);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", child.pathname, ...(addonFirst ? ["--addon-first"] : [])],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, `child failed:\n${new TextDecoder().decode(stderr)}`);
    const report = JSON.parse(new TextDecoder().decode(stdout));
    // [[1, 2], [3, 4]] times itself with each operand optionally transposed.
    const products = [[7, 10, 15, 22], [10, 14, 14, 20], [5, 11, 11, 25], [7, 15, 10, 22]];
    assert.deepEqual(report.results, products);
    assert.deepEqual(report.addon, addonFirst ? products[0] : null);
  });
}

// The compiler is an npm package; where it cannot be fetched (offline, empty cache) the rebuild
// check cannot run, and says so instead of passing.
let buildTools: typeof import("../../tools/build_wasm.ts") | null = null;
let compilerProblem = "";
try {
  buildTools = await import("../../tools/build_wasm.ts");
  const asc = "assemblyscript/asc";
  await import(asc);
} catch (e) {
  compilerProblem = e instanceof Error ? e.message : String(e);
  console.log(`fast_cpu.test.ts: skipping the wasm rebuild check: ${compilerProblem}`);
}

Deno.test({
  name: "fast matmul: the committed wasm equals a fresh build of kernels.as, byte for byte",
  ignore: compilerProblem !== "",
  async fn() {
    const built = await buildTools!.buildKernelsWasm();
    const committed = await buildTools!.committedKernelsWasm();
    assert.ok(built.length > 0);
    assert.equal(
      committed.length,
      built.length,
      "build/kernels_wasm.ts is stale: run deno run -A tools/build_wasm.ts",
    );
    const first = built.findIndex((v, i) => v !== committed[i]);
    assert.equal(
      first,
      -1,
      `bytes differ from offset ${first}: run deno run -A tools/build_wasm.ts`,
    );
  },
});
