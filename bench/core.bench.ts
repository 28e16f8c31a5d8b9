/**
 * Core CPU benchmarks (f32 `cpu` backend): matmul 512³ and 1024³, the fused layerNorm, softmax
 * and crossEntropy against the same math composed from primitive ops, a transformer block forward
 * + backward, and a small-GPT training step. Each group has a baseline so `deno bench` prints
 * ratios; rates (GFLOP/s, tokens/s) are printed at the end from the timed iterations themselves.
 * tools/bench_torch_core.py times the same shapes in PyTorch; bench/RESULTS.md has both.
 *
 *     deno bench -A bench/core.bench.ts
 */

import {
  add,
  crossEntropy,
  div,
  exp,
  gather,
  layerNorm,
  log,
  matmul,
  max,
  mean,
  mul,
  ones,
  reshape,
  rsqrt,
  softmax,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../core/mod.ts";
import { AdamW } from "../core/optim/mod.ts";
import { Generator } from "../core/random.ts";
import { forceMatmulRoute, type MatmulRoute } from "../core/backends/cpu/fast/matmul.ts";
import { ortAvailable, ortUnavailableReason } from "../core/backends/cpu/fast/ort_matmul.ts";
import { Block, TinyGpt } from "./core_model.ts";

if (!ortAvailable()) console.warn(`core.bench: onnxruntime unavailable: ${ortUnavailableReason()}`);

const gen = new Generator(1234);
const randn = (shape: number[], scale = 1) =>
  tensor(gen.normal(shape.reduce((a, b) => a * b, 1), 0, scale), shape);

/** Milliseconds of every timed iteration, by bench name, for the rate summary at the end. */
const times = new Map<string, number[]>();
const rates: { name: string; unit: string; work: number }[] = [];

function timed(name: string, fn: () => void): () => void {
  const list: number[] = [];
  times.set(name, list);
  return () => {
    const t0 = performance.now();
    fn();
    list.push(performance.now() - t0);
  };
}

function withRoute(route: MatmulRoute | null, fn: () => void): () => void {
  return () => {
    const prev = forceMatmulRoute(route);
    try {
      fn();
    } finally {
      forceMatmulRoute(prev);
    }
  };
}

// ---- matmul ---------------------------------------------------------------------------------

for (const size of [512, 1024]) {
  const a = randn([size, size]), b = randn([size, size]);
  const group = `matmul ${size}³`;
  const product = () => matmul(a, b).dispose();
  const flops = 2 * size ** 3;
  for (
    const [label, route, baseline] of [
      ["wasm SIMD, 1 core", "wasm", true],
      ["auto (onnxruntime)", null, false],
    ] as const
  ) {
    const name = `${group} ${label}`;
    rates.push({ name, unit: "GFLOP/s", work: flops / 1e9 });
    Deno.bench({
      name,
      group,
      baseline,
      n: size === 512 ? 50 : 10,
      warmup: 3,
      fn: timed(name, withRoute(route, product)),
    });
  }
}

// ---- fused NN ops against the same math from primitives --------------------------------------

/** Runs f(x) forward and backward with a fixed upstream gradient, freeing everything after. */
function forwardBackward(inputs: Tensor[], f: () => Tensor, upstream: Tensor): () => void {
  return () => {
    tidy(() => {
      sum(mul(f(), upstream)).backward();
    });
    for (const t of inputs) t.zeroGrad();
  };
}

{
  const x = randn([8, 128, 256]).requireGrad(), w = ones([256]).requireGrad();
  const bias = zeros([256]).requireGrad(), g = randn([8, 128, 256]);
  const composed = () => {
    const xc = sub(x, mean(x, { axis: -1, keepDims: true }));
    const inv = rsqrt(add(mean(square(xc), { axis: -1, keepDims: true }), 1e-5));
    return add(mul(mul(xc, inv), w), bias);
  };
  const group = "layerNorm [8,128,256] fwd+bwd";
  Deno.bench({
    name: `${group}, composed ops`,
    group,
    baseline: true,
    fn: forwardBackward([x, w, bias], composed, g),
  });
  Deno.bench({
    name: `${group}, fused`,
    group,
    fn: forwardBackward([x, w, bias], () => layerNorm(x, w, bias), g),
  });
}

{
  const x = randn([8, 4, 128, 128]).requireGrad(), g = randn([8, 4, 128, 128]);
  const composed = () => {
    const e = exp(sub(x, max(x, { axis: -1, keepDims: true })));
    return div(e, sum(e, { axis: -1, keepDims: true }));
  };
  const group = "softmax [8,4,128,128] fwd+bwd";
  Deno.bench({
    name: `${group}, composed ops`,
    group,
    baseline: true,
    fn: forwardBackward([x], composed, g),
  });
  Deno.bench({ name: `${group}, fused`, group, fn: forwardBackward([x], () => softmax(x), g) });
}

{
  const n = 1024, v = 8192;
  const logits = randn([n, v]).requireGrad();
  const targets = tensor(Array.from({ length: n }, () => gen.int(v)), [n]);
  const one = ones([]);
  const composed = () => {
    const m = max(logits, { axis: -1, keepDims: true });
    const lse = add(log(sum(exp(sub(logits, m)), { axis: -1, keepDims: true })), m);
    const picked = gather(logits, reshape(targets, [n, 1]), -1);
    return mean(sub(lse, picked));
  };
  const group = `crossEntropy [${n},${v}] fwd+bwd`;
  Deno.bench({
    name: `${group}, composed ops`,
    group,
    baseline: true,
    fn: forwardBackward([logits], composed, one),
  });
  Deno.bench({
    name: `${group}, fused`,
    group,
    fn: forwardBackward([logits], () => crossEntropy(logits, targets), one),
  });
}

// ---- transformer block and GPT training step -------------------------------------------------

{
  const [b, t, c, h] = [8, 128, 256, 4];
  const block = new Block(c, h, gen);
  const x = randn([b, t, c]).requireGrad(), g = randn([b, t, c]);
  const params = [x, ...block.parameters()];
  const step = forwardBackward(params, () => block.forward(x), g);
  const group = `transformer block B=${b} T=${t} C=${c} H=${h} fwd+bwd`;
  for (
    const [label, route, baseline] of [
      ["matmul on wasm SIMD, 1 core", "wasm", true],
      ["auto", null, false],
    ] as const
  ) {
    const name = `${group}, ${label}`;
    rates.push({ name, unit: "tokens/s", work: b * t });
    Deno.bench({
      name,
      group,
      baseline,
      n: 10,
      warmup: 2,
      fn: timed(name, withRoute(route, step)),
    });
  }
}

{
  const [vocab, context, width, layers, heads, batch] = [8192, 128, 256, 4, 4, 8];
  const model = new TinyGpt(vocab, context, width, layers, heads, gen);
  const optimizer = new AdamW(model.parameters(), { lr: 3e-4 });
  const ids = tensor(Array.from({ length: batch * context }, () => gen.int(vocab)), [
    batch,
    context,
  ]);
  const targets = tensor(Array.from({ length: batch * context }, () => gen.int(vocab)), [
    batch * context,
  ]);
  const positions = tensor(Array.from({ length: context }, (_, i) => i), [context]);
  const trainStep = () => {
    tidy(() => {
      const logits = model.forward(ids, positions);
      crossEntropy(reshape(logits, [batch * context, vocab]), targets).backward();
    });
    optimizer.step();
    optimizer.zeroGrad();
  };
  const group =
    `GPT train step (${layers} layers, ${width} wide, vocab ${vocab}, ${batch}×${context})`;
  for (
    const [label, route, baseline] of [
      ["matmul on wasm SIMD, 1 core", "wasm", true],
      ["auto", null, false],
    ] as const
  ) {
    const name = `${group}, ${label}`;
    rates.push({ name, unit: "tokens/s", work: batch * context });
    Deno.bench({
      name,
      group,
      baseline,
      n: 5,
      warmup: 1,
      fn: timed(name, withRoute(route, trainStep)),
    });
  }
}

globalThis.addEventListener("unload", () => {
  console.log("\nrates from the timed iterations (median):");
  for (const { name, unit, work } of rates) {
    const list = [...(times.get(name) ?? [])].sort((p, q) => p - q);
    if (!list.length) continue;
    const median = list[Math.floor(list.length / 2)];
    console.log(
      `  ${name}: ${(work / (median / 1e3)).toFixed(1)} ${unit} (${median.toFixed(2)} ms)`,
    );
  }
});
