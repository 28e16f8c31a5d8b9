// The tiny model of TRL's recorded ppo_step_e2e runs, built from core ops, and the fixture.

import {
  add,
  concat,
  embedding,
  matmul,
  mul,
  reshape,
  slice,
  tanh,
  type Tensor,
  tensor,
  zeros,
} from "../../core/mod.ts";

/** The recorded TRL 0.7.4 PPO runs (model, parameters, permutations, results). */
export const e2e = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/trl/ppo_step_e2e.json", import.meta.url)),
);

/** h_t = tanh(E[x_t] + 0.5·E[x_{t−1}]) (no previous term at t = 0); logits = hW + b; v = h·u + c. */
export class TinyLMWithValueHead {
  readonly params: Record<string, Tensor>;
  constructor(init: Record<string, unknown>, readonly backend: string) {
    this.params = {};
    for (const [k, v] of Object.entries(init)) {
      const t = typeof v === "number"
        ? tensor([v], [1], { backend })
        : tensor(v as number[], undefined, { backend });
      t.requiresGrad = true;
      t.kept = true;
      this.params[k] = t;
    }
  }
  parameters(): Tensor[] {
    return ["E", "W", "b", "u", "c"].map((k) => this.params[k]);
  }
  forward({ inputIds }: { inputIds: Tensor; attentionMask: Tensor }) {
    const { E, W, b, u, c } = this.params;
    const [B, L] = inputIds.shape;
    const H = E.shape[1];
    const emb = embedding(E, inputIds);
    const prev = concat([
      zeros([B, 1, H], { backend: this.backend }),
      slice(emb, [0, 0, 0], [B, L - 1, H]),
    ], 1);
    const h = tanh(add(emb, mul(prev, 0.5)));
    const logits = add(matmul(h, W), b);
    const values = add(reshape(matmul(h, reshape(u, [H, 1])), [B, L]), c);
    return { logits, values };
  }
}

/** TRL's snake_case config overrides as our camelCase PPOConfig fields. */
export const configOf = (o: Record<string, unknown>): Record<string, unknown> => {
  const camel: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    camel[k.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase())] = v;
  }
  return camel;
};
