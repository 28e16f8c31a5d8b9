/**
 * Gradient checkpointing on real architectures, per backend: the tiny GPT-2, DistilBERT, Llama,
 * Qwen2, OPT and T5 reference checkpoints in training mode (dropout on where the config has it),
 * one step's gradients with
 * `gradientCheckpointingEnable()` against the plain path's. The recomputation runs the same
 * kernels on the same values with the same dropout draws, so the gradients must be equal.
 */

import assert from "node:assert/strict";
import { manualSeed, mul, nn, sum, type Tensor, tensor, tidy } from "../../core/mod.ts";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { loadSeq2SeqLM } from "../../models/seq2seq_lm.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
import { expectedOf, fixtureDir as causalDir } from "./causal_reference.ts";
import { expectedA, T5_A } from "./t5_fixture.ts";
import { fixtureDir, readExpected } from "./bert_fixtures.ts";
import { expected, loadGpt2A } from "./gpt2_fixture.ts";

/** Every parameter's gradient after backpropagating Σ f() · seed from a fixed RNG state. */
async function step(model: nn.Module, f: () => Tensor, seed: number[]): Promise<Float32Array[]> {
  model.zeroGrad();
  manualSeed(1234);
  // The model's own dropout generators (a loaded GPT-2 has one) start from one state each run.
  for (const g of nn.dropoutGenerators(model)) g.seed(99);
  tidy(() => {
    const y = f();
    sum(mul(y, tensor(seed, y.shape, { backend: y.backend.name }))).backward();
  });
  const out: Float32Array[] = [];
  for (const p of model.parameters()) if (p.grad) out.push(await p.grad.toArray());
  return out;
}

/**
 * Checkpointed gradients against the plain path's: equal bits, or with `tol`, |Δ| ≤ tol · max|g|
 * per tensor (for a tensor several blocks use, whose contributions may add up in another order).
 */
async function compare(
  model: nn.Module,
  f: () => Tensor,
  seed: number[],
  what: string,
  tol?: number,
) {
  model.train();
  const plain = await step(model, f, seed);
  model.gradientCheckpointingEnable();
  const checked = await step(model, f, seed);
  model.gradientCheckpointingEnable(false);
  assert.ok(plain.length > 5, `${what}: ${plain.length} gradients`);
  assert.equal(checked.length, plain.length, `${what}: gradient count`);
  plain.forEach((g, i) => {
    if (tol === undefined) return assert.deepEqual(checked[i], g, `${what}: gradient ${i}`);
    let worst = 0, scale = 0;
    g.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - checked[i][j]));
      scale = Math.max(scale, Math.abs(v));
    });
    assert.ok(
      worst <= tol * scale,
      `${what}: gradient ${i} differs by ${worst} (max |g| ${scale})`,
    );
  });
}

/** Registers the tests for `backend` through `define` (Deno.test or gpuTest). */
export function defineCheckpointingSuite(
  backend: string,
  define: (name: string, fn: () => Promise<void>) => void,
): void {
  define(
    `gradient checkpointing[${backend}]: gpt2-a gradients equal the plain path's`,
    async () => {
      const model = await loadGpt2A(backend);
      const ids = expected.input_ids_right, mask = expected.attention_mask_right;
      const x = tensor(ids, undefined, { backend }), m = tensor(mask, undefined, { backend });
      const n = ids.length * ids[0].length * model.config.vocab_size;
      const seed = Array.from({ length: n }, (_, i) => Math.sin(i));
      await compare(
        model,
        () => model.forward({ inputIds: x, attentionMask: m }).logits,
        seed,
        "gpt2-a",
      );
      for (const t of [x, m]) t.dispose();
      model.dispose();
    },
  );

  define(
    `gradient checkpointing[${backend}]: distilbert-a gradients equal the plain path's`,
    async () => {
      const model = await loadSequenceClassifier(fixtureDir("distilbert-a"), {
        backend,
        log: () => {},
      });
      const e = readExpected("distilbert-a");
      const seed = Array.from(
        { length: e.input_ids.length * model.numLabels },
        (_, i) => Math.cos(i),
      );
      await compare(
        model,
        () => model.forward({ inputIds: e.input_ids, attentionMask: e.attention_mask }).logits,
        seed,
        "distilbert-a",
      );
      model.dispose();
    },
  );

  for (const name of ["llama-a", "qwen2-a", "opt-a"]) {
    define(
      `gradient checkpointing[${backend}]: ${name} gradients equal the plain path's`,
      async () => {
        const model = await loadCausalLM(causalDir(name), { backend, log: () => {} });
        const e = await expectedOf(name);
        const x = tensor(e.input_ids_right, undefined, { backend });
        const m = tensor(e.attention_mask_right, undefined, { backend });
        const n = x.size * model.vocabSize;
        const seed = Array.from({ length: n }, (_, i) => Math.sin(i));
        await compare(
          model,
          () => model.forward({ inputIds: x, attentionMask: m }).logits,
          seed,
          name,
        );
        for (const t of [x, m]) t.dispose();
        model.dispose();
      },
    );
  }

  define(
    `gradient checkpointing[${backend}]: t5-a gradients equal the plain path's`,
    async () => {
      // The position bias and the cross-attention keys are made outside the blocks and
      // captured by them: the recomputation must hand their gradients back to the outer pass.
      // The encoder's output reaches every decoder block through those keys, and its gradient
      // sums their contributions in the outer tape's order, which checkpoint nodes change: f32
      // rounding of that sum (~1e-7 of the largest gradient) is all that may differ.
      const model = await loadSeq2SeqLM(T5_A, { backend, log: () => {} });
      const e = expectedA;
      const n = e.decoder_input_ids.length * e.decoder_input_ids[0].length * model.vocabSize;
      const seed = Array.from({ length: n }, (_, i) => Math.cos(i));
      await compare(
        model,
        () =>
          model.forward({
            inputIds: e.input_ids_right,
            attentionMask: e.attention_mask_right,
            decoderInputIds: e.decoder_input_ids,
          }).logits,
        seed,
        "t5-a",
        1e-6,
      );
      model.dispose();
    },
  );
}
