/** The BERT-family classifiers on WebGPU: the same reference outputs as on the CPU. */

import assert from "node:assert/strict";
import { optim, slice, tidy } from "../../core/mod.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
import { bradleyTerryLoss } from "../../reward/loss.ts";
import { gpuTest } from "../webgpu/setup.ts";
import { fixtureDir, maxAbsDiff, readExpected } from "./bert_fixtures.ts";

for (const name of ["distilbert-a", "bert-tiny", "roberta-tiny"]) {
  gpuTest(`${name} matches its reference on WebGPU`, async () => {
    const e = readExpected(name);
    using model = await loadSequenceClassifier(fixtureDir(name), { backend: "webgpu" });
    const batch = {
      inputIds: e.input_ids,
      attentionMask: e.attention_mask,
      tokenTypeIds: e.token_type_ids,
    };
    const hiddenT = tidy(() => model.encode(batch));
    const logitsT = tidy(() => model.forward(batch).logits);
    const [hidden, logits] = [await hiddenT.toArray(), await logitsT.toArray()];
    hiddenT.dispose();
    logitsT.dispose();
    const mask = e.attention_mask.flat();
    const width = e.last_hidden_state[0][0].length;
    const hiddenErr = maxAbsDiff(
      hidden,
      e.last_hidden_state.flat(2),
      (i) => mask[Math.floor(i / width)] === 1,
    );
    assert.ok(hiddenErr <= 1e-4, `last_hidden_state off by ${hiddenErr}`);
    const logitsErr = maxAbsDiff(logits, e.logits.flat());
    assert.ok(logitsErr <= 1e-4, `logits off by ${logitsErr}`);
  });
}

gpuTest("a reward model trains on WebGPU", async () => {
  using model = await loadSequenceClassifier(fixtureDir("distilbert-a"), {
    backend: "webgpu",
    numLabels: 1,
    seed: 1,
    log: () => {},
  });
  const chosen = [[5, 7, 20, 7, 0], [7, 30, 41, 7, 9]];
  const rejected = [[5, 13, 20, 13, 0], [13, 30, 41, 13, 9]];
  const ids = [...chosen, ...rejected];
  const mask = ids.map((r) => r.map((v) => (v === 0 ? 0 : 1)));
  const loss = () => {
    const { logits } = model.forward({ inputIds: ids, attentionMask: mask });
    return bradleyTerryLoss(slice(logits, [0, 0], [2, 1]), slice(logits, [2, 0], [2, 1]));
  };
  const evalLoss = async () => {
    model.eval();
    const t = tidy(loss);
    const v = await t.item();
    t.dispose();
    return v;
  };
  const before = await evalLoss();
  const opt = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
  model.train();
  for (let i = 0; i < 5; i++) {
    tidy(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  }
  const after = await evalLoss();
  assert.ok(after < before - 0.1, `loss ${before} → ${after}`);
});
