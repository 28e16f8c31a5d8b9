// trlX's PPO trainer on tiny checkpoints, checked against computations that share none of its
// batching, padding or slicing: each row's log-probs as the sampler recorded them token by token
// (KV cache, batch of all rows), and each row's values from its own unpadded forward, one prefix
// at a time. At step 0 the reference is the policy, so the KL is 0 and the rewards are the score
// on the row's last kept position only. Then the layer freezing of trlX's num_layers_unfrozen,
// and a reference that still equals the initial model after updates that trained only the top.

import assert from "node:assert/strict";
import {
  Generator,
  logSoftmax,
  slice,
  squeeze,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import {
  freezeTrlxLayers,
  loadTrlxPolicy,
  parseTrlxConfig,
  type TrlxPolicy,
  TrlxPpoTrainer,
} from "../../algorithms/ppo_trlx/mod.ts";
import type { CausalLM } from "../../models/mod.ts";

const T5 = new URL("../fixtures/models/t5-a", import.meta.url).pathname;
const GPT2 = new URL("../fixtures/models/gpt2-a", import.meta.url).pathname;

const near = (a: number, e: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}: got ${a}, expected ${e}`);

function config(
  arch: "causal" | "seq2seq",
  numLayersUnfrozen: number,
  minibatch: number | null = null,
) {
  return parseTrlxConfig({
    train: { batch_size: 4, minibatch_size: minibatch, seed: 3, tracker: null },
    model: { model_path: "unused", model_arch_type: arch, num_layers_unfrozen: numLayersUnfrozen },
    method: { num_rollouts: 4, chunk_size: 4, ppo_epochs: 2, init_kl_coef: 0.05 },
    optimizer: { name: "adamw", kwargs: { lr: 1e-2 } },
  });
}

/**
 * The value and the log-prob of `next` at the last position of one row's own forward, with
 * nothing padded.
 */
function atPrefix(
  policy: TrlxPolicy,
  prompt: number[],
  prefix: number[],
  next: number,
): { value: number; logprob: number } {
  return tidy(() => {
    const input = policy.arch === "seq2seq"
      ? {
        inputIds: tensor(prompt, [1, prompt.length], { backend: policy.backend }),
        attentionMask: tensor(prompt.map(() => 1), [1, prompt.length], { backend: policy.backend }),
        decoderInputIds: tensor(prefix, [1, prefix.length], { backend: policy.backend }),
      }
      : {
        inputIds: tensor([...prompt, ...prefix], [1, prompt.length + prefix.length], {
          backend: policy.backend,
        }),
        attentionMask: tensor([...prompt, ...prefix].map(() => 1), [
          1,
          prompt.length + prefix.length,
        ], {
          backend: policy.backend,
        }),
      };
    const { values, logits } = policy.forward(input);
    const v = squeeze(values, [0]).toFloat64ArraySync();
    const [, T, V] = logits.shape;
    const last = logSoftmax(slice(logits, [0, T - 1, 0], [1, 1, V])).toFloat64ArraySync();
    return { value: v[v.length - 1], logprob: last[next] };
  });
}

for (const backend of ["cpu", "cpu64"]) {
  const tol = backend === "cpu64" ? 1e-9 : 2e-4;
  // The sampler reads logits back as f32 on every backend.
  const sampledTol = 2e-4;

  Deno.test(`trlX seq2seq PPO on a tiny T5 replays against sampling and unpadded forwards (${backend})`, async () => {
    const policy = await loadTrlxPolicy(T5, "seq2seq", { backend, seed: 1 });
    policy.eval();
    const cfg = config("seq2seq", -1);
    const trainer = new TrlxPpoTrainer(policy, cfg, 0, "right");
    try {
      const prompts = [[5, 6, 7, 1], [8, 9, 1], [10, 11, 12, 13, 1], [14, 1]];
      const gen = await policy.generate(prompts, {
        maxNewTokens: 6,
        doSample: true,
        generator: new Generator(7),
      });
      const scores = [0.5, -1, 2, 0.25];
      const stats = await trainer.addChunk(prompts, gen.tokens, scores);
      assert.equal(stats["policy/sqrt_kl"], 0, "KL at step 0");

      const longest = Math.max(...gen.tokens.map((t) => t.length));
      trainer.store.forEach((e, b) => {
        const out = gen.tokens[b];
        // One kept position per output token (EOS included), plus one pad prediction when the
        // row is shorter than the longest (trlX's slice).
        const kept = out.length + (out.length < longest ? 1 : 0);
        assert.equal(e.logprobs.length, kept, `row ${b} kept positions`);
        out.forEach((_, t) =>
          near(e.logprobs[t], gen.logProbs[b][t], sampledTol, `row ${b} sampled log-prob ${t}`)
        );
        // The row's own forward over the decoder prefix [pad] ++ out[:t].
        out.forEach((token, t) => {
          const own = atPrefix(policy, prompts[b], [0, ...out.slice(0, t)], token);
          near(e.values[t], own.value, tol, `row ${b} value ${t}`);
          near(e.logprobs[t], own.logprob, tol, `row ${b} log-prob ${t}`);
        });
        // KL 0: the rewards are the score on the last kept position and 0 elsewhere.
        e.rewards.forEach((r, t) =>
          near(r, t === kept - 1 ? scores[b] : 0, 1e-12, `row ${b} reward ${t}`)
        );
      });

      trainer.finishCollection();
      const records = await trainer.learn(100);
      assert.equal(records.length, 2, "ppo_epochs 2 × one minibatch of 4");
      // The first minibatch's policy is the sampling policy: ratio 1, no clipping, no KL.
      near(records[0].ratio, 1, tol, "ratio at the first update");
      near(records[0]["policy/approx_kl"], 0, tol, "approx_kl at the first update");
      assert.equal(records[0]["policy/clipfrac"], 0);
      assert.ok(records[1]["policy/approx_kl"] > 0, "the second pass sees the updated policy");
      assert.deepEqual(records.map((r) => r.step), [1, 2]);
      assert.equal(trainer.iterCount, 2);
      assert.equal(trainer.collections, 1);
    } finally {
      trainer.dispose();
      policy.dispose();
    }
  });

  Deno.test(`trlX causal PPO on a tiny GPT-2: log-probs as sampled, values unpadded, KL 0 at step 0, in slices of minibatch_size (${backend})`, async () => {
    const policy = await loadTrlxPolicy(GPT2, "causal", { backend, seed: 1 });
    policy.eval();
    // minibatch_size 2: the chunk's forwards and each step's loss run in two slices of 2 rows.
    const cfg = config("causal", -1, 2);
    const eos = (policy.base as CausalLM).eosTokenId ?? 0;
    const trainer = new TrlxPpoTrainer(policy, cfg, eos, "left");
    try {
      const prompts = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [14]];
      const gen = await policy.generate(prompts, {
        maxNewTokens: 5,
        doSample: true,
        generator: new Generator(9),
        eosTokenId: eos,
      });
      const stats = await trainer.addChunk(prompts, gen.tokens, [1, 0, -1, 2]);
      assert.equal(stats["policy/sqrt_kl"], 0, "KL at step 0");
      trainer.store.forEach((e, b) => {
        const out = gen.tokens[b].filter((t) => t !== eos);
        // Position 0 is the prompt's last token predicting the first output token.
        out.forEach((_, t) =>
          near(e.logprobs[t], gen.logProbs[b][t], sampledTol, `row ${b} sampled log-prob ${t}`)
        );
        out.forEach((token, t) => {
          const own = atPrefix(policy, prompts[b], out.slice(0, t), token);
          near(e.values[t], own.value, tol, `row ${b} value ${t}`);
          near(e.logprobs[t], own.logprob, tol, `row ${b} log-prob ${t}`);
        });
      });
      trainer.finishCollection();
      const records = await trainer.learn(100);
      near(records[0].ratio, 1, tol, "ratio at the first update");
    } finally {
      trainer.dispose();
      policy.dispose();
    }
  });
}

Deno.test("trlX num_layers_unfrozen freezes what trlX freezes (GPT-2 and T5)", async () => {
  const names = (p: TrlxPolicy) =>
    p.namedParameters().filter(([, t]) => t.requiresGrad).map(([n]) => n);
  const gpt2 = await loadTrlxPolicy(GPT2, "causal");
  const nBlocks = new Set(
    gpt2.namedParameters().map(([n]) => /^transformer\.h\.(\d+)\./.exec(n)?.[1]).filter(Boolean),
  ).size;
  freezeTrlxLayers(gpt2, 1);
  const top = `transformer.h.${nBlocks - 1}.`;
  for (const n of names(gpt2)) {
    assert.ok(
      n.startsWith(top) || n.startsWith("transformer.ln_f.") || n.startsWith("transformer.wpe.") ||
        n.startsWith("v_head."),
      `GPT-2 N=1: ${n} should be frozen`,
    );
  }
  assert.ok(names(gpt2).some((n) => n.startsWith(top)));
  assert.ok(!names(gpt2).includes("transformer.wte.weight"), "the tied embedding is frozen");
  gpt2.dispose();

  const t5 = await loadTrlxPolicy(T5, "seq2seq");
  freezeTrlxLayers(t5, -2 + 1); // -1: nothing frozen
  assert.equal(names(t5).length, t5.parameters().length);
  t5.dispose();
  const t5b = await loadTrlxPolicy(T5, "seq2seq");
  freezeTrlxLayers(t5b, 1); // the last decoder block (of 2), the head and v_head train
  for (const n of names(t5b)) {
    assert.ok(
      n.startsWith("decoder.block.1.") || n.startsWith("lm_head.") || n.startsWith("v_head."),
      `T5 N=1: ${n} should be frozen`,
    );
  }
  t5b.dispose();
  const t5c = await loadTrlxPolicy(T5, "seq2seq");
  freezeTrlxLayers(t5c, -2); // the tutorial's value: block[:2] of 2 decoder blocks → all frozen
  assert.deepEqual(names(t5c).filter((n) => !n.startsWith("v_head.")), ["lm_head.weight"]);
  t5c.dispose();
});

Deno.test("trlX reference with frozen layers: only the trained top is copied, and it stays the initial model", async () => {
  const policy = await loadTrlxPolicy(GPT2, "causal", { backend: "cpu", seed: 1 });
  policy.eval();
  freezeTrlxLayers(policy, 1);
  const fresh = await loadTrlxPolicy(GPT2, "causal", { backend: "cpu", seed: 1 });
  fresh.eval();
  const eos = (policy.base as CausalLM).eosTokenId ?? 0;
  const trainer = new TrlxPpoTrainer(policy, config("causal", 1), eos, "left");
  try {
    const prompts = [[5, 6, 7], [8, 9, 3], [10, 11, 12], [14, 2, 4]];
    for (let round = 0; round < 2; round++) {
      const gen = await policy.generate(prompts, {
        maxNewTokens: 4,
        doSample: true,
        generator: new Generator(round),
        eosTokenId: null,
      });
      await trainer.addChunk(prompts, gen.tokens, [3, -3, 3, -3]);
      const stats = trainer.finishCollection();
      if (round === 1) assert.ok(stats["policy/sqrt_kl"] > 0, "the policy moved away");
      await trainer.learn(100);
    }
    // Teacher-forced log-probs of a fixed sequence: reference vs a freshly loaded model.
    const ids = [[5, 6, 7, 8, 9, 10]];
    const lp = (m: TrlxPolicy) =>
      tidy(() => {
        const inputIds = tensor(ids.flat(), [1, 6], { backend: "cpu" });
        const { logits } = m.forward({
          inputIds,
          attentionMask: tensor([1, 1, 1, 1, 1, 1], [1, 6]),
        });
        return tokenLogProbs(logits, inputIds).toFloat64ArraySync();
      });
    const reference = trainer.reference.run((m) => lp(m));
    const initial = lp(fresh);
    const now = lp(policy);
    reference.forEach((v, i) => near(v, initial[i], 1e-6, `reference log-prob ${i}`));
    assert.ok(now.some((v, i) => Math.abs(v - initial[i]) > 1e-4), "the policy did change");
  } finally {
    trainer.dispose();
    policy.dispose();
    fresh.dispose();
  }
});
