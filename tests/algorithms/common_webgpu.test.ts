// The trainers on WebGPU (skipped without an adapter): a few steps of each match the same steps
// on the CPU backend, and a NaN loss is caught from the step's single readback.

import assert from "node:assert/strict";
import { NonFiniteLossError } from "../../algorithms/common/mod.ts";
import { DPOTrainer } from "../../algorithms/dpo/mod.ts";
import { SFTTrainer } from "../../algorithms/sft/mod.ts";
import { div, Generator, mul, nn, optim, sum, type Tensor, unsqueeze } from "../../core/mod.ts";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../../data/mod.ts";
import { RewardTrainer, tokenizeRewardPairs } from "../../reward/mod.ts";
import { gpuTest } from "../webgpu/setup.ts";
import { BigramLM } from "./tiny_lms.ts";

const tokenizer = new SyntheticWordTokenizer();
const V = tokenizer.vocabSize;

class BagOfEmbeddings extends nn.Module {
  readonly emb: nn.Embedding;
  readonly head: nn.Linear;
  constructor(backend: string) {
    super();
    const g = new Generator(4);
    this.emb = this.registerModule("emb", new nn.Embedding(V, 8, { generator: g, backend }));
    this.head = this.registerModule("head", new nn.Linear(8, 1, { generator: g, backend }));
  }
  forward(inputs: { inputIds: Tensor; attentionMask: Tensor }): { logits: Tensor } {
    const mask = unsqueeze(inputs.attentionMask, -1);
    const pooled = div(
      sum(mul(this.emb.forward(inputs.inputIds), mask), { axis: 1 }),
      sum(mask, { axis: 1 }),
    );
    return { logits: this.head.forward(pooled) };
  }
}

const reviews = generateSyntheticReviews(48, { seed: 1 }).toArray();
const pos = reviews.filter((r) => r.label === 1), neg = reviews.filter((r) => r.label === 0);
const n = Math.min(pos.length, neg.length, 12);
const textPairs = Array.from(
  { length: n },
  (_, i) => ({ chosen: pos[i].text, rejected: neg[i].text }),
);
const rewardPairs = tokenizeRewardPairs(textPairs, tokenizer, { appendEos: true });
const triples = textPairs.map((p) => ({
  prompt: [tokenizer.bosTokenId],
  chosen: tokenizer.encode(p.chosen, { addEos: true }),
  rejected: tokenizer.encode(p.rejected, { addEos: true }),
}));
const texts = reviews.slice(0, 16).map((r) => ({
  inputIds: tokenizer.encode(r.text, { addEos: true }),
}));
const ARGS = { learningRate: 0.01, batchSize: 4, maxSteps: 3, seed: 1 };

async function weights(m: nn.Module): Promise<number[]> {
  const out: number[] = [];
  for (const p of m.parameters()) out.push(...await p.toArray());
  return out;
}

async function assertClose(gpuModel: nn.Module, cpuModel: nn.Module, what: string) {
  const a = await weights(gpuModel), b = await weights(cpuModel);
  const d = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  assert.ok(d < 1e-4, `${what}: WebGPU and CPU weights differ by ${d}`);
}

gpuTest(
  "RewardTrainer, SFTTrainer and DPOTrainer steps on WebGPU match the CPU backend",
  async () => {
    // SGD, not Adam: Adam turns float noise in near-zero gradients into steps of size lr.
    const sgd = (m: nn.Module) => ({ optimizer: new optim.SGD(m.parameters(), { lr: 0.5 }) });
    const run = async (backend: string) => {
      const reward = new BagOfEmbeddings(backend);
      const r = await new RewardTrainer(ARGS, {
        model: reward,
        trainDataset: rewardPairs,
        ...sgd(reward),
      })
        .train();
      const lm = new BigramLM(3, backend, 8);
      const s = await new SFTTrainer({ ...ARGS, packing: true, maxLength: 16 }, {
        model: lm,
        trainDataset: texts,
        ...sgd(lm),
      }).train();
      const policy = new BigramLM(3, backend, 8);
      const d = await new DPOTrainer(ARGS, {
        model: policy,
        refModel: new BigramLM(3, backend, 8),
        trainDataset: triples,
        ...sgd(policy),
      }).train();
      return { reward, lm, policy, losses: [r.trainingLoss, s.trainingLoss, d.trainingLoss] };
    };
    const gpu = await run("webgpu"), cpu = await run("cpu");
    gpu.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - cpu.losses[i]) < 1e-4, `${l} vs ${cpu.losses[i]}`)
    );
    await assertClose(gpu.reward, cpu.reward, "reward model");
    await assertClose(gpu.lm, cpu.lm, "SFT model");
    await assertClose(gpu.policy, cpu.policy, "DPO policy");
  },
);

gpuTest("a NaN loss on WebGPU stops training with NonFiniteLossError", async () => {
  const model = new BagOfEmbeddings("webgpu");
  const trainer = new RewardTrainer(ARGS, { model, trainDataset: rewardPairs });
  // Weights poisoned with NaN make the first loss NaN.
  const w = model.head.weight;
  w.backend.write(w.storage.handle, new Float32Array(w.size).fill(NaN), w.offset);
  const error = await trainer.train().then(() => null, (e) => e);
  assert.ok(error instanceof NonFiniteLossError, String(error));
  assert.equal(error.step, 1);
  assert.equal(trainer.globalStep, 0);
  // The loss is seen in the step's readback, after the update: the error says so.
  assert.equal(error.afterUpdate, true);
  assert.match(error.message, /already hold this step's update, so reload the last checkpoint/);
});
