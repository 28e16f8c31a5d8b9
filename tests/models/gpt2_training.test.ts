/**
 * Training GPT-2: every parameter gradient of a tiny model (left padding, KV-free forward,
 * tied head, value head) agrees with f64 finite differences; a few AdamW steps on the
 * reference checkpoint lower its LM loss; dropout is seeded and active only in training.
 */

import assert from "node:assert/strict";
import {
  add,
  crossEntropy,
  Generator,
  mean,
  optim,
  reshape,
  slice,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { GPT2LMHeadModel } from "../../models/gpt2/model.ts";
import { CausalLMWithValueHead } from "../../models/with_value_head.ts";
import type { CausalLM } from "../../models/contract.ts";
import { expected, loadGpt2A } from "./gpt2_fixture.ts";

/** Next-token cross-entropy over positions whose target is a real token. */
function lmLoss(model: CausalLM, ids: number[][], mask: number[][], backend: string) {
  const [b, t] = [ids.length, ids[0].length];
  const out = model.forward({
    inputIds: tensor(ids, undefined, { backend }),
    attentionMask: tensor(mask, undefined, { backend }),
  });
  const v = out.logits.shape[2];
  const targets = ids.map((row, r) => row.slice(1).map((x, c) => (mask[r][c + 1] ? x : -100)));
  const ce = crossEntropy(
    reshape(slice(out.logits, [0, 0, 0], [b, t - 1, v]), [b * (t - 1), v]),
    tensor(targets.flat(), [b * (t - 1)], { backend }),
  );
  return out.values ? add(ce, mean(out.values)) : ce;
}

function lossValue(f: () => Tensor): number {
  return tidy(() => f().toFloat64ArraySync()[0]);
}

Deno.test("tiny GPT-2 gradients match f64 finite differences (cpu64)", () => {
  const backend = "cpu64";
  const init = new Generator(1);
  const lm = new GPT2LMHeadModel({
    n_layer: 1,
    n_embd: 8,
    n_head: 2,
    vocab_size: 13,
    n_positions: 8,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    initializer_range: 0.3,
  }, { backend, generator: init });
  const model = new CausalLMWithValueHead(lm, { dropout: 0, generator: init });
  model.eval();
  const ids = [[0, 0, 5, 7, 1, 12], [3, 4, 9, 2, 11, 6]];
  const mask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
  const loss = () => lmLoss(model, ids, mask, backend);
  tidy(() => loss().backward());
  const g = new Generator(2);
  const eps = 1e-6;
  let checked = 0;
  for (const [name, p] of model.namedParameters()) {
    const grad = p.grad!.toFloat64ArraySync();
    const data = p.storage.handle as Float64Array;
    for (let n = 0; n < 3; n++) {
      const i = g.int(p.size);
      const orig = data[p.offset + i];
      data[p.offset + i] = orig + eps;
      const up = lossValue(loss);
      data[p.offset + i] = orig - eps;
      const down = lossValue(loss);
      data[p.offset + i] = orig;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(grad[i] - numeric);
      assert.ok(
        err <= 1e-8 + 1e-5 * Math.abs(numeric),
        `${name}[${i}]: backward ${grad[i]}, finite difference ${numeric}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 3 * model.namedParameters().length);
  model.dispose();
});

Deno.test("a few AdamW steps on gpt2-a lower its LM loss (dropout on while training)", async () => {
  const model = await loadGpt2A();
  const ids = expected.input_ids_right, mask = expected.attention_mask_right;
  const evalLoss = () => {
    model.eval();
    return lossValue(() => lmLoss(model, ids, mask, "cpu"));
  };
  const before = evalLoss();
  const opt = new optim.AdamW(model.parameters(), { lr: 3e-3 });
  model.train();
  for (let step = 0; step < 5; step++) {
    tidy(() => lmLoss(model, ids, mask, "cpu").backward());
    opt.step();
    opt.zeroGrad();
  }
  const after = evalLoss();
  assert.ok(after < before - 0.1, `loss ${before} → ${after}`);
  model.dispose();
});

Deno.test("dropout is seeded, active only in training, and reaches every dropout site", () => {
  const config = { n_layer: 1, n_embd: 16, n_head: 2, vocab_size: 20, n_positions: 16 };
  const run = (train: boolean, seed: number, pdrop: Partial<Record<string, number>>) => {
    const model = new GPT2LMHeadModel({ ...config, ...pdrop }, {
      generator: new Generator(seed),
    });
    model.train(train);
    const out = tidy(() => model.forward({ inputIds: [[1, 2, 3, 4, 5]] }).logits.toArraySync());
    model.dispose();
    return out;
  };
  const none = { resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
  const evalOut = run(false, 0, { resid_pdrop: 0.5, embd_pdrop: 0.5, attn_pdrop: 0.5 });
  assert.deepEqual(run(true, 0, none), evalOut, "no dropout: training equals eval");
  for (const site of ["resid_pdrop", "embd_pdrop", "attn_pdrop"]) {
    const a = run(true, 0, { ...none, [site]: 0.5 });
    assert.notDeepEqual(a, evalOut, `${site} changes the training forward`);
    assert.deepEqual(run(true, 0, { ...none, [site]: 0.5 }), a, `${site} is seeded`);
  }
});
