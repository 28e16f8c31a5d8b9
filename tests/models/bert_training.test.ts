/**
 * Training the BERT-family classifiers: gradients against finite differences in f64, a
 * Bradley–Terry reward step that lowers the pairwise loss, untrained padding rows, dropout.
 */

import assert from "node:assert/strict";
import {
  attention,
  Generator,
  memory,
  mul,
  optim,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { selfAttention } from "../../models/bert/attention.ts";
import type { EncoderForSequenceClassification } from "../../models/bert/classifier.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
import { bradleyTerryLoss } from "../../reward/loss.ts";
import { fixtureDir, readExpected } from "./bert_fixtures.ts";

/** Σ logits · w for fixed weights w: a scalar touching every output. */
function weightedLogits(model: EncoderForSequenceClassification, name: string): Tensor {
  const e = readExpected(name);
  const { logits } = model.forward({
    inputIds: e.input_ids,
    attentionMask: e.attention_mask,
    tokenTypeIds: e.token_type_ids,
  });
  const w = Float64Array.from({ length: logits.size }, (_, i) => Math.cos(1 + 0.7 * i));
  return sum(mul(logits, tensor(w, logits.shape, { backend: logits.backend.name })));
}

for (const name of ["distilbert-a", "bert-tiny", "roberta-tiny"]) {
  Deno.test(`${name}: gradients match central differences in f64`, async () => {
    using model = await loadSequenceClassifier(fixtureDir(name), { backend: "cpu64" });
    tidy(() => weightedLogits(model, name).backward());
    const params = model.namedParameters();
    const g = new Generator(11);
    let checked = 0;
    for (const [pname, p] of params) {
      // Every parameter takes part in the loss, so every one must receive a gradient.
      assert.ok(p.grad, `${pname} got no gradient`);
      // Per tensor: the entry with the largest gradient (so unused embedding rows cannot make
      // the check vacuous) and one drawn at random.
      const grad = p.grad.toFloat64ArraySync();
      const store = p.storage.handle as Float64Array;
      let largest = 0;
      for (let i = 1; i < grad.length; i++) {
        if (Math.abs(grad[i]) > Math.abs(grad[largest])) largest = i;
      }
      for (const i of [largest, g.int(p.size)]) {
        const h = 1e-6;
        const orig = store[p.offset + i];
        store[p.offset + i] = orig + h;
        const up = tidy(() => weightedLogits(model, name).toFloat64ArraySync()[0]);
        store[p.offset + i] = orig - h;
        const down = tidy(() => weightedLogits(model, name).toFloat64ArraySync()[0]);
        store[p.offset + i] = orig;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(numeric - grad[i]) <= 1e-6 + 1e-5 * Math.abs(numeric),
          `${pname}[${i}]: analytic ${grad[i]}, numeric ${numeric}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 2 * params.length);
    model.zeroGrad();
  });
}

/** Pairs where the chosen text holds token 7 and the rejected one token 13 (distilbert-a ids). */
const CHOSEN = [[5, 7, 20, 7, 0, 0], [7, 30, 41, 7, 9, 0], [22, 7, 7, 0, 0, 0], [
  7,
  50,
  0,
  0,
  0,
  0,
]];
const REJECTED = [[5, 13, 20, 13, 0, 0], [13, 30, 41, 13, 9, 0], [22, 13, 13, 0, 0, 0], [
  13,
  50,
  0,
  0,
  0,
  0,
]];
const maskOf = (rows: number[][]) => rows.map((r) => r.map((v) => (v === 0 ? 0 : 1)));

function pairLoss(model: EncoderForSequenceClassification): Tensor {
  const ids = [...CHOSEN, ...REJECTED];
  const { logits } = model.forward({ inputIds: ids, attentionMask: maskOf(ids) });
  const n = CHOSEN.length;
  return bradleyTerryLoss(slice(logits, [0, 0], [n, 1]), slice(logits, [n, 0], [n, 1]));
}

Deno.test("a reward model (numLabels 1) lowers the Bradley–Terry loss in a few AdamW steps", async () => {
  using model = await loadSequenceClassifier(fixtureDir("distilbert-a"), {
    numLabels: 1,
    seed: 1,
    dropoutGenerator: new Generator(2),
    log: () => {},
  });
  const evalLoss = () => tidy(() => pairLoss(model.eval()).itemSync());
  const before = evalLoss();
  const opt = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
  model.train();
  const step = () => {
    tidy(() => pairLoss(model).backward());
    opt.step();
    opt.zeroGrad();
  };
  step();
  const base = memory();
  for (let i = 0; i < 7; i++) step();
  assert.deepEqual(memory(), base, "training steps leave memory flat");
  const after = evalLoss();
  console.log(`Bradley–Terry loss ${before.toFixed(4)} → ${after.toFixed(4)}`);
  // log 2 ≈ 0.693 is chance; the margin is far beyond what eval-mode rounding could produce.
  assert.ok(after < before - 0.2, `loss ${before} → ${after}`);
});

Deno.test("embedding padding rows receive no gradient, other rows do", async () => {
  for (const name of ["distilbert-a", "roberta-tiny"]) {
    using model = await loadSequenceClassifier(fixtureDir(name), { numLabels: 1, log: () => {} });
    const e = readExpected(name);
    tidy(() =>
      sum(model.forward({ inputIds: e.input_ids, attentionMask: e.attention_mask }).logits)
        .backward()
    );
    const pad = model.config.padTokenId;
    const tables = name === "roberta-tiny"
      ? [
        "roberta.embeddings.word_embeddings.weight",
        "roberta.embeddings.position_embeddings.weight",
      ]
      : ["distilbert.embeddings.word_embeddings.weight"];
    const state = model.stateDict();
    for (const t of tables) {
      const grad = state.get(t)!.grad!.toArraySync();
      const d = model.config.hiddenSize;
      assert.ok(grad.subarray(pad * d, (pad + 1) * d).every((v) => v === 0), `${t} row ${pad}`);
      assert.ok(grad.some((v) => v !== 0), `${t} is trained through its other rows`);
    }
    model.zeroGrad();
  }
});

Deno.test("attention dropout: the materialised path agrees with the fused kernel, masks are seeded", () => {
  const g = new Generator(4);
  const [b, h, t, d] = [2, 2, 5, 4];
  const q = tensor(g.normal(b * h * t * d), [b, h, t, d]);
  const k = tensor(g.normal(b * h * t * d), [b, h, t, d]);
  const v = tensor(g.normal(b * h * t * d), [b, h, t, d]);
  const mask = tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]);
  const fused = attention(q, k, v, { mask }).toArraySync();
  // p so small that no weight is dropped: the explicit softmax path must equal the kernel.
  const explicit = selfAttention(q, k, v, mask, { p: 1e-12, training: true }).toArraySync();
  for (let i = 0; i < fused.length; i++) assert.ok(Math.abs(fused[i] - explicit[i]) < 1e-5);
  const drop = (seed: number) =>
    selfAttention(q, k, v, mask, { p: 0.5, training: true, generator: new Generator(seed) })
      .toArraySync();
  assert.deepEqual(drop(9), drop(9));
  assert.notDeepEqual(drop(9), drop(10));
  assert.notDeepEqual(drop(9), fused);
});

Deno.test("train mode applies seeded dropout; eval mode is deterministic", async () => {
  const load = (seed: number) =>
    loadSequenceClassifier(fixtureDir("bert-tiny"), { dropoutGenerator: new Generator(seed) });
  using a = await load(1);
  using b = await load(1);
  const e = readExpected("bert-tiny");
  const batch = { inputIds: e.input_ids, attentionMask: e.attention_mask };
  const run = (m: EncoderForSequenceClassification) =>
    tidy(() => m.forward(batch).logits.toArraySync());
  const evalOut = run(a);
  a.train();
  b.train();
  const trainA = run(a);
  assert.deepEqual(run(b), trainA, "same dropout seed, same masks");
  assert.notDeepEqual(trainA, evalOut);
  assert.notDeepEqual(run(a), trainA, "the generator moves on between steps");
  a.eval();
  assert.deepEqual(run(a), evalOut);
});
