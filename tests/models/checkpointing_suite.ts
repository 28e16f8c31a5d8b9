/**
 * Gradient checkpointing on real architectures, per backend: the tiny GPT-2 and DistilBERT
 * reference checkpoints in training mode (dropout on), one step's gradients with
 * `gradientCheckpointingEnable()` against the plain path's. The recomputation runs the same
 * kernels on the same values with the same dropout draws, so the gradients must be equal.
 */

import assert from "node:assert/strict";
import { manualSeed, mul, nn, sum, type Tensor, tensor, tidy } from "../../core/mod.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
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

async function compare(model: nn.Module, f: () => Tensor, seed: number[], what: string) {
  model.train();
  const plain = await step(model, f, seed);
  model.gradientCheckpointingEnable();
  const checked = await step(model, f, seed);
  model.gradientCheckpointingEnable(false);
  assert.ok(plain.length > 5, `${what}: ${plain.length} gradients`);
  assert.equal(checked.length, plain.length, `${what}: gradient count`);
  plain.forEach((g, i) => assert.deepEqual(checked[i], g, `${what}: gradient ${i}`));
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
}
