/**
 * One unit of work of each RLHF algorithm on the same tiny model: the tiny-imdb policy
 * (`examples/assets/tiny-imdb/policy`: GPT-2, 4 layers, 64 wide, 169-word vocabulary) on the f32
 * `cpu` backend, full fine-tune, scored by the tiny-imdb reward model (DistilBERT, 2 layers).
 * Every sample has exactly 16 new tokens (EOS does not stop it), so the work per iteration is
 * fixed and stated in each name. Baseline: the PPO step with generation excluded, so `deno bench`
 * prints every other unit as a multiple of it.
 *
 * - PPO step, generate excluded: `PPOTrainer.step` on 16 pre-sampled (query, 16-token response,
 *   score) rows: policy + value head and reference forwards, 4 PPO epochs of one 16-row
 *   minibatch (TRL's tutorial: batch = minibatch), Adam.
 * - PPO rollout + step: the same step plus sampling the 16 responses and scoring them.
 * - DPO step: 8 SYNTHETIC preference pairs (16 sequences): policy forward + backward, reference
 *   forward, AdamW.
 * - ReST round: Grow (2 prompts × K = 8: 16 rows × 16 new tokens, scored) and one Improve step
 *   (the top 30% per prompt, one SFT epoch: one step on ~6 rows).
 * - best-of-n: 4 prompts × n = 16 (64 rows × 16 new tokens, 64 scores), best kept.
 *
 *   deno bench -A bench/algorithms.bench.ts
 */

import { Generator } from "../core/mod.ts";
import { AdamW } from "../core/optim/mod.ts";
import { PPOTrainer } from "../algorithms/ppo/mod.ts";
import { DPOTrainer } from "../algorithms/dpo/mod.ts";
import { ReST } from "../algorithms/rest/mod.ts";
import { bestOfN } from "../algorithms/best_of_n/mod.ts";
import { scoreTexts } from "../reward/mod.ts";
import { loadTinyTask } from "../examples/compare/task.ts";

const GROUP = "algorithms (tiny-imdb policy, cpu)";
const NEW_TOKENS = 16;
const ROWS = 16;

const task = await loadTinyTask({ backend: "cpu", seed: 0 });
const prompts = task.trainPrompts;
const queries = prompts.slice(0, ROWS).map((p) => task.encodePrompt(p));
const sampling = { doSample: true, maxNewTokens: NEW_TOKENS, eosTokenId: null };
const scoreRows = (q: number[][], r: number[][]) =>
  scoreTexts(task.reward, q.map((row, i) => task.text(row, r[i])));

// PPO: a policy with a fresh value head; the responses of the generate-excluded step are sampled once.
const ppoPolicy = await task.loadPolicy({ valueHead: true, seed: 0 });
const pad = ppoPolicy.padTokenId ?? ppoPolicy.eosTokenId ?? 0;
const ppo = new PPOTrainer(
  { batchSize: ROWS, miniBatchSize: ROWS, ppoEpochs: 4, learningRate: 1e-4, seed: 0 },
  { model: ppoPolicy, refModel: task.reference, padTokenId: pad, warn: () => {} },
);
const ppoGenerator = new Generator(1);
const fixedResponses = (await ppoPolicy.generate(queries, { ...sampling, generator: ppoGenerator }))
  .tokens;
const fixedScores = await scoreRows(queries, fixedResponses);

Deno.bench({
  name: `PPO step, generate excluded: ${ROWS} rows × ${NEW_TOKENS} new tokens, 4 epochs`,
  group: GROUP,
  baseline: true,
  n: 20,
  warmup: 3,
  async fn() {
    await ppo.step(queries, fixedResponses, fixedScores);
  },
});

Deno.bench({
  name: `PPO rollout + step: generate + score + step, ${ROWS} rows × ${NEW_TOKENS} new tokens`,
  group: GROUP,
  n: 20,
  warmup: 3,
  async fn() {
    ppoPolicy.eval();
    const { tokens } = await ppoPolicy.generate(queries, { ...sampling, generator: ppoGenerator });
    await ppo.step(queries, tokens, await scoreRows(queries, tokens));
  },
});

// DPO: one optimizer step per iteration; the optimizer (and its moments) persists across them.
const dpoPolicy = await task.loadPolicy({ seed: 0 });
const dpoOptimizer = new AdamW(dpoPolicy.parameters(), { lr: 1e-3 });
const pairs = task.pairs.slice(0, ROWS / 2);
const pairTokens = pairs.reduce(
  (s, p) => s + 2 * p.prompt.length + p.chosen.length + p.rejected.length,
  0,
);

Deno.bench({
  name: `DPO step: ${pairs.length} pairs (${ROWS} sequences, ${pairTokens} tokens)`,
  group: GROUP,
  n: 20,
  warmup: 3,
  async fn() {
    const trainer = new DPOTrainer({
      learningRate: 1e-3,
      batchSize: pairs.length,
      maxSteps: 1,
      lrSchedulerType: "constant",
    }, {
      model: dpoPolicy,
      refModel: task.reference,
      trainDataset: pairs,
      optimizer: dpoOptimizer,
      padTokenId: pad,
    });
    await trainer.train();
  },
});

// ReST: each iteration is a Grow step and its one Improve step, continuing from the last round.
const restPolicy = await task.loadPolicy({ seed: 0 });
const rest = new ReST({
  improveSteps: 1,
  samplesPerPrompt: 8,
  includeDataset: false,
  generation: { maxNewTokens: NEW_TOKENS, eosTokenId: null },
  sft: { learningRate: 2e-3, batchSize: 16, numTrainEpochs: 1 },
  seed: 0,
}, {
  model: restPolicy,
  tokenizer: {
    encode: (text) => task.encodePrompt(text),
    decode: (ids) => task.tokenizer.decode(ids, { skipSpecialTokens: true }),
    eosTokenId: task.tokenizer.eosTokenId,
    padTokenId: pad,
  },
  reward: task.reward,
  prompts: prompts.slice(0, 2),
});

Deno.bench({
  name:
    `ReST round: Grow 2 prompts × K=8 (${ROWS} rows × ${NEW_TOKENS} new tokens) + 1 Improve (SFT, 1 epoch)`,
  group: GROUP,
  n: 20,
  warmup: 3,
  async fn() {
    await rest.grow();
    await rest.improve();
  },
});

// Best-of-n samples from the untouched policy.
const bonQueries = prompts.slice(0, 4).map((p) => task.encodePrompt(p));
const bonGenerator = new Generator(2);

Deno.bench({
  name: `best-of-n: 4 prompts × n=16 (64 rows × ${NEW_TOKENS} new tokens, 64 scores)`,
  group: GROUP,
  n: 20,
  warmup: 3,
  async fn() {
    await bestOfN(bonQueries, {
      generate: async (rows, maxNewTokens) => {
        const { tokens } = await task.reference.generate(rows, {
          ...sampling,
          maxNewTokens,
          generator: bonGenerator,
        });
        return rows.map((row, i) => [...row, ...tokens[i]]);
      },
      decode: (ids) => task.tokenizer.decode(ids, { skipSpecialTokens: true }),
      reward: task.reward,
      sampleSize: 16,
      maxNewTokens: NEW_TOKENS,
    });
  },
});
