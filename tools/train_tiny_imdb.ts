/**
 * Trains the two tiny checkpoints of the IMDB tutorial's offline preset, on the SYNTHETIC review
 * corpus (data/synthetic; not IMDB), deterministically on the CPU backend:
 *
 * - `policy/`: a 4-layer, 64-wide GPT-2 on the synthetic word vocabulary, trained as a causal
 *   LM on mixed positive and negative reviews (`<|endoftext|>` before and after each);
 * - `reward/`: a 2-layer, 64-wide DistilBERT with one output, trained with `RewardTrainer`
 *   (Bradley–Terry) on positive-over-negative pairs, half of them cut to short prefixes.
 *
 *   deno run -A tools/train_tiny_imdb.ts [--out examples/assets/tiny-imdb] [--policy-steps 1500]
 *     [--reward-steps 400]
 *
 * Writes both folders (each file atomically) and a README.md with the measured numbers.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Generator } from "../core/mod.ts";
import { generateSyntheticReviews, SyntheticWordTokenizer } from "../data/mod.ts";
import { GPT2LMHeadModel, saveTokenizer } from "../models/mod.ts";
import { writeTextFileAtomic } from "../models/io/atomic.ts";
import { SFTTrainer } from "../algorithms/sft/mod.ts";
import {
  createRewardModel,
  evaluateRewardModel,
  saveRewardModel,
  syntheticReviewPairs,
  TINY_PAIR_SEEDS,
  tinyRewardConfig,
  tinyRewardPairs,
  trainRewardModel,
} from "../examples/imdb/reward_model.ts";
import { policyTokenizerFiles, TINY_MAX_LENGTH } from "../examples/imdb/synthetic_tokenizers.ts";
import { textPolarity } from "../examples/imdb/synthetic_sentiment.ts";

const BACKEND = "cpu";
const DEFAULT_OUT = fileURLToPath(new URL("../examples/assets/tiny-imdb", import.meta.url));

/** Seeds of everything the policy run draws. */
const POLICY_SEEDS = { weights: 0, corpus: 7, heldOut: 8, order: 0, samples: 1 } as const;
const POLICY_REVIEWS = 24_000;

/** A prompt that says nothing about the review's side: the next word decides it. */
export const NEUTRAL_PROMPT = "the acting was";

/** The tiny policy's `config.json` fields (GPT-2 defaults fill the rest). */
export function tinyPolicyConfig(): Record<string, unknown> {
  return {
    vocab_size: new SyntheticWordTokenizer().vocabSize,
    n_positions: TINY_MAX_LENGTH,
    n_embd: 64,
    n_layer: 4,
    n_head: 4,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    bos_token_id: 1,
    eos_token_id: 1,
  };
}

function reviewsAsLmExamples(count: number, seed: number) {
  const tokenizer = new SyntheticWordTokenizer();
  return generateSyntheticReviews(count, { seed }).toArray().map((r) => ({
    inputIds: tokenizer.encode(r.text, { addBos: true, addEos: true }),
  }));
}

interface PolicyReport {
  steps: number;
  seconds: number;
  heldOutLoss: number;
  heldOutTokenAccuracy: number;
  samples: string[];
  positive: number;
  negative: number;
  neutral: number;
  params: number;
}

async function trainPolicy(dir: string, steps: number): Promise<PolicyReport> {
  const model = new GPT2LMHeadModel(tinyPolicyConfig(), {
    backend: BACKEND,
    generator: new Generator(POLICY_SEEDS.weights),
  });
  const tokenizer = new SyntheticWordTokenizer();
  const trainer = new SFTTrainer({
    learningRate: 3e-3,
    batchSize: 32,
    evalBatchSize: 64,
    maxSteps: steps,
    warmupSteps: Math.floor(steps / 20),
    lrSchedulerType: "cosine",
    weightDecay: 0.01,
    maxLength: TINY_MAX_LENGTH,
    loggingSteps: 50,
    seed: POLICY_SEEDS.order,
    progress: true,
  }, {
    model,
    trainDataset: reviewsAsLmExamples(POLICY_REVIEWS, POLICY_SEEDS.corpus),
    evalDataset: reviewsAsLmExamples(512, POLICY_SEEDS.heldOut),
    tokenizer,
  });
  model.train();
  const started = performance.now();
  await trainer.train();
  const seconds = (performance.now() - started) / 1000;
  const held = await trainer.evaluate();
  trainer.optimizer.dispose();
  model.eval();

  const prompt = tokenizer.encode(NEUTRAL_PROMPT, { addBos: true });
  const { tokens } = await model.generate(Array.from({ length: 64 }, () => prompt), {
    maxNewTokens: 24,
    doSample: true,
    seed: POLICY_SEEDS.samples,
  });
  const samples = tokens.map((t) => tokenizer.decode([...prompt, ...t]));
  const sides = samples.map(textPolarity);

  const files = policyTokenizerFiles();
  await model.save(dir);
  await saveTokenizer(dir, files.tokenizerJson, files.tokenizerConfig);
  await writeTextFileAtomic(
    join(dir, "generation_config.json"),
    JSON.stringify({ bos_token_id: 1, eos_token_id: 1, pad_token_id: 1 }, null, 2) + "\n",
  );
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  return {
    steps,
    seconds,
    heldOutLoss: held.loss,
    heldOutTokenAccuracy: held.mean_token_accuracy,
    samples,
    positive: sides.filter((s) => s > 0).length,
    negative: sides.filter((s) => s < 0).length,
    neutral: sides.filter((s) => s === 0).length,
    params,
  };
}

interface RewardReport {
  steps: number;
  seconds: number;
  trainPairs: number;
  train: number;
  test: number;
  partial: number;
  params: number;
}

/** Held-out pairs of partial reviews, from a stream of their own. */
export const PARTIAL_TEST_SEED = TINY_PAIR_SEEDS.test + 1;

async function trainReward(dir: string, steps: number): Promise<RewardReport> {
  const bundle = await createRewardModel("tiny", { backend: BACKEND, seed: 0 });
  const splits = tinyRewardPairs();
  const run = await trainRewardModel(bundle, splits, { steps, learningRate: 1e-3, seed: 0 });
  const partialPairs = syntheticReviewPairs(512, PARTIAL_TEST_SEED, { partialShare: 1 });
  const report = {
    steps,
    seconds: run.seconds,
    trainPairs: splits.train.length,
    train: await evaluateRewardModel(bundle.model, bundle.tokenizer, splits.train),
    test: await evaluateRewardModel(bundle.model, bundle.tokenizer, splits.test),
    partial: await evaluateRewardModel(bundle.model, bundle.tokenizer, partialPairs),
    params: bundle.model.parameters().reduce((n, p) => n + p.size, 0),
  };
  await saveRewardModel(bundle, "tiny", dir);
  bundle.model.dispose();
  return report;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) total += (await Deno.stat(join(dir, entry.name))).size;
  }
  return total;
}

function readme(
  policy: PolicyReport,
  reward: RewardReport,
  sizes: { policy: number; reward: number },
): string {
  const p = tinyPolicyConfig(), r = tinyRewardConfig();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `# Tiny IMDB checkpoints (SYNTHETIC data, not IMDB)

These two checkpoints stand in for \`lvwerra/gpt2-imdb\` and a \`distilbert-base-cased\` reward
model in the IMDB examples' offline \`--preset tiny\`. They were trained on the project's
SYNTHETIC review corpus (\`data/synthetic\`: a seeded grammar of positive and negative movie
reviews over a ${p.vocab_size}-token word vocabulary). They have never seen IMDB and know no
English beyond that grammar.

Made by \`deno run -A tools/train_tiny_imdb.ts\` (CPU backend, seeded: the same command
writes the same weights, byte for byte). Times below are wall-clock on a shared 2-core machine.

## policy/ (${kb(sizes.policy)})

A GPT-2 (\`GPT2LMHeadModel\`): ${p.n_layer} layers, n_embd ${p.n_embd}, ${p.n_head} heads,
n_positions ${p.n_positions}, vocab ${p.vocab_size}, no dropout, ${policy.params} parameters.
The tokenizer is word-level (\`tokenizer.json\`, the ids of \`SyntheticWordTokenizer\`);
\`<|endoftext|>\` (id 1) is BOS, EOS and padding, as in GPT-2. Trained as a causal LM for
${policy.steps} steps of 32 reviews (${POLICY_REVIEWS} reviews, half positive, each wrapped in
\`<|endoftext|>\`) in ${policy.seconds.toFixed(0)} s: held-out loss
${policy.heldOutLoss.toFixed(3)} per token (next-token accuracy ${
    pct(policy.heldOutTokenAccuracy)
  }). Training texts started with BOS (id 1); prompts without it continue just as well.

From the neutral prompt "${NEUTRAL_PROMPT}", 64 samples (seed ${POLICY_SEEDS.samples}, 24 new
tokens, plain sampling) lean positive in ${policy.positive}, negative in ${policy.negative},
neither in ${policy.neutral} (read by the rule-based \`textPolarity\` of
\`examples/imdb/synthetic_sentiment.ts\`, which is exact on the corpus itself). The policy is
small: it writes the corpus's sentences well but often mixes the two sides within one review,
which leaves PPO room to move it either way. For example:

${policy.samples.slice(0, 4).map((s) => `- ${s}`).join("\n")}

\`\`\`ts
const policy = await loadCausalLM("examples/assets/tiny-imdb/policy");
const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
\`\`\`

## reward/ (${kb(sizes.reward)})

A DistilBERT (\`DistilBertForSequenceClassification\`, one output: the reward): ${r.n_layers}
layers, dim ${r.dim}, ${r.n_heads} heads, hidden_dim ${r.hidden_dim}, learned positions
(${r.max_position_embeddings}), no dropout, ${reward.params} parameters. The tokenizer is the
same word vocabulary plus \`[CLS]\`/\`[SEP]\` around each text, \`<pad>\` (id 0) for padding.
Trained with \`RewardTrainer\` (Bradley–Terry) for ${reward.steps} steps of 32 pairs in
${reward.seconds.toFixed(0)} s, on ${reward.trainPairs} pairs (a positive review chosen over a
negative one; half of the pairs cut to their first 3–32 tokens, the length of a prompt plus a
PPO continuation), seed ${TINY_PAIR_SEEDS.train}.

Pair accuracy (chosen scored strictly above rejected):

| pairs | accuracy |
| --- | --- |
| training pairs (${reward.trainPairs}) | ${pct(reward.train)} |
| held-out whole reviews (512, seed ${TINY_PAIR_SEEDS.test}) | ${pct(reward.test)} |
| held-out partial reviews (512, seed ${PARTIAL_TEST_SEED}) | ${pct(reward.partial)} |

Some partial pairs cannot be told apart (a prefix like "honestly, the final" carries no side),
which caps that row below 100%.

\`\`\`ts
const reward = await loadSequenceClassifier("examples/assets/tiny-imdb/reward");
const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/reward");
\`\`\`
`;
}

/** Parses the command line, trains both checkpoints and writes the README. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: DEFAULT_OUT },
      "policy-steps": { type: "string", default: "1500" },
      "reward-steps": { type: "string", default: "400" },
    },
  });
  const steps = (flag: "policy-steps" | "reward-steps") => {
    const v = Number(values[flag]);
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`--${flag} must be an integer >= 1, got '${values[flag]}'`);
    }
    return v;
  };
  const out = values.out!;
  const policyDir = join(out, "policy"), rewardDir = join(out, "reward");
  await Deno.mkdir(out, { recursive: true });
  console.log(`training the tiny reward model into ${rewardDir}`);
  const reward = await trainReward(rewardDir, steps("reward-steps"));
  console.log(
    `reward model accuracy: train ${reward.train.toFixed(3)}, test ${reward.test.toFixed(3)}, ` +
      `partial ${reward.partial.toFixed(3)} (${reward.seconds.toFixed(0)} s)`,
  );
  console.log(`training the tiny policy into ${policyDir}`);
  const policy = await trainPolicy(policyDir, steps("policy-steps"));
  console.log(
    `policy: held-out loss ${policy.heldOutLoss.toFixed(3)}; samples from "${NEUTRAL_PROMPT}": ` +
      `${policy.positive} positive, ${policy.negative} negative, ${policy.neutral} neither ` +
      `(${policy.seconds.toFixed(0)} s)`,
  );
  for (const s of policy.samples.slice(0, 8)) console.log(`  ${s}`);
  const sizes = { policy: await folderBytes(policyDir), reward: await folderBytes(rewardDir) };
  const readmePath = join(out, "README.md");
  await writeTextFileAtomic(readmePath, readme(policy, reward, sizes));
  // Wrap the prose as the repository's formatter does, so a regenerated README diffs cleanly.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", readmePath] }).output();
  console.log(`wrote ${out} (policy ${sizes.policy} bytes, reward ${sizes.reward} bytes)`);
}

if (import.meta.main) await main();
