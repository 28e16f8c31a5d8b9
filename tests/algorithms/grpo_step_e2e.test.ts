// A whole GRPO step on a tiny model against an independent float64 computation of the same
// step: a bigram language model (logits of the next token = a row of W), two prompts × three
// completions of different lengths (one truncated, masked out), two reward functions with a
// null, β = 0.1 with a separate reference, temperature 0.8, two iterations over the round
// (ratios leave 1 in the second, some clipped), plain SGD so each update is −η·gradient. The
// reference computes advantages, log-probs, ratios, the clipped loss and its aggregation with
// plain numbers, and gradients by central differences.

import assert from "node:assert/strict";
import { embedding, optim, type Tensor, tensor } from "../../core/mod.ts";
import { type GrpoLossType, GRPOTrainer } from "../../algorithms/grpo/mod.ts";

const V = 5, EOS = 4, TEMP = 0.8, ETA = 3, BETA = 0.1;
const EPS_LOW = 0.2, EPS_HIGH = 0.28;

class Bigram {
  readonly W: Tensor;
  constructor(values: number[][]) {
    this.W = tensor(values, undefined, { backend: "cpu64" });
    this.W.requiresGrad = true;
    this.W.kept = true;
  }
  parameters(): Tensor[] {
    return [this.W];
  }
  forward({ inputIds }: { inputIds: Tensor; attentionMask: Tensor }) {
    return { logits: embedding(this.W, inputIds) };
  }
}

const W0 = Array.from(
  { length: V },
  (_, i) => Array.from({ length: V }, (_, j) => Math.sin(1.7 * i + 0.9 * j) * 0.8),
);
const R = W0.map((row, i) => row.map((v, j) => v + 0.3 * Math.cos(i - 2 * j)));
const PROMPTS = [[1, 2], [3]];
const COMPLETIONS = [[0, 3, 4], [2, EOS], [1, 1, 0, 2], [0, EOS], [4], [2, 2, 3, EOS]];
// Completion 2 ends without EOS: truncated, left out of the loss.
const REWARDS: (number | null)[][] = [[1, 0.5, null, 2, -1, 0.5], [0.2, null, 1, 0, 0.4, null]];
const WEIGHTS = [1, 0.5];
const G = 3;
const rows = COMPLETIONS.map((c, i) => ({ prompt: PROMPTS[Math.floor(i / G)], completion: c }));

// ---- the independent computation -----------------------------------------------------------

function logSoftmaxRow(w: number[], v: number): number {
  const z = w.map((x) => x / TEMP), m = Math.max(...z);
  return z[v] - (m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0)));
}

/** log p of each completion token of each row under table `w`. */
function tokenLogps(w: number[][]): number[][] {
  return rows.map(({ prompt, completion }) => {
    const ids = [...prompt, ...completion];
    return completion.map((_, k) => {
      const t = prompt.length - 1 + k;
      return logSoftmaxRow(w[ids[t]], ids[t + 1]);
    });
  });
}

function advantages(): number[] {
  const r = REWARDS[0].map((_, i) => {
    let s = 0, any = false;
    REWARDS.forEach((f, k) => {
      if (f[i] !== null) {
        s += WEIGHTS[k] * f[i]!;
        any = true;
      }
    });
    return any ? s : NaN;
  });
  return r.map((x, i) => {
    const g = r.slice(i - (i % G), i - (i % G) + G).filter((v) => !Number.isNaN(v));
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    const sd = Math.sqrt(g.reduce((a, b) => a + (b - m) ** 2, 0) / (g.length - 1));
    return (x - m) / (sd + 1e-4);
  });
}

const ADV = advantages();
const MASKED = COMPLETIONS.map((c) => c[c.length - 1] !== EOS);
const REF = tokenLogps(R);

interface Pass {
  loss: number;
  kl: number;
  lowClip: number;
  highClip: number;
}

function pass(w: number[][], old: number[][], lossType: GrpoLossType): Pass {
  const lp = tokenLogps(w);
  let total = 0, count = 0, perRowMean = 0, kl = 0, low = 0, high = 0;
  lp.forEach((row, b) => {
    if (MASKED[b]) return;
    let s = 0;
    row.forEach((l, k) => {
      const ratio = Math.exp(l - old[b][k]);
      const clipped = Math.min(Math.max(ratio, 1 - EPS_LOW), 1 + EPS_HIGH);
      const r = REF[b][k] - l, k3 = Math.exp(r) - r - 1;
      s += -Math.min(ratio * ADV[b], clipped * ADV[b]) + BETA * k3;
      kl += k3;
      low += ratio < 1 - EPS_LOW && ADV[b] < 0 ? 1 : 0;
      high += ratio > 1 + EPS_HIGH && ADV[b] > 0 ? 1 : 0;
    });
    total += s, count += row.length, perRowMean += s / row.length;
  });
  const loss = lossType === "grpo" ? perRowMean / rows.length : total / count;
  return { loss, kl: kl / count, lowClip: low / count, highClip: high / count };
}

function gradient(w: number[][], old: number[][], lossType: GrpoLossType): number[][] {
  const h = 1e-5;
  return w.map((row, i) =>
    row.map((_, j) => {
      const at = (d: number) => {
        const x = w.map((r) => [...r]);
        x[i][j] += d;
        return pass(x, old, lossType).loss;
      };
      return (at(h) - at(-h)) / (2 * h);
    })
  );
}

const sgd = (w: number[][], g: number[][]) => w.map((r, i) => r.map((v, j) => v - ETA * g[i][j]));

// ---- the trainer ------------------------------------------------------------------------------

function trainer(numIterations: number, lossType: GrpoLossType) {
  const model = new Bigram(W0), ref = new Bigram(R);
  const t = new GRPOTrainer({
    batchSize: 6,
    numGenerations: G,
    numIterations,
    beta: BETA,
    epsilon: EPS_LOW,
    epsilonHigh: EPS_HIGH,
    temperature: TEMP,
    lossType,
    rewardWeights: WEIGHTS,
    maskTruncatedCompletions: true,
    maxGradNorm: null,
    lrSchedulerType: "constant",
    maxSteps: 1,
  }, {
    model,
    refModel: ref,
    tokenizer: { decode: (ids) => ids.join(" "), eosTokenId: EOS, padTokenId: 0 },
    rewardFuncs: [{ name: "a", fn: () => [] }, { name: "b", fn: () => [] }],
    trainDataset: PROMPTS,
    optimizer: new optim.SGD([model.W], { lr: ETA }) as unknown as optim.Optimizer<
      optim.Hyperparams
    >,
  });
  return { t, model };
}

const table = (w: Tensor) => {
  const v = w.toFloat64ArraySync();
  return Array.from({ length: V }, (_, i) => Array.from(v.subarray(i * V, (i + 1) * V)));
};

function assertClose(got: number[][], want: number[][], tol: number, what: string) {
  got.forEach((row, i) =>
    row.forEach((g, j) =>
      assert.ok(Math.abs(g - want[i][j]) <= tol, `${what}[${i}][${j}]: ${g} vs ${want[i][j]}`)
    )
  );
}

const promptRows = rows.map((r) => r.prompt);

Deno.test("GRPO step, one iteration: the gradient of every weight matches float64 finite differences", async () => {
  const { t, model } = trainer(1, "grpo");
  const stats = await t.step(promptRows, COMPLETIONS, REWARDS);
  const old = tokenLogps(W0);
  const g = gradient(W0, old, "grpo");
  // SGD: W1 = W0 − η·∇L, so the gradient the trainer used is (W0 − W1)/η.
  const used = table(model.W).map((r, i) => r.map((v, j) => (W0[i][j] - v) / ETA));
  assertClose(used, g, 1e-8, "gradient");
  // The weight with the largest gradient, on its own.
  const [i, j] = [2, 0];
  assert.ok(Math.abs(g[i][j]) > 0.05, `W[${i}][${j}]'s gradient ${g[i][j]} is too small to tell`);
  assert.ok(Math.abs(used[i][j] - g[i][j]) < 1e-8, `W[${i}][${j}]: ${used[i][j]} vs ${g[i][j]}`);
  const p = pass(W0, old, "grpo");
  assert.ok(Math.abs(stats.loss - p.loss) < 1e-6, `loss ${stats.loss} vs ${p.loss}`);
  assert.ok(Math.abs(stats.kl - p.kl) < 1e-6, `kl ${stats.kl} vs ${p.kl}`);
  assert.equal(stats["completions/clipped_ratio"], 1 / 6);
  t.dispose();
});

for (const lossType of ["grpo", "dapo"] as const) {
  Deno.test(`GRPO step, two iterations (${lossType}): ratios leave 1, clip, and land where float64 does`, async () => {
    const { t, model } = trainer(2, lossType);
    const stats = await t.step(promptRows, COMPLETIONS, REWARDS);
    const old = tokenLogps(W0);
    const w1 = sgd(W0, gradient(W0, old, lossType));
    const w2 = sgd(w1, gradient(w1, old, lossType));
    assertClose(table(model.W), w2, 1e-8, "weights after two passes");
    const first = pass(W0, old, lossType), second = pass(w1, old, lossType);
    assert.ok(second.lowClip + second.highClip > 0, "the second pass clips some ratios");
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
    near(stats.loss, (first.loss + second.loss) / 2, "loss");
    near(stats.kl, (first.kl + second.kl) / 2, "kl");
    near(stats["clip_ratio/low_mean"], (first.lowClip + second.lowClip) / 2, "low clip");
    near(stats["clip_ratio/high_mean"], (first.highClip + second.highClip) / 2, "high clip");
    t.dispose();
  });
}
