/**
 * The four GPT-2-scale workloads of bench/gpt2_scale.ts on the Tether side (the PyTorch side is
 * tools/bench_gpt2_scale_torch.py; both build the same shapes with random weights, dropout off):
 *
 * - `generate`: 64 prompts of 8 tokens, 64 sampled new tokens each (top-k 0, top-p 1), KV cache.
 * - `forward`: no-grad forward of 64 × 136 tokens and the log-prob of every next token.
 * - `lora_step`: LoRA r=32 (alpha 32, on `c_attn`) + value head; one PPO minibatch of 16 × 136:
 *   forward, response-token log-probs, clipped policy loss + value loss, backward, Adam.
 * - `distilbert`: a distilbert-base-cased-shaped classifier (2 labels), no-grad forward 64 × 160.
 * - `matmul`: the best GFLOP/s of single products at GPT-2's shapes.
 *
 * Run one in this process with `deno run -A bench/gpt2_scale_workloads.ts --workload forward`
 * (`--profile` prints the time and bytes per op; `--checkpointing` turns gradient checkpointing on
 * for `lora_step`; `--cpu-prof` to Deno for a V8 profile); the
 * driver runs each in its own process. The peak RSS reported is the workload's: the counter is
 * restarted after the model is built (and garbage collected, with --v8-flags=--expose-gc).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import {
  add,
  clamp,
  div,
  exp,
  formatProfile,
  Generator,
  matmul,
  maximum,
  mul,
  neg,
  noGrad,
  optim,
  profileOpsAsync,
  randn,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../core/mod.ts";
import { GPT2LMHeadModel } from "../models/gpt2/model.ts";
import { applyLora } from "../models/lora.ts";
import type { CausalLM } from "../models/contract.ts";
import { CausalLMWithValueHead } from "../models/with_value_head.ts";
import { nextTokenLogProbs } from "../models/next_token_logprobs.ts";
import { DistilBertForSequenceClassification } from "../models/bert/distilbert.ts";
import { parseEncoderConfig } from "../models/bert/config.ts";

/** GPT-2 124M with dropout off (the bench compares compute, not dropout masks). */
const GPT2_CONFIG = { resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };

/** distilbert-base-cased's config.json fields that shape the model (dropout off). */
export const DISTILBERT_BASE_CASED = {
  model_type: "distilbert",
  vocab_size: 28996,
  dim: 768,
  n_layers: 6,
  n_heads: 12,
  hidden_dim: 3072,
  max_position_embeddings: 512,
  activation: "gelu",
  dropout: 0,
  attention_dropout: 0,
  seq_classif_dropout: 0,
  pad_token_id: 0,
};

/** `rows` × `cols` token ids drawn from [0, vocab). */
export function randomTokens(rows: number, cols: number, vocab: number, seed: number): number[][] {
  const g = new Generator(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => g.int(vocab)));
}

/** One workload: `run` does the timed work once; `tokens` it processes per run. */
export interface Workload {
  tokens: number;
  run(): void | Promise<void>;
}

/** Options the workloads take. */
export interface WorkloadOptions {
  /** Score log-probs through the full [rows, V] logits instead of the fused LM-head path. */
  unfused?: boolean;
  /** Gradient checkpointing on the LoRA step's GPT-2 blocks (`gradientCheckpointingEnable()`). */
  checkpointing?: boolean;
}

function gpt2(): GPT2LMHeadModel {
  return new GPT2LMHeadModel(GPT2_CONFIG, { backend: "cpu", generator: new Generator(0) });
}

/**
 * log p(ids[:, t+1] | ids[:, ≤t]) for every position: through the fused, chunked LM head
 * (`nextTokenLogProbs`), or with `unfused` through the full [B, T, V] logits.
 */
function nextTokens(model: CausalLM, ids: Tensor, mask: Tensor, unfused: boolean): {
  logprobs: Tensor;
  values?: Tensor;
} {
  return nextTokenLogProbs(unfused ? { forward: (i) => model.forward(i) } : model, ids, mask);
}

/** Builds workload `name` (model construction is not part of the timed work). */
export function buildWorkload(name: string, opts: WorkloadOptions = {}): Workload {
  const unfused = opts.unfused ?? false;
  if (name === "generate") {
    const model = gpt2().eval();
    const prompts = randomTokens(64, 8, 50257, 1);
    return {
      tokens: 64 * 64,
      async run() {
        await model.generate(prompts, {
          maxNewTokens: 64,
          doSample: true,
          topK: 0,
          topP: 1,
          eosTokenId: null,
          seed: 0,
        });
      },
    };
  }
  if (name === "forward") {
    const model = gpt2().eval();
    const ids = tensor(randomTokens(64, 136, 50257, 2));
    const mask = tensor(new Float32Array(64 * 136).fill(1), [64, 136]);
    return {
      tokens: 64 * 136,
      run() {
        noGrad(() => tidy(() => nextTokens(model, ids, mask, unfused).logprobs.toArraySync()));
      },
    };
  }
  if (name === "lora_step") {
    const model = new CausalLMWithValueHead(gpt2(), { dropout: 0 });
    if (opts.checkpointing) model.gradientCheckpointingEnable();
    const lora = applyLora(model, { r: 32, alpha: 32, dropout: 0, targetModules: ["c_attn"] }, {
      generator: new Generator(1),
    });
    model.train();
    const trainable = model.parameters().filter((p) => p.requiresGrad);
    if (trainable.length !== lora.parameters().length + 2) {
      throw new Error(
        `lora_step: ${trainable.length} trainable tensors, expected adapters + v_head`,
      );
    }
    const opt = new optim.Adam(trainable, { lr: 1.41e-5, eps: 1e-8 });
    const ids = tensor(randomTokens(16, 136, 50257, 3));
    const mask = tensor(new Float32Array(16 * 136).fill(1), [16, 136]);
    const g = new Generator(4);
    const oldLp = mul(tensor(g.uniform(16 * 135, 0, 1), [16, 135]), -10);
    const adv = randn([16, 135], { generator: g });
    const returns = randn([16, 135], { generator: g });
    const resp = new Float32Array(16 * 135);
    for (let r = 0; r < 16; r++) resp.fill(1, r * 135 + 7, (r + 1) * 135);
    const respMask = tensor(resp, [16, 135]);
    const n = 16 * 128;
    return {
      tokens: 16 * 136,
      run() {
        opt.zeroGrad();
        tidy(() => {
          const { logprobs, values } = nextTokens(model, ids, mask, unfused);
          const ratio = exp(sub(logprobs, oldLp));
          const pg = maximum(neg(mul(adv, ratio)), neg(mul(adv, clamp(ratio, 0.8, 1.2))));
          const vf = square(sub(values!, returns));
          const loss = add(
            div(sum(mul(pg, respMask)), n),
            mul(div(sum(mul(vf, respMask)), n), 0.05),
          );
          loss.backward();
        });
        opt.step();
      },
    };
  }
  if (name === "distilbert") {
    const config = parseEncoderConfig(DISTILBERT_BASE_CASED, 2);
    const model = new DistilBertForSequenceClassification(config, DISTILBERT_BASE_CASED, {
      backend: "cpu",
    }).eval();
    const ids = tensor(randomTokens(64, 160, 28996, 5));
    const m = new Float32Array(64 * 160);
    for (let i = 0; i < 64; i++) m.fill(1, i * 160, i * 160 + 100 + (i * 37) % 61);
    const mask = tensor(m, [64, 160]);
    return {
      tokens: 64 * 160,
      run() {
        noGrad(() =>
          tidy(() => model.forward({ inputIds: ids, attentionMask: mask }).logits.toArraySync())
        );
      },
    };
  }
  throw new Error(`unknown workload '${name}' (generate, forward, lora_step, distilbert, matmul)`);
}

/** [m, k, n, right operand transposed] of GPT-2's products (16 × 136 and 64 × 136 rows). */
export const MATMUL_SHAPES: [number, number, number, boolean][] = [
  [2176, 768, 2304, false],
  [2176, 768, 3072, false],
  [2176, 3072, 768, false],
  [2176, 768, 50257, true],
  [8704, 768, 3072, false],
  [10240, 768, 3072, false],
];

/** GFLOP/s of the best of 4 runs of each product. */
export function measureMatmul(): { m: number; k: number; n: number; gflops: number }[] {
  return MATMUL_SHAPES.map(([m, k, n, trans]) => {
    const a = randn([m, k]), b = randn(trans ? [n, k] : [k, n]);
    let best = Infinity;
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      matmul(a, b, { transB: trans }).dispose();
      best = Math.min(best, performance.now() - t0);
    }
    a.dispose();
    b.dispose();
    return { m, k, n, gflops: (2 * m * k * n) / (best / 1e3) / 1e9 };
  });
}

/** CPU seconds (user + system) this process has used, all threads. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The first number of /proc/loadavg (NaN where there is none). */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/**
 * Collects garbage (when Deno runs with --v8-flags=--expose-gc) and restarts the kernel's peak
 * resident-set counter, so the peak read afterwards is the workload's, not the model build's.
 * Returns the peak so far.
 */
export function resetPeakRss(): number {
  const before = peakRss();
  (globalThis as { gc?: () => void }).gc?.();
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux, or not allowed: the peak then includes the build.
  }
  return before;
}

/** This process's peak resident set (VmHWM) in bytes, or NaN off Linux. */
export function peakRss(): number {
  try {
    const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
      l.startsWith("VmHWM:")
    );
    return line ? Number(line.split(/\s+/)[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      workload: { type: "string" },
      warmup: { type: "string", default: "1" },
      iters: { type: "string", default: "1" },
      unfused: { type: "boolean", default: false },
      checkpointing: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
    },
  });
  const load = [loadAverage()];
  const out: Record<string, unknown> = { side: "tether", workload: values.workload };
  if (values.workload === "matmul") {
    out.matmul = measureMatmul();
  } else {
    const w = buildWorkload(values.workload ?? "", {
      unfused: values.unfused,
      checkpointing: values.checkpointing,
    });
    out.build_peak_rss_bytes = resetPeakRss();
    for (let i = 0; i < Number(values.warmup); i++) await w.run();
    const times: number[] = [], cpu: number[] = [];
    for (let i = 0; i < Number(values.iters); i++) {
      const t0 = performance.now(), c0 = cpuSeconds();
      if (values.profile) {
        const { profile } = await profileOpsAsync(async () => await w.run());
        console.error(formatProfile(profile, 30));
      } else await w.run();
      times.push((performance.now() - t0) / 1e3);
      cpu.push(cpuSeconds() - c0);
    }
    out.times_s = times;
    out.cpu_s = cpu;
    out.tokens = w.tokens;
  }
  load.push(loadAverage());
  out.peak_rss_bytes = peakRss();
  out.load = load;
  console.log(JSON.stringify(out));
}
