/**
 * WebGPU backend benchmarks: matmul GFLOP/s by shape, dispatch/submit/readback overhead, a
 * transformer block forward + backward, a whole training step, and generation tokens/s.
 *
 *   deno bench -A bench/webgpu.bench.ts            # deno bench timings
 *   deno run -A bench/webgpu.bench.ts --table      # the markdown table of bench/RESULTS.md
 *
 * Every timed iteration ends with the device idle (`sync()`), so GPU time is counted, not just
 * encoding. Add `--software` to the table mode to accept a software adapter (lavapipe); without
 * an adapter the benches are skipped with the reason.
 */

import {
  add,
  Generator,
  initWebGPU,
  matmul,
  optim,
  sampleTokens,
  setBackend,
  sum,
  type Tensor,
  tensor,
  tidy,
  type WebGPUBackend,
} from "../core/mod.ts";
import { generate, GPT2LMHeadModel } from "../models/mod.ts";
import { gptBatch, gptBlock, type GptConfig, gptLoss, initGpt } from "../tests/webgpu/tiny_gpt.ts";

const table = import.meta.main && Deno.args.includes("--table");

let gpu: WebGPUBackend | null = null;
try {
  // deno bench always accepts a software adapter (CI measures on lavapipe).
  gpu = await initWebGPU({ allowFallback: !table || Deno.args.includes("--software") });
} catch (e) {
  console.warn(`WebGPU benches skipped: ${(e as Error).message}`);
}

const W = { backend: "webgpu" };

/** [label, m, k, n, batch, transA, transB]. */
const MATMULS: [string, number, number, number, number, boolean, boolean][] = [
  ["128³", 128, 128, 128, 1, false, false],
  ["256³", 256, 256, 256, 1, false, false],
  ["512³", 512, 512, 512, 1, false, false],
  ["1024³", 1024, 1024, 1024, 1, false, false],
  ["512×768 · 768×3072 (MLP up)", 512, 768, 3072, 1, false, false],
  ["512×3072 · (768×3072)ᵀ (MLP down, dX)", 512, 3072, 768, 1, false, true],
  ["(512×768)ᵀ · 512×3072 (MLP up, dW)", 768, 512, 3072, 1, true, false],
  ["12 × 128×64 · (128×64)ᵀ (attention scores)", 128, 64, 128, 12, false, true],
  ["4×768 · 768×3072 (generation, skinny)", 4, 768, 3072, 1, false, false],
  ["4×768 · (8192×768)ᵀ (generation logits)", 4, 768, 8192, 1, false, true],
];

function matmulOperands(m: number, k: number, n: number, batch: number, tA: boolean, tB: boolean) {
  const g = new Generator(1);
  const lead = batch > 1 ? [batch] : [];
  const a = tensor(g.normal(batch * m * k), [...lead, ...(tA ? [k, m] : [m, k])], W);
  const b = tensor(g.normal(batch * k * n), [...lead, ...(tB ? [n, k] : [k, n])], W);
  return { a, b, flops: 2 * m * n * k * batch };
}

/** Repetitions that make one timed iteration ~`targetFlops` of work (a sync costs ≥ 10 ms). */
function repsFor(flops: number, targetFlops = 2e9): number {
  return Math.max(1, Math.round(targetFlops / flops));
}

async function matmulReps(a: Tensor, b: Tensor, tA: boolean, tB: boolean, reps: number) {
  for (let i = 0; i < reps; i++) matmul(a, b, { transA: tA, transB: tB }).dispose();
  await gpu!.sync();
}

const BLOCK: GptConfig = { vocab: 2048, context: 128, width: 256, heads: 4, layers: 1 };
const BLOCK_BATCH = 4;
const STEP: GptConfig = { vocab: 2048, context: 64, width: 128, heads: 4, layers: 2 };
const STEP_BATCH = 4;

function blockSetup(backend: string) {
  const g = new Generator(3);
  const params = initGpt(BLOCK, g, backend);
  const batch = gptBatch(BLOCK, g, BLOCK_BATCH, backend);
  const x = tensor(g.normal(BLOCK_BATCH * BLOCK.context * BLOCK.width), [
    BLOCK_BATCH,
    BLOCK.context,
    BLOCK.width,
  ], { backend, requiresGrad: true });
  const run = () =>
    tidy(() => {
      sum(gptBlock(BLOCK, params, 0, x, batch.mask)).backward();
      for (const p of Object.values(params)) p.zeroGrad();
      x.zeroGrad();
    });
  return { run };
}

function stepSetup(backend: string) {
  const g = new Generator(4);
  const params = initGpt(STEP, g, backend);
  const batch = gptBatch(STEP, g, STEP_BATCH, backend);
  const opt = new optim.AdamW(Object.values(params), { lr: 1e-3 });
  const run = () => {
    const loss = tidy(() => {
      const l = gptLoss(STEP, params, batch.ids, batch.positions, batch.mask, batch.targets);
      l.backward();
      return l;
    });
    opt.step();
    opt.zeroGrad();
    return loss;
  };
  return { run };
}

const GEN = { n_layer: 2, n_embd: 128, n_head: 4, vocab_size: 2048, n_positions: 128 };
const GEN_BATCH = 4, GEN_PROMPT = 8, GEN_NEW = 32;

function genSetup(backend: string) {
  const model = new GPT2LMHeadModel(GEN, { backend, generator: new Generator(5) });
  model.eval();
  const g = new Generator(6);
  const prompts = Array.from(
    { length: GEN_BATCH },
    () => Array.from({ length: GEN_PROMPT }, () => g.int(GEN.vocab_size)),
  );
  const run = () =>
    generate(model, prompts, {
      maxNewTokens: GEN_NEW,
      doSample: true,
      topK: 50,
      seed: 7,
      // An EOS masked for every step: exactly GEN_NEW tokens per row, with the periodic stop
      // checks (readbacks) a real run pays.
      eosTokenId: GEN.vocab_size - 1,
      minNewTokens: GEN_NEW,
    });
  return { run };
}

if (gpu && !table) {
  for (const [label, m, k, n, batch, tA, tB] of MATMULS) {
    const { a, b, flops } = matmulOperands(m, k, n, batch, tA, tB);
    const reps = repsFor(flops);
    Deno.bench({
      name: `matmul ${label} ×${reps}`,
      group: "matmul",
      fn: () => matmulReps(a, b, tA, tB, reps),
    });
  }
  const x = tensor(new Float32Array(256), [256], W);
  Deno.bench({
    name: "dispatch: 200 tiny adds in batched submits",
    group: "overhead",
    async fn() {
      for (let i = 0; i < 200; i++) add(x, 1).dispose();
      await gpu!.sync();
    },
  });
  Deno.bench({
    name: "dispatch: 200 tiny adds, one submit each",
    group: "overhead",
    async fn() {
      for (let i = 0; i < 200; i++) {
        add(x, 1).dispose();
        gpu!.flush();
      }
      await gpu!.sync();
    },
  });
  Deno.bench({
    name: "readback of 256 floats",
    group: "overhead",
    fn: async () => void (await x.toArray()),
  });
  const block = blockSetup("webgpu");
  Deno.bench({
    name: `transformer block fwd+bwd (B${BLOCK_BATCH} T${BLOCK.context} D${BLOCK.width})`,
    group: "model",
    async fn() {
      block.run();
      await gpu!.sync();
    },
  });
  const step = stepSetup("webgpu");
  Deno.bench({
    name: "tiny GPT training step (forward, backward, AdamW, loss readback)",
    group: "model",
    async fn() {
      const loss = step.run();
      await loss.item();
      loss.dispose();
    },
  });
  const logits = tensor(new Generator(8).normal(8 * 50257), [8, 50257], W);
  Deno.bench({
    name: "sampleTokens 8×50257, top-k 50, top-p 0.9",
    group: "model",
    async fn() {
      sampleTokens(logits, { topK: 50, topP: 0.9, seed: 1 }).dispose();
      await gpu!.sync();
    },
  });
  const gen = genSetup("webgpu");
  Deno.bench({
    name: `generation B${GEN_BATCH} × ${GEN_NEW} new tokens (GPT-2 2×128, V ${GEN.vocab_size})`,
    group: "model",
    fn: async () => void (await gen.run()),
  });
}

/** Mean milliseconds of `fn` after one warm-up, over at least `minMs` and `minRuns` runs. */
async function time(fn: () => Promise<unknown>, minMs = 1500, minRuns = 3): Promise<number> {
  await fn();
  let runs = 0;
  const t0 = performance.now();
  while (runs < minRuns || performance.now() - t0 < minMs) {
    await fn();
    runs++;
  }
  return (performance.now() - t0) / runs;
}

async function printTable(g: WebGPUBackend): Promise<void> {
  const info = g.info.adapterInfo;
  console.log(
    `Adapter: ${info.description || info.vendor} (vendor ${info.vendor}${
      g.info.isFallback ? ", software fallback" : ""
    }); features: ${[...g.features].join(", ") || "none"}\n`,
  );
  console.log("| matmul | GFLOP/s | ms per matmul |\n| --- | --- | --- |");
  for (const [label, m, k, n, batch, tA, tB] of MATMULS) {
    const { a, b, flops } = matmulOperands(m, k, n, batch, tA, tB);
    const reps = repsFor(flops);
    const ms = await time(() => matmulReps(a, b, tA, tB, reps));
    console.log(
      `| ${label} | ${(flops * reps / ms / 1e6).toFixed(2)} | ${(ms / reps).toFixed(2)} |`,
    );
    a.dispose();
    b.dispose();
  }
  const x = tensor(new Float32Array(256), [256], W);
  const n = 500;
  const batched = await time(async () => {
    for (let i = 0; i < n; i++) add(x, 1).dispose();
    await g.sync();
  });
  const separate = await time(async () => {
    for (let i = 0; i < n; i++) {
      add(x, 1).dispose();
      g.flush();
    }
    await g.sync();
  });
  const readback = await time(async () => void (await x.toArray()), 1000, 20);
  console.log("\n| overhead | time |\n| --- | --- |");
  console.log(`| dispatch inside a batched submit | ${(batched * 1000 / n).toFixed(1)} µs |`);
  console.log(`| dispatch with its own submit | ${(separate * 1000 / n).toFixed(1)} µs |`);
  console.log(`| readback (256 floats) | ${readback.toFixed(1)} ms |`);

  console.log("\n| model | webgpu | cpu |\n| --- | --- | --- |");
  const rows: [string, (b: string) => Promise<string>][] = [
    [`transformer block fwd+bwd, B${BLOCK_BATCH}×T${BLOCK.context}, D${BLOCK.width}`, async (b) => {
      const s = blockSetup(b);
      const ms = await time(async () => {
        s.run();
        if (b === "webgpu") await g.sync();
      });
      return `${ms.toFixed(0)} ms (${(BLOCK_BATCH * BLOCK.context / ms * 1000).toFixed(0)} tok/s)`;
    }],
    [
      `training step, 2 layers D${STEP.width}, B${STEP_BATCH}×T${STEP.context}, V${STEP.vocab}`,
      async (b) => {
        const s = stepSetup(b);
        const before = g.counters.readbacks;
        let steps = 0;
        const ms = await time(async () => {
          const loss = s.run();
          await loss.item();
          loss.dispose();
          steps++;
        });
        const per = b === "webgpu"
          ? `, ${(g.counters.readbacks - before) / steps} readback/step`
          : "";
        return `${ms.toFixed(0)} ms (${
          (STEP_BATCH * STEP.context / ms * 1000).toFixed(0)
        } tok/s${per})`;
      },
    ],
    [`generation, B${GEN_BATCH}, ${GEN_NEW} new tokens, top-k 50`, async (b) => {
      const s = genSetup(b);
      const before = g.counters.readbacks;
      let runs = 0;
      const ms = await time(
        async () => {
          await s.run();
          runs++;
        },
        1500,
        2,
      );
      const per = b === "webgpu"
        ? `, ${((g.counters.readbacks - before) / runs).toFixed(0)} readbacks/run`
        : "";
      return `${(GEN_BATCH * GEN_NEW / ms * 1000).toFixed(1)} tok/s${per}`;
    }],
  ];
  for (const [label, run] of rows) {
    const w = await run("webgpu");
    setBackend("cpu");
    const c = await run("cpu");
    console.log(`| ${label} | ${w} | ${c} |`);
  }
}

if (table) {
  if (!gpu) Deno.exit(1);
  await printTable(gpu);
}
