// DPO and SFT score tokens through the fused, chunked LM head when the model has
// `outputEmbeddings()`: the same loss, statistics and gradients as the logits path within 1e-5 on
// a tiny GPT-2, and no [B, L, V] logits alive while the loss and its gradient are computed.

import assert from "node:assert/strict";
import { allRows } from "../../algorithms/common/batching.ts";
import type { MicroBatchResult } from "../../algorithms/common/trainer.ts";
import {
  type DpoLossType,
  type DpoPairRows,
  DPOTrainer,
  type PreferenceTriple,
} from "../../algorithms/dpo/mod.ts";
import { type LmRow, SFTTrainer } from "../../algorithms/sft/mod.ts";
import { Generator, profileOps, type Tensor, tidy } from "../../core/mod.ts";
import type { GPT2LMHeadModel } from "../../models/gpt2/model.ts";
import { assertAgree, gradients, tinyGpt2, viaLogits } from "./fused_lm.ts";

/** Random token rows of the given lengths, ids in [3, vocab). */
function tokens(g: Generator, vocab: number, lengths: number[]): number[][] {
  return lengths.map((n) => Array.from({ length: n }, () => 3 + g.int(vocab - 3)));
}

function triples(count: number, vocab: number, completion: number, seed: number) {
  const g = new Generator(seed);
  return Array.from({ length: count }, (_, i): PreferenceTriple => {
    const [prompt, chosen, rejected] = tokens(g, vocab, [
      2 + (i % 3),
      completion - (i % 4),
      completion - 2 * (i % 3),
    ]);
    return { prompt, chosen, rejected };
  });
}

/** One micro-batch's loss and statistics, with the loss's gradient accumulated. */
function lossAndBackward(
  trainer: DPOTrainer | SFTTrainer,
  rows: readonly unknown[],
): Record<string, number> {
  const compute = (trainer as unknown as {
    computeLoss(batch: unknown[], indices: number[]): MicroBatchResult;
  }).computeLoss.bind(trainer);
  return tidy(() => {
    const r = compute([...rows], rows.map((_, i) => i));
    r.loss.backward();
    const out: Record<string, number> = { loss: r.loss.toFloat64ArraySync()[0] };
    for (const [k, v] of Object.entries(r.stats)) out[k] = (v as Tensor).toFloat64ArraySync()[0];
    return out;
  });
}

function trainRowsOf<T>(trainer: DPOTrainer | SFTTrainer): T[] {
  return allRows((trainer as unknown as { trainRows: T[] }).trainRows);
}

function dpoTrainer(fused: boolean, lossType: DpoLossType, seed = 1) {
  const model = tinyGpt2(seed), ref = tinyGpt2(seed + 1);
  if (!fused) [model, ref].forEach(viaLogits);
  const trainer = new DPOTrainer({ learningRate: 0.01, batchSize: 4, maxSteps: 1, lossType }, {
    model,
    refModel: ref,
    trainDataset: triples(4, 64, 9, 7),
    padTokenId: 0,
  });
  return { trainer, model };
}

for (const lossType of ["sigmoid", "ipo"] as const) {
  Deno.test(`DPOTrainer (${lossType}): the fused LM head gives the logits path's loss, metrics and gradients`, () => {
    const run = (fused: boolean) => {
      const { trainer, model } = dpoTrainer(fused, lossType);
      model.zeroGrad();
      const stats = lossAndBackward(trainer, trainRowsOf<DpoPairRows>(trainer));
      return { stats, grads: gradients(model.parameters()), model };
    };
    const fused = run(true), logits = run(false);
    assert.ok(fused.model.outputEmbeddings(), "the fused run has its LM head");
    assert.equal(logits.model.outputEmbeddings(), null);
    const keys = Object.keys(logits.stats);
    assert.deepEqual(Object.keys(fused.stats), keys);
    assert.ok(keys.includes("logps/chosen") && keys.includes("rewards/margins"), keys.join());
    for (const k of keys) assertAgree([fused.stats[k]], [logits.stats[k]], k);
    assert.ok(fused.grads.length >= 10, "every GPT-2 weight has a gradient");
    fused.grads.forEach((g, i) => {
      assert.ok(g.some((x) => x !== 0), `gradient ${i} is not all zero`);
      assertAgree(g, logits.grads[i], `gradient ${i}`);
    });
  });
}

function sftRowsOf(count: number, vocab: number, length: number, seed: number) {
  const g = new Generator(seed);
  return Array.from({ length: count }, (_, i) => {
    const [prompt, completion] = tokens(g, vocab, [3 + (i % 2), length - 2 * (i % 3)]);
    return { prompt, completion };
  });
}

function sftTrainer(model: GPT2LMHeadModel, rows: ReturnType<typeof sftRowsOf>) {
  return new SFTTrainer({ learningRate: 0.01, batchSize: rows.length, maxSteps: 1 }, {
    model,
    trainDataset: rows,
    padTokenId: 0,
  });
}

Deno.test("SFTTrainer: the fused LM head gives the logits path's loss, accuracy, gradients and evaluation", async () => {
  const rows = sftRowsOf(4, 64, 10, 3);
  const run = async (fused: boolean) => {
    const model = tinyGpt2(5);
    if (!fused) viaLogits(model);
    const trainer = sftTrainer(model, rows);
    model.zeroGrad();
    const stats = lossAndBackward(trainer, trainRowsOf<LmRow>(trainer));
    const grads = gradients(model.parameters());
    // Evaluation sums the token losses (the other reduction) without gradients.
    const evaluation = await trainer.evaluate(rows);
    return { stats, grads, evaluation };
  };
  const fused = await run(true), logits = await run(false);
  assert.deepEqual(Object.keys(fused.stats), ["loss", "mean_token_accuracy"]);
  for (const k of Object.keys(logits.stats)) assertAgree([fused.stats[k]], [logits.stats[k]], k);
  // Accuracy counts tokens: any argmax that differed would move it by at least 1/tokens.
  assert.equal(fused.stats.mean_token_accuracy, logits.stats.mean_token_accuracy);
  for (const k of ["loss", "perplexity", "mean_token_accuracy", "num_tokens"] as const) {
    assertAgree([fused.evaluation[k]], [logits.evaluation[k]], `eval ${k}`);
  }
  fused.grads.forEach((g, i) => assertAgree(g, logits.grads[i], `gradient ${i}`));
});

// ---- memory: a GPT-2-sized vocabulary, rows beyond one chunk of logits -------------------------

const BIG_VOCAB = 50257;

/** Peak live tensor bytes while one micro-batch's loss and gradient are computed. */
function peakBytes(trainer: DPOTrainer | SFTTrainer, rows: readonly unknown[]): number {
  return profileOps(() => lossAndBackward(trainer, rows)).profile.peakLiveBytes;
}

Deno.test("DPOTrainer: with the fused LM head, the policy and reference never hold [rows, L, V] logits", () => {
  const measure = (fused: boolean) => {
    const opts = { vocab: BIG_VOCAB, width: 8, layers: 1, positions: 256 };
    const model = tinyGpt2(11, opts), ref = tinyGpt2(12, opts);
    if (!fused) [model, ref].forEach(viaLogits);
    const trainer = new DPOTrainer({ learningRate: 0.01, batchSize: 4, maxSteps: 1 }, {
      model,
      refModel: ref,
      trainDataset: triples(4, BIG_VOCAB, 150, 13),
      padTokenId: 0,
    });
    const rows = trainRowsOf<DpoPairRows>(trainer);
    const length = Math.max(...rows.flatMap((p) => [p.chosen.ids.length, p.rejected.ids.length]));
    return {
      peak: peakBytes(trainer, rows),
      logitsBytes: 2 * rows.length * length * BIG_VOCAB * 4,
    };
  };
  const fused = measure(true), logits = measure(false);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `DPO micro-batch peak live tensors: fused ${mib(fused.peak)}, logits path ${
      mib(logits.peak)
    }; one [2B, L, V] logits tensor is ${mib(fused.logitsBytes)}`,
  );
  assert.ok(fused.peak < fused.logitsBytes, `fused peak ${mib(fused.peak)}`);
  assert.ok(logits.peak >= logits.logitsBytes, `the logits path holds them: ${mib(logits.peak)}`);
});

Deno.test("SFTTrainer: with the fused LM head, the loss never holds [B, L, V] logits", () => {
  const rows = sftRowsOf(8, BIG_VOCAB, 150, 17);
  const measure = (fused: boolean) => {
    const model = tinyGpt2(19, { vocab: BIG_VOCAB, width: 8, layers: 1, positions: 256 });
    if (!fused) viaLogits(model);
    const trainer = sftTrainer(model, rows);
    const lmRows = trainRowsOf<LmRow>(trainer);
    const length = Math.max(...lmRows.map((r) => r.ids.length));
    return {
      peak: peakBytes(trainer, lmRows),
      logitsBytes: lmRows.length * length * BIG_VOCAB * 4,
    };
  };
  const fused = measure(true), logits = measure(false);
  assert.ok(fused.peak < fused.logitsBytes, `fused peak ${fused.peak} B`);
  assert.ok(logits.peak >= logits.logitsBytes, `the logits path holds them: ${logits.peak} B`);
});
