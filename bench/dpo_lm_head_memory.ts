/**
 * Memory of one DPO micro-batch at GPT-2's width and vocabulary: the loss (policy and reference
 * on chosen and rejected rows) and its backward, with the log-probs taken through the fused,
 * chunked LM head (`--path fused`, what `DPOTrainer` does for a model with `outputEmbeddings()`)
 * or through the [rows, L, 50257] logits (`--path logits`, what it did before and still does for
 * models without a plain LM head). The model is GPT-2 124M's shape with random weights (dropout
 * off), `--layers` of its 12 blocks, LoRA r=16 on `c_attn` as the hh-rlhf preset, the reference
 * being the policy with its adapters off; the batch is `--pairs` pairs of `--length`-token rows.
 *
 *   deno run -A --v8-flags=--expose-gc bench/dpo_lm_head_memory.ts --path fused --layers 2 \
 *     --pairs 8 --length 128
 *
 * Prints peak live tensor bytes (`profileOps`) and the process's peak RSS during the micro-batch
 * (the kernel's counter restarted after the model is built), and the loss. Run each path in its
 * own process.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type DpoPairRows, DPOTrainer, type PreferenceTriple } from "../algorithms/dpo/mod.ts";
import type { MicroBatchResult } from "../algorithms/common/trainer.ts";
import { Generator, profileOps, tidy } from "../core/mod.ts";
import { GPT2LMHeadModel } from "../models/gpt2/model.ts";
import { applyLora } from "../models/lora.ts";
import { peakRss, resetPeakRss } from "./gpt2_scale_workloads.ts";

const { values: args } = parseArgs({
  options: {
    path: { type: "string", default: "fused" },
    layers: { type: "string", default: "2" },
    pairs: { type: "string", default: "8" },
    length: { type: "string", default: "128" },
  },
});
if (args.path !== "fused" && args.path !== "logits") {
  throw new Error(`--path must be fused or logits, got '${args.path}'`);
}
const layers = Number(args.layers), pairs = Number(args.pairs), length = Number(args.length);
const V = 50257;

const model = new GPT2LMHeadModel({
  vocab_size: V,
  n_positions: 1024,
  n_embd: 768,
  n_layer: layers,
  n_head: 12,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
}, { backend: "cpu", generator: new Generator(0) });
// The logits path is what a model without a plain LM head gets.
if (args.path === "logits") {
  Object.defineProperty(model, "outputEmbeddings", { value: () => null });
}
const lora = applyLora(model, { r: 16, alpha: 32, dropout: 0, targetModules: ["c_attn"] }, {
  generator: new Generator(1),
});

const g = new Generator(2);
const ids = (n: number) => Array.from({ length: n }, () => g.int(V));
const prompt = Math.floor(length / 4);
const triples: PreferenceTriple[] = Array.from({ length: pairs }, () => ({
  prompt: ids(prompt),
  chosen: ids(length - prompt),
  rejected: ids(length - prompt),
}));
const trainer = new DPOTrainer({ learningRate: 5e-5, batchSize: pairs, maxSteps: 1, beta: 0.1 }, {
  model,
  adapters: lora,
  trainDataset: triples,
  padTokenId: 0,
});
const rows = (trainer as unknown as { trainRows: DpoPairRows[] }).trainRows;
const computeLoss = (trainer as unknown as {
  computeLoss(batch: DpoPairRows[], indices: number[]): MicroBatchResult;
}).computeLoss.bind(trainer);

const buildRss = resetPeakRss();
const started = performance.now();
const { result: loss, profile } = profileOps(() =>
  tidy(() => {
    const r = computeLoss([...rows], rows.map((_, i) => i));
    r.loss.backward();
    return r.loss.toFloat64ArraySync()[0];
  })
);
const seconds = (performance.now() - started) / 1000;
const gib = (b: number) => (b / 2 ** 30).toFixed(2);
const logitsGib = gib(2 * pairs * length * V * 4);
console.log(
  `path=${args.path} layers=${layers} pairs=${pairs} length=${length}: loss ${loss.toFixed(6)}, ` +
    `peak live tensors ${gib(profile.peakLiveBytes)} GiB, peak RSS ${gib(peakRss())} GiB ` +
    `(after the build: ${gib(buildRss)} GiB), ${seconds.toFixed(1)} s; one [${2 * pairs}, ` +
    `${length}, ${V}] f32 logits tensor is ${logitsGib} GiB`,
);
