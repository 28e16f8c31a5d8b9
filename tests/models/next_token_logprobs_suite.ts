/**
 * `nextTokenLogProbs` on the tiny GPT-2 reference checkpoint, per backend: the fused path
 * (hidden states + chunked LM head) reproduces transformers' token log-probs, and equals the
 * logits path within 1e-5 in values, entropies, values of the value head and LoRA gradients.
 */

import assert from "node:assert/strict";
import { Generator, mul, nn, sum, tensor, tidy } from "../../core/mod.ts";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { applyLora } from "../../models/lora.ts";
import { CausalLMWithValueHead } from "../../models/with_value_head.ts";
import { nextTokenLogProbs, type ScoredModel } from "../../models/next_token_logprobs.ts";
import { expectedOf, fixtureDir } from "./causal_reference.ts";
import { expected, loadGpt2A } from "./gpt2_fixture.ts";
import { scaledError } from "../core/lm_head_suite.ts";

const TOL = 1e-4;
const FUSED = 1e-5;

/** The same model scored through its logits (no `outputEmbeddings`). */
function viaLogits(model: ScoredModel): ScoredModel {
  return { forward: (input) => model.forward(input) };
}

/** Registers the tests for `backend` through `define` (Deno.test or gpuTest). */
export function defineNextTokenSuite(
  backend: string,
  define: (name: string, fn: () => Promise<void>) => void,
): void {
  define(`nextTokenLogProbs[${backend}]: transformers' token log-probs on gpt2-a`, async () => {
    const model = await loadGpt2A(backend);
    const ids = expected.input_ids_right, mask = expected.attention_mask_right;
    const [b, t] = [ids.length, ids[0].length];
    const x = tensor(ids, undefined, { backend }), m = tensor(mask, undefined, { backend });
    const got = await tidy(() => nextTokenLogProbs(model, x, m, { chunkRows: 5 }).logprobs)
      .toArray();
    let compared = 0;
    for (let r = 0; r < b; r++) {
      for (let c = 0; c < t - 1; c++) {
        if (mask[r][c + 1] !== 1) continue;
        const want = expected.token_logprobs_right[r][c];
        const err = Math.abs(got[r * (t - 1) + c] - want);
        assert.ok(err <= TOL, `log-prob [${r},${c}]: got ${got[r * (t - 1) + c]}, want ${want}`);
        compared++;
      }
    }
    assert.equal(compared, 8 + 5 + 2);
    x.dispose();
    m.dispose();
    model.dispose();
  });

  define(
    `nextTokenLogProbs[${backend}]: fused = logits path (LoRA + value head, temperature)`,
    async () => {
      const model = new CausalLMWithValueHead(await loadGpt2A(backend), {
        dropout: 0,
        generator: new Generator(3),
      });
      const lora = applyLora(model, { r: 4, alpha: 8, targetModules: ["c_attn", "c_fc"] }, {
        generator: new Generator(4),
      });
      // Non-zero B so the adapters change the logits and A receives a gradient.
      for (const [name, p] of lora.namedParameters()) {
        if (!name.endsWith("lora_B.weight")) continue;
        using v = tensor(new Generator(p.size).normal(p.size, 0, 0.2), p.shape, { backend });
        nn.assign(p, v, name);
      }
      const ids = expected.input_ids_right, mask = expected.attention_mask_right;
      const x = tensor(ids, undefined, { backend }), m = tensor(mask, undefined, { backend });
      const seed = tensor(new Generator(9).normal(3 * (ids[0].length - 1), 0, 1), [
        3,
        ids[0].length - 1,
      ], { backend });
      const run = async (scored: ScoredModel) => {
        for (const p of model.parameters()) p.zeroGrad();
        const r = tidy(() => {
          const o = nextTokenLogProbs(scored, x, m, {
            temperature: 0.7,
            entropy: true,
            chunkRows: 4,
          });
          sum(mul(o.logprobs, seed)).backward();
          sum(o.values!).backward();
          return o;
        });
        const grads: Float32Array[] = [];
        for (const p of model.parameters()) if (p.requiresGrad) grads.push(await p.grad!.toArray());
        const out = {
          logprobs: await r.logprobs.toArray(),
          entropy: await r.entropy!.toArray(),
          values: await r.values!.toArray(),
          grads,
        };
        for (const t of [r.logprobs, r.entropy!, r.values!]) t.dispose();
        return out;
      };
      const fused = await run(model), unfused = await run(viaLogits(model));
      for (const k of ["logprobs", "entropy", "values"] as const) {
        const err = scaledError(fused[k], unfused[k]);
        assert.ok(err <= FUSED, `${k}: ${err.toExponential(2)}`);
      }
      assert.equal(fused.grads.length, unfused.grads.length);
      assert.ok(fused.grads.length >= 4);
      fused.grads.forEach((g, i) => {
        const err = scaledError(g, unfused.grads[i]);
        assert.ok(err <= FUSED, `gradient ${i}: ${err.toExponential(2)}`);
      });
      for (const t of [x, m, seed]) t.dispose();
      model.dispose();
    },
  );

  for (const name of ["llama-a", "qwen2-a", "opt-a"]) {
    define(
      `nextTokenLogProbs[${backend}]: ${name} takes the fused path, equal to the logits path`,
      async () => {
        const model = await loadCausalLM(fixtureDir(name), { backend, log: () => {} });
        assert.ok(model.outputEmbeddings?.(), `${name} exposes its LM head`);
        const e = await expectedOf(name);
        const ids = e.input_ids_right, mask = e.attention_mask_right;
        const [b, t] = [ids.length, ids[0].length];
        const x = tensor(ids, undefined, { backend }), m = tensor(mask, undefined, { backend });
        const seed = tensor(new Generator(5).normal(b * (t - 1), 0, 1), [b, t - 1], { backend });
        const run = async (scored: ScoredModel) => {
          model.zeroGrad();
          const lp = tidy(() => {
            const o = nextTokenLogProbs(scored, x, m, { chunkRows: 3 });
            sum(mul(o.logprobs, seed)).backward();
            return o.logprobs;
          });
          const grads: Float32Array[] = [];
          for (const p of model.parameters()) if (p.grad) grads.push(await p.grad.toArray());
          const logprobs = await lp.toArray();
          lp.dispose();
          return { logprobs, grads };
        };
        model.train(false);
        for (const p of model.parameters()) p.requiresGrad = true;
        const fused = await run(model), unfused = await run(viaLogits(model));
        for (let r = 0; r < b; r++) {
          for (let c = 0; c < t - 1; c++) {
            if (mask[r][c + 1] !== 1) continue;
            const want = e.token_logprobs_right[r][c], got = fused.logprobs[r * (t - 1) + c];
            assert.ok(Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want)), `[${r},${c}]`);
          }
        }
        assert.ok(scaledError(fused.logprobs, unfused.logprobs) <= FUSED, "log-probs");
        assert.equal(fused.grads.length, model.parameters().length);
        // The key projection's bias has a zero gradient in exact arithmetic (softmax ignores a
        // shift shared by all keys): both paths give rounding noise there, compared on the scale
        // of the model's largest gradient; every other gradient on its own scale.
        const names = model.namedParameters().map(([n]) => n);
        let largest = 0;
        for (const g of unfused.grads) for (const v of g) largest = Math.max(largest, Math.abs(v));
        fused.grads.forEach((g, i) => {
          const want = unfused.grads[i];
          let worst = 0, scale = names[i].endsWith("k_proj.bias") ? largest : 0;
          want.forEach((v, j) => {
            worst = Math.max(worst, Math.abs(g[j] - v));
            scale = Math.max(scale, Math.abs(v));
          });
          const err = worst / scale;
          assert.ok(err <= FUSED, `${name} gradient ${i}: ${err.toExponential(2)}`);
        });
        for (const t of [x, m, seed]) t.dispose();
        model.dispose();
      },
    );
  }

  define(
    `nextTokenLogProbs[${backend}]: labels with ignored positions and argmax, fused = logits path`,
    async () => {
      const model = await loadGpt2A(backend);
      for (const p of model.parameters()) p.requiresGrad = true;
      const ids = expected.input_ids_right, mask = expected.attention_mask_right;
      const [b, t] = [ids.length, ids[0].length];
      // The prompt (first two tokens) and the padding are ignored, as SFT and DPO label them.
      const labels = ids.map((row, r) => row.map((v, c) => (c < 2 || mask[r][c] === 0 ? -100 : v)));
      const x = tensor(ids, undefined, { backend }), m = tensor(mask, undefined, { backend });
      const y = tensor(labels, undefined, { backend });
      const seed = tensor(new Generator(8).normal(b * (t - 1), 0, 1), [b, t - 1], { backend });
      const run = async (scored: ScoredModel) => {
        model.zeroGrad();
        const o = tidy(() => {
          const r = nextTokenLogProbs(scored, x, m, {
            labels: y,
            ignoreIndex: -100,
            argmax: true,
            chunkRows: 4,
          });
          sum(mul(r.logprobs, seed)).backward();
          return r;
        });
        const grads: Float32Array[] = [];
        for (const p of model.parameters()) if (p.grad) grads.push(await p.grad.toArray());
        const out = {
          logprobs: await o.logprobs.toArray(),
          argmax: await o.argmax!.toArray(),
          grads,
        };
        for (const tt of [o.logprobs, o.argmax!]) tt.dispose();
        return out;
      };
      const fused = await run(model), unfused = await run(viaLogits(model));
      let ignored = 0;
      labels.forEach((row, r) =>
        row.slice(1).forEach((v, c) => {
          if (v !== -100) return;
          ignored++;
          assert.ok(fused.logprobs[r * (t - 1) + c] === 0, `ignored [${r},${c}] scores 0`);
          assert.ok(unfused.logprobs[r * (t - 1) + c] === 0, `ignored [${r},${c}] scores 0`);
        })
      );
      assert.ok(ignored >= 4, `${ignored} ignored positions`);
      assert.ok(scaledError(fused.logprobs, unfused.logprobs) <= FUSED, "log-probs");
      assert.deepEqual(fused.argmax, unfused.argmax);
      assert.equal(fused.grads.length, unfused.grads.length);
      fused.grads.forEach((g, i) => {
        const err = scaledError(g, unfused.grads[i]);
        assert.ok(err <= FUSED, `gradient ${i}: ${err.toExponential(2)}`);
      });
      for (const tt of [x, m, y, seed]) tt.dispose();
      model.dispose();
    },
  );
}
