// The online algorithms score tokens through the fused, chunked LM head when the policy has
// `outputEmbeddings()`: `tokenLogprobs` (PPO, GRPO, RLOO and the reference) and trlX's batch
// scoring give the logits path's log-probs, entropies, values and gradients within 1e-5 on a tiny
// GPT-2, whole PPO, GRPO and RLOO steps agree within 1e-5, and no [B, L, V] logits are held.

import assert from "node:assert/strict";
import { Reference, tokenLogprobs } from "../../algorithms/common/mod.ts";
import { GRPOTrainer } from "../../algorithms/grpo/mod.ts";
import { PPOTrainer } from "../../algorithms/ppo/mod.ts";
import { trlxBatch, trlxLogprobsAndValues, TrlxPolicy } from "../../algorithms/ppo_trlx/mod.ts";
import { RLOOTrainer } from "../../algorithms/rloo/mod.ts";
import {
  add,
  Generator,
  mul,
  optim,
  profileOps,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";
import { CausalLMWithValueHead } from "../../models/with_value_head.ts";
import { assertAgree, gradients, tinyGpt2, values, viaLogits } from "./fused_lm.ts";

const QUERIES = [[5, 9, 17], [3, 4], [8, 8, 21, 30], [11]];
const RESPONSES = [[40, 2], [7, 12, 33, 2], [19], [25, 26, 27]];

/** Query ++ response rows, right padded with 0, and their masks. */
function packed() {
  const rows = QUERIES.map((q, i) => [...q, ...RESPONSES[i]]);
  const L = Math.max(...rows.map((r) => r.length));
  return {
    ids: tensor(rows.map((r) => [...r, ...Array(L - r.length).fill(0)])),
    mask: tensor(rows.map((r) => [...r.map(() => 1), ...Array(L - r.length).fill(0)])),
  };
}

function valueModel(seed: number, fused: boolean, opts = {}) {
  const m = new CausalLMWithValueHead(tinyGpt2(seed, opts), {
    dropout: 0,
    generator: new Generator(seed + 100),
  });
  return fused ? m : viaLogits(m);
}

Deno.test("tokenLogprobs: the fused LM head gives the logits path's log-probs, entropies, values and gradients", () => {
  const { ids, mask } = packed();
  const seed = tensor(new Generator(4).normal(ids.shape[0] * (ids.shape[1] - 1)), [
    ids.shape[0],
    ids.shape[1] - 1,
  ]);
  const run = (fused: boolean) => {
    const model = valueModel(3, fused);
    model.zeroGrad();
    const out = tidy(() => {
      const r = tokenLogprobs(model, ids, mask, { temperature: 0.7, entropy: true });
      assert.equal(r.logits, null, "no logits unless asked for");
      add(sum(mul(r.logprobs, seed)), sum(r.values!)).backward();
      return {
        logprobs: r.logprobs.toFloat64ArraySync(),
        entropy: r.entropy!.toFloat64ArraySync(),
        values: r.values!.toFloat64ArraySync(),
      };
    });
    const ref = Reference.model(model).logprobs(ids, mask, { temperature: 0.7 });
    return { ...out, ref: ref.toFloat64ArraySync(), grads: gradients(model.parameters()) };
  };
  const fused = run(true), logits = run(false);
  for (const k of ["logprobs", "entropy", "values", "ref"] as const) {
    assertAgree(fused[k], logits[k], k);
  }
  assert.ok(fused.grads.length >= 10);
  fused.grads.forEach((g, i) => assertAgree(g, logits.grads[i], `gradient ${i}`));
});

Deno.test("tokenLogprobs: `logits: true` returns them (the full-KL estimator's input) with the same log-probs", () => {
  const { ids, mask } = packed();
  const model = valueModel(6, true);
  const fused = tokenLogprobs(model, ids, mask).logprobs.toFloat64ArraySync();
  const r = tokenLogprobs(model, ids, mask, { logits: true });
  assert.deepEqual(r.logits!.shape, [4, ids.shape[1] - 1, 64]);
  assertAgree(fused, r.logprobs.toFloat64ArraySync(), "log-probs");
});

/** Every number of two stats records, by key; both must have the same keys. */
function assertStatsAgree(a: Record<string, unknown>, b: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  let compared = 0;
  for (const [k, v] of Object.entries(b)) {
    if (k.startsWith("time/")) continue;
    const x = [a[k]].flat(2), y = [v].flat(2);
    if (!y.every((n) => typeof n === "number")) continue;
    assertAgree(x as number[], y as number[], k);
    compared++;
  }
  assert.ok(compared >= 5, `${compared} statistics compared`);
}

Deno.test("PPOTrainer: a whole step through the fused LM head equals the logits path's", async () => {
  const run = async (fused: boolean) => {
    const model = valueModel(21, fused), ref = valueModel(22, fused);
    const trainable = model.parameters().filter((p) => p.requiresGrad);
    const before = values(trainable);
    const trainer = new PPOTrainer({ batchSize: 4, miniBatchSize: 2, ppoEpochs: 2 }, {
      model,
      refModel: ref,
      padTokenId: 0,
      optimizer: new optim.SGD(trainable, { lr: 0.5 }) as unknown as optim.Optimizer<
        optim.Hyperparams
      >,
      warn: () => {},
    });
    const stats = await trainer.step(QUERIES, RESPONSES, [1, -0.5, 0.25, 2]);
    const after = values(trainable);
    return { stats, moved: after.map((v, i) => v - before[i]) };
  };
  const fused = await run(true), logits = await run(false);
  assert.ok("ppo/policy/entropy" in logits.stats, "the entropy statistic is logged");
  assertStatsAgree(fused.stats, logits.stats);
  assert.ok(fused.moved.some((d) => d !== 0), "the step moved the weights");
  // SGD: the weights moved by −lr × the summed gradients of both epochs.
  assertAgree(fused.moved, logits.moved, "weight updates");
});

for (const [name, Trainer] of [["GRPO", GRPOTrainer], ["RLOO", RLOOTrainer]] as const) {
  Deno.test(`${name}Trainer: a whole step (temperature 0.8, two iterations) through the fused LM head equals the logits path's`, async () => {
    const prompts = [[5, 9], [3, 4, 8]];
    const completions = [[40, 2], [7, 12, 33, 2], [19, 2], [25, 26, 2], [6, 2], [44, 45, 46]];
    const run = async (fused: boolean) => {
      const model = viaLogitsIf(tinyGpt2(31), fused), ref = viaLogitsIf(tinyGpt2(32), fused);
      const before = values(model.parameters());
      const trainer = new Trainer({
        batchSize: 6,
        numGenerations: 3,
        numIterations: 2,
        beta: 0.1,
        temperature: 0.8,
        maxGradNorm: null,
        lrSchedulerType: "constant",
        maxSteps: 1,
      }, {
        model,
        refModel: ref,
        tokenizer: { decode: (ids: number[]) => ids.join(" "), eosTokenId: 2, padTokenId: 0 },
        rewardFuncs: [{ name: "r", fn: () => [] }],
        trainDataset: prompts,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }) as unknown as optim.Optimizer<
          optim.Hyperparams
        >,
      });
      const stats = await trainer.step(
        [0, 0, 0, 1, 1, 1].map((i) => prompts[i]),
        completions,
        [[1, 0.5, -1, 2, 0, 0.25]],
      );
      trainer.dispose();
      const after = values(model.parameters());
      return { stats, moved: after.map((v, i) => v - before[i]) };
    };
    const fused = await run(true), logits = await run(false);
    assert.ok("entropy" in logits.stats && "kl" in logits.stats, Object.keys(logits.stats).join());
    assertStatsAgree(fused.stats, logits.stats);
    assert.ok(fused.moved.some((d) => d !== 0), "the step moved the weights");
    assertAgree(fused.moved, logits.moved, "weight updates");
  });
}

function viaLogitsIf<M extends object>(model: M, fused: boolean): M {
  return fused ? model : viaLogits(model);
}

Deno.test("trlX batch scoring: the fused LM head gives the logits path's log-probs, values and gradients", () => {
  const pad = 0;
  const queries = [[0, 5, 9, 17], [3, 4, 8, 21]], responses = [[40, 2, 0], [7, 12, 33]];
  const run = (fused: boolean) => {
    const policy = new TrlxPolicy(tinyGpt2(41), "causal", { generator: new Generator(42) });
    if (!fused) viaLogits(policy);
    assert.equal(policy.outputEmbeddings() !== null, fused);
    const batch = trlxBatch("causal", queries, responses, pad, "cpu");
    const seed = tensor(new Generator(43).normal(2 * 6), [2, 6]);
    policy.zeroGrad();
    const out = tidy(() => {
      const r = trlxLogprobsAndValues(policy, batch);
      add(sum(mul(r.logprobs, seed)), sum(r.values)).backward();
      return { logprobs: r.logprobs.toFloat64ArraySync(), values: r.values.toFloat64ArraySync() };
    });
    return { ...out, grads: gradients(policy.parameters()) };
  };
  const fused = run(true), logits = run(false);
  assertAgree(fused.logprobs, logits.logprobs, "log-probs");
  assertAgree(fused.values, logits.values, "values");
  assert.ok(fused.grads.length >= 10);
  fused.grads.forEach((g, i) => assertAgree(g, logits.grads[i], `gradient ${i}`));
});

Deno.test("tokenLogprobs and trlX scoring: with the fused LM head no [B, L, V] logits are held (vocab 50257)", () => {
  const V = 50257, B = 8, L = 128;
  const g = new Generator(51);
  const rows = Array.from({ length: B }, () => Array.from({ length: L }, () => 3 + g.int(V - 3)));
  const logitsBytes = B * L * V * 4;
  const opts = { vocab: V, width: 8, layers: 1, positions: 256 };
  const measure = (fused: boolean, trlx: boolean) => {
    const ids = tensor(rows), mask = tensor(rows.map((r) => r.map(() => 1)));
    const model = valueModel(52, fused, opts);
    const policy = new TrlxPolicy(tinyGpt2(53, opts), "causal", { generator: new Generator(54) });
    if (!fused) viaLogits(policy);
    const batch = trlxBatch(
      "causal",
      rows.map((r) => r.slice(0, 8)),
      rows.map((r) => r.slice(8)),
      0,
      "cpu",
    );
    const peak = profileOps(() =>
      tidy(() => {
        const lp: Tensor = trlx
          ? trlxLogprobsAndValues(policy, batch).logprobs
          : tokenLogprobs(model, ids, mask, { entropy: true }).logprobs;
        sum(lp).backward();
      })
    ).profile.peakLiveBytes;
    for (const t of [ids, mask]) t.dispose();
    return peak;
  };
  const logits = measure(false, false);
  assert.ok(logits >= logitsBytes, `the logits path holds them (${logits} B)`);
  for (const trlx of [false, true]) {
    const fused = measure(true, trlx);
    const what = trlx ? "trlX" : "tokenLogprobs";
    console.log(`${what}: peak live tensors fused ${fused} B, logits path ${logits} B`);
    assert.ok(fused < logitsBytes, `${what}: fused peak ${fused} B, logits ${logitsBytes} B`);
  }
});
