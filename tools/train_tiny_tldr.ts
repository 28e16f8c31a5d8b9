/**
 * Trains the tiny checkpoints of the TL;DR tutorial's offline preset on the SYNTHETIC
 * summarization corpus (data/synthetic/summaries.ts; not Reddit), deterministically on the CPU
 * backend:
 *
 * - a byte-level BPE tokenizer (GPT-2's scheme) learned on the corpus, so texts round-trip
 *   exactly, newlines and `TL;DR:` included;
 * - `policy/`: a 4-layer, 64-wide GPT-2 trained as a language model on posts alone (no `TL;DR:`
 *   line, no summaries): the stand-in for pretrained `gpt2`, which the SFT stage starts from;
 * - `sft/`: that policy after SFT on posts and reference summaries, some of them careless as
 *   the tiny preset's training split has them (the stand-in for the tutorial's SFT checkpoint,
 *   which the reward stage and PPO start from);
 * - `reward/`: the per-token GPT-2 reward model initialised from `sft/`, the first 3 of its 4
 *   blocks frozen (`--reward-frozen-blocks`), trained on SYNTHETIC comparisons.
 *
 *   deno run -A tools/train_tiny_tldr.ts [--out examples/assets/tiny-tldr] [--policy-steps 300]
 *     [--sft-steps 300] [--reward-steps 200] [--reward-frozen-blocks 3] [--reward-lr 2e-3]
 *     [--stages policy,sft,reward]
 *
 * Writes the folders `--stages` names (each file atomically) with their measured numbers in
 * `training.json`, and a README.md from the three folders' `training.json`; a stage left out
 * is read as it is (`--stages reward` retrains the reward model alone, `--stages ""` only
 * rewrites the README).
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Generator } from "../core/mod.ts";
import {
  generateSyntheticSummaries,
  generateSyntheticSummaryComparisons,
  gistScore,
  type RejectedKind,
} from "../data/mod.ts";
import { computeRouge } from "../eval/mod.ts";
import { GPT2LMHeadModel, loadCausalLM, loadTokenizer, saveTokenizer } from "../models/mod.ts";
import type { Tokenizer } from "../models/mod.ts";
import { writeTextFileAtomic } from "../models/io/atomic.ts";
import { SFTTrainer } from "../algorithms/sft/mod.ts";
import { loadGpt2TokenRewardModel, TokenRewardTrainer } from "../reward/mod.ts";
import { trainByteLevelBpe } from "./byte_level_bpe.ts";
import {
  checkSftRows,
  type ComparisonRow,
  comparisonTexts,
  tokenizeComparisons,
  tokenizeSftRows,
} from "../examples/tldr/data.ts";
import { loadComparisonSplits, loadSftSplits } from "../examples/tldr/load.ts";
import { tldrPreset } from "../examples/tldr/presets.ts";
import { generateSummaries } from "../examples/tldr/summaries.ts";

const BACKEND = "cpu";
const DEFAULT_OUT = fileURLToPath(new URL("../examples/assets/tiny-tldr", import.meta.url));
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];

/** Seeds of everything the tool draws. */
const SEEDS = { tokenizerCorpus: 100, lmCorpus: 1, lmHeldOut: 2, weights: 0, order: 0 } as const;
const LM_POSTS = 16_000;
const N_POSITIONS = 160;

/** The tiny policy's `config.json` fields (GPT-2 defaults fill the rest). */
export function tinyTldrConfig(vocabSize: number, eos: number): Record<string, unknown> {
  return {
    vocab_size: vocabSize,
    n_positions: N_POSITIONS,
    n_embd: 64,
    n_layer: 4,
    n_head: 4,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    bos_token_id: eos,
    eos_token_id: eos,
  };
}

async function writeTokenizer(dir: string): Promise<void> {
  // The tokenizer learns from posts, summaries, comparison texts and the reward model's prefix.
  const posts = generateSyntheticSummaries(4000, { seed: SEEDS.tokenizerCorpus }).toArray();
  const texts = posts.flatMap((p) => [
    p.prompt + p.label,
    `<|startoftext|>${p.prompt.replace("\nTL;DR:", "")}\nTL;DR:${p.label}`,
  ]);
  const bpe = trainByteLevelBpe(texts, 1024);
  await saveTokenizer(dir, bpe.tokenizerJson, {
    tokenizer_class: "GPT2Tokenizer",
    bos_token: "<|endoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
    model_max_length: N_POSITIONS,
  });
}

async function copyTokenizer(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const name of TOKENIZER_FILES) await Deno.copyFile(join(from, name), join(to, name));
}

/** The post without its `TL;DR:` line: what the stand-in for pretrained GPT-2 reads. */
function postsAsLm(count: number, seed: number, tokenizer: Tokenizer) {
  return generateSyntheticSummaries(count, { seed }).toArray().map((p) => ({
    inputIds: [
      ...tokenizer.encode(p.prompt.replace("\nTL;DR:", ""), { addSpecialTokens: false }),
      tokenizer.eosTokenId!,
    ],
  }));
}

interface LmReport {
  steps: number;
  seconds: number;
  heldOutLoss: number;
  params: number;
}

async function trainPolicy(dir: string, tokenizer: Tokenizer, steps: number): Promise<LmReport> {
  const model = new GPT2LMHeadModel(tinyTldrConfig(tokenizer.vocabSize, tokenizer.eosTokenId!), {
    backend: BACKEND,
    generator: new Generator(SEEDS.weights),
  });
  const trainer = new SFTTrainer({
    learningRate: 3e-3,
    batchSize: 32,
    evalBatchSize: 64,
    maxSteps: steps,
    warmupSteps: Math.floor(steps / 20),
    lrSchedulerType: "cosine",
    weightDecay: 0.01,
    maxLength: N_POSITIONS,
    loggingSteps: 50,
    seed: SEEDS.order,
    progress: true,
  }, {
    model,
    trainDataset: postsAsLm(LM_POSTS, SEEDS.lmCorpus, tokenizer),
    evalDataset: postsAsLm(256, SEEDS.lmHeldOut, tokenizer),
    tokenizer,
  });
  model.train();
  const started = performance.now();
  await trainer.train();
  const seconds = (performance.now() - started) / 1000;
  const held = await trainer.evaluate();
  trainer.optimizer.dispose();
  await model.save(dir);
  await writeTextFileAtomic(
    join(dir, "generation_config.json"),
    JSON.stringify({ bos_token_id: tokenizer.eosTokenId, eos_token_id: tokenizer.eosTokenId }) +
      "\n",
  );
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  return { steps, seconds, heldOutLoss: held.loss, params };
}

interface SftReport {
  steps: number;
  heldOutPosts: number;
  seconds: number;
  before: { rougeL: number; gist: number };
  after: { rougeL: number; rouge1: number; rouge2: number; rougeLsum: number; gist: number };
  samples: { reference: string; summary: string }[];
}

async function trainSft(
  policyDir: string,
  dir: string,
  tokenizer: Tokenizer,
  steps: number,
): Promise<SftReport> {
  const preset = tldrPreset("tiny");
  const s = preset.sft;
  const data = await loadSftSplits({ ...preset, sft: { ...s, trainExamples: steps * 16 } });
  checkSftRows("train_tiny_tldr", data.train);
  const model = await loadCausalLM(policyDir, { backend: BACKEND, log: () => {} });
  const heldOut = data.test;
  const gists = data.testGists!;
  const score = async () => {
    const summaries = await generateSummaries(model, tokenizer, heldOut, s);
    const rouge = computeRouge(summaries, heldOut.map((r) => r.label));
    const gist = summaries.reduce((sum, x, i) => sum + gistScore(x, gists[i]), 0) / gists.length;
    return { summaries, rouge, gist };
  };
  const before = await score();
  const trainer = new SFTTrainer({
    learningRate: s.learningRate,
    adamBetas: s.adamBetas,
    batchSize: s.batchSize,
    maxSteps: steps,
    warmupSteps: s.warmupSteps,
    maxLength: s.maxLength,
    completionOnlyLoss: s.completionOnlyLoss,
    loggingSteps: 50,
    seed: SEEDS.order,
    progress: true,
  }, {
    model,
    trainDataset: tokenizeSftRows(data.train, tokenizer, s.maxLength).examples,
    tokenizer,
  });
  model.train();
  const started = performance.now();
  await trainer.train();
  const seconds = (performance.now() - started) / 1000;
  trainer.optimizer.dispose();
  const after = await score();
  await model.save(dir);
  model.dispose();
  return {
    steps,
    heldOutPosts: heldOut.length,
    seconds,
    before: { rougeL: before.rouge.rougeL, gist: before.gist },
    after: {
      rougeL: after.rouge.rougeL,
      rouge1: after.rouge.rouge1,
      rouge2: after.rouge.rouge2,
      rougeLsum: after.rouge.rougeLsum,
      gist: after.gist,
    },
    samples: heldOut.slice(0, 3).map((r, i) => ({
      reference: r.label.trim(),
      summary: after.summaries[i],
    })),
  };
}

interface RewardReport {
  steps: number;
  seconds: number;
  frozen: string;
  learningRate: number;
  trainPairs: number;
  train: number;
  test: number;
  /** Held-out pair accuracy by what is wrong with the rejected summary. */
  testByKind: Record<RejectedKind, number>;
}

/** How the reward model is trained. */
interface RewardSettings {
  steps: number;
  frozenBlocks: number;
  learningRate: number;
}

/** The rejected kinds of the comparison set, for the held-out accuracy by kind. */
const KINDS: readonly RejectedKind[] = [
  "wrong_person",
  "wrong_problem",
  "no_problem",
  "distraction",
];

async function trainReward(
  sftDir: string,
  dir: string,
  tokenizer: Tokenizer,
  settings: RewardSettings,
): Promise<RewardReport> {
  const { steps } = settings;
  const preset = tldrPreset("tiny");
  const r = preset.reward;
  const splits = await loadComparisonSplits({
    ...preset,
    reward: { ...r, trainPairs: steps * r.batchSize, testPairs: 512 },
  });
  // The same held-out pairs with their kinds, for the accuracy by kind.
  const heldOut = generateSyntheticSummaryComparisons(512, {
    seed: preset.syntheticSeeds.pairsTest,
  }).toArray();
  const tok = (rows: readonly ComparisonRow[]) =>
    tokenizeComparisons(
      comparisonTexts("train_tiny_tldr", rows, r.filter).pairs,
      tokenizer,
      r.maxLength,
      r.prefix,
    )
      .pairs;
  const train = tok(splits.train), test = tok(splits.test);
  const model = await loadGpt2TokenRewardModel(sftDir, { backend: BACKEND, log: () => {} });
  const total = model.transformer.h.length;
  const frozen = model.freezeFirstBlocks(settings.frozenBlocks / total);
  const trainer = new TokenRewardTrainer({
    learningRate: settings.learningRate,
    batchSize: r.batchSize,
    evalBatchSize: 64,
    maxSteps: steps,
    warmupSteps: r.warmupSteps,
    maxLength: r.maxLength,
    loggingSteps: 50,
    seed: SEEDS.order,
    progress: true,
  }, { model, trainDataset: train, tokenizer });
  model.train();
  const started = performance.now();
  await trainer.train();
  const seconds = (performance.now() - started) / 1000;
  const testByKind = {} as Record<RejectedKind, number>;
  for (const kind of KINDS) {
    const rows = heldOut.filter((c) => c.kind === kind);
    testByKind[kind] = (await trainer.evaluate(tok(rows))).accuracy;
  }
  const report: RewardReport = {
    steps,
    seconds,
    frozen: `${frozen.frozen} of ${frozen.total}`,
    learningRate: settings.learningRate,
    trainPairs: train.length,
    train: (await trainer.evaluate(train.slice(0, 512))).accuracy,
    test: (await trainer.evaluate(test)).accuracy,
    testByKind,
  };
  trainer.optimizer.dispose();
  await model.save(dir);
  model.dispose();
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
  vocab: number,
  lm: LmReport,
  sft: SftReport,
  rm: RewardReport,
  sizes: Record<string, number>,
): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const f = (x: number) => x.toFixed(3);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `# Tiny TL;DR checkpoints (SYNTHETIC data, not Reddit)

These checkpoints stand in for \`gpt2\`, the tutorial's SFT model and its GPT-2 reward model in
the TL;DR examples' offline \`--preset tiny\`. They were trained on the project's SYNTHETIC
summarization corpus (\`data/synthetic/summaries.ts\`: a seeded grammar of Reddit-style posts
with a known gist: who, what happened, what the writer asks). They have never seen Reddit.

Made by \`deno run -A tools/train_tiny_tldr.ts\` (CPU backend; every draw of weights, data and
order comes from a fixed seed; \`--stages reward\` retrains the reward model alone, and each
folder's \`training.json\` keeps the numbers below). Times below are wall-clock on a shared 2-core machine.

All three share one tokenizer: a byte-level BPE (GPT-2's scheme, ${vocab} tokens,
\`<|endoftext|>\` last) learned on the corpus, so texts round-trip exactly, newlines and
\`TL;DR:\` included. Each model is a GPT-2 with 4 layers, n_embd 64, 4 heads, n_positions
${N_POSITIONS}, no dropout (${lm.params} parameters).

## policy/ (${kb(sizes.policy)})

The stand-in for pretrained \`gpt2\`: a language model of posts alone (\`SUBREDDIT\`, \`TITLE\`,
\`POST\`; never a \`TL;DR:\` line or a summary), ${lm.steps} steps of 32 posts from ${LM_POSTS}
in ${lm.seconds.toFixed(0)} s, held-out loss ${f(lm.heldOutLoss)} per token. Asked for a summary
it has never seen one: greedy continuations after \`TL;DR:\` on ${sft.heldOutPosts} held-out posts score ROUGE-L
${f(sft.before.rougeL)} against the references and state ${pct(sft.before.gist)} of the gist.

## sft/ (${kb(sizes.sft)})

\`policy/\` after SFT on posts and reference summaries (loss on the summary tokens), ${
    pct(tldrPreset("tiny").syntheticCarelessFraction)
  } of them careless as the tiny preset's training split has them (the problem left out, or a
distraction summarized in its place; the held-out references are all careful), ${sft.steps}
steps of 16 in ${
    sft.seconds.toFixed(0)
  } s. Greedy summaries of the same ${sft.heldOutPosts} held-out posts:
ROUGE-1 ${f(sft.after.rouge1)}, ROUGE-2 ${f(sft.after.rouge2)}, ROUGE-L ${f(sft.after.rougeL)},
ROUGE-Lsum ${f(sft.after.rougeLsum)} (evaluate's bootstrap mid, seed 42); ${
    pct(sft.after.gist)
  } of the gist stated. For example:

${sft.samples.map((s) => `- reference: "${s.reference}"; SFT: "${s.summary}"`).join("\n")}

## reward/ (${kb(sizes.reward)})

The per-token reward model of trlX's recipe (\`GPTRewardModel\`: the trunk plus a bias-free
\`v_head\`), initialised from \`sft/\`, ${rm.frozen} blocks frozen, trained with the span loss
for ${rm.steps} steps of 16 pairs (lr ${rm.learningRate}) in ${
    rm.seconds.toFixed(0)
  } s on ${rm.trainPairs} SYNTHETIC comparisons (the rejected summary names the wrong person or
problem, leaves the problem out, or summarizes a distraction). Pair accuracy (the chosen score
strictly higher, read at the span's end as trlX reads it): ${pct(rm.train)} on 512 training
pairs, ${pct(rm.test)} on 512 held-out pairs; by what is wrong with the rejected summary: wrong
person ${pct(rm.testByKind.wrong_person)}, wrong problem ${
    pct(rm.testByKind.wrong_problem)
  }, no problem ${pct(rm.testByKind.no_problem)}, distraction ${
    pct(rm.testByKind.distraction)
  }. It barely tells the right person from a wrong one, the part of the gist the SFT model also
misses most.

\`\`\`ts
const policy = await loadCausalLM("examples/assets/tiny-tldr/sft");
const tokenizer = await loadTokenizer("examples/assets/tiny-tldr/sft");
const rewardModel = await loadGpt2TokenRewardModel("examples/assets/tiny-tldr/reward");
\`\`\`
`;
}

const STAGES = ["policy", "sft", "reward"] as const;
type Stage = typeof STAGES[number];
const REPORT_FILE = "training.json";

/** A stage's report, as a run of this tool measured and saved it beside its checkpoint. */
async function savedReport<T>(dir: string): Promise<T> {
  const path = join(dir, REPORT_FILE);
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    throw new Error(
      `train_tiny_tldr: cannot read ${path} (${(error as Error).message}); train that stage ` +
        `too (--stages)`,
    );
  }
}

async function saveReport(dir: string, report: unknown): Promise<void> {
  await writeTextFileAtomic(join(dir, REPORT_FILE), JSON.stringify(report, null, 2) + "\n");
}

/**
 * Parses the command line, trains the checkpoints `--stages` names (the others are read as
 * they are, with their saved reports) and writes the README.
 */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: DEFAULT_OUT },
      stages: { type: "string", default: STAGES.join(",") },
      "policy-steps": { type: "string", default: "300" },
      "sft-steps": { type: "string", default: "300" },
      "reward-steps": { type: "string", default: "200" },
      "reward-frozen-blocks": { type: "string", default: "3" },
      "reward-lr": { type: "string", default: "2e-3" },
    },
  });
  const number = (flag: keyof typeof values, min: number, integer = true) => {
    const v = Number(values[flag]);
    if (!(integer ? Number.isInteger(v) : Number.isFinite(v)) || v < min) {
      throw new Error(
        `--${flag} must be ${integer ? "an integer" : "a number"} >= ${min}, got '${values[flag]}'`,
      );
    }
    return v;
  };
  const stages = new Set(values.stages!.split(",").map((x) => x.trim()).filter(Boolean));
  for (const stage of stages) {
    if (!STAGES.includes(stage as Stage)) {
      throw new Error(`--stages: unknown stage '${stage}'; use some of ${STAGES.join(",")}`);
    }
  }
  const out = values.out!;
  const dirs = { policy: join(out, "policy"), sft: join(out, "sft"), reward: join(out, "reward") };
  await Deno.mkdir(dirs.policy, { recursive: true });
  if (stages.has("policy")) await writeTokenizer(dirs.policy);
  const tokenizer = await loadTokenizer(dirs.policy);
  console.log(`tokenizer: ${tokenizer.vocabSize} tokens`);
  let lm: LmReport;
  if (stages.has("policy")) {
    lm = await trainPolicy(dirs.policy, tokenizer, number("policy-steps", 1));
    await saveReport(dirs.policy, lm);
    console.log(`policy: held-out loss ${lm.heldOutLoss.toFixed(3)} (${lm.seconds.toFixed(0)} s)`);
  } else lm = await savedReport<LmReport>(dirs.policy);
  let sft: SftReport;
  if (stages.has("sft")) {
    await copyTokenizer(dirs.policy, dirs.sft);
    sft = await trainSft(dirs.policy, dirs.sft, tokenizer, number("sft-steps", 1));
    await saveReport(dirs.sft, sft);
    console.log(
      `sft: ROUGE-L ${sft.before.rougeL.toFixed(3)} -> ${sft.after.rougeL.toFixed(3)}, gist ` +
        `${sft.before.gist.toFixed(3)} -> ${sft.after.gist.toFixed(3)} (${
          sft.seconds.toFixed(0)
        } s)`,
    );
    for (const s of sft.samples) console.log(`  ${s.reference} | ${s.summary}`);
  } else sft = await savedReport<SftReport>(dirs.sft);
  let rm: RewardReport;
  if (stages.has("reward")) {
    await copyTokenizer(dirs.policy, dirs.reward);
    rm = await trainReward(dirs.sft, dirs.reward, tokenizer, {
      steps: number("reward-steps", 1),
      frozenBlocks: number("reward-frozen-blocks", 0),
      learningRate: number("reward-lr", 0, false),
    });
    await saveReport(dirs.reward, rm);
    console.log(
      `reward: accuracy train ${rm.train.toFixed(3)}, test ${rm.test.toFixed(3)} ` +
        `(${JSON.stringify(rm.testByKind)}; ${rm.frozen} blocks frozen, ${
          rm.seconds.toFixed(0)
        } s)`,
    );
  } else rm = await savedReport<RewardReport>(dirs.reward);
  const sizes = {
    policy: await folderBytes(dirs.policy),
    sft: await folderBytes(dirs.sft),
    reward: await folderBytes(dirs.reward),
  };
  const readmePath = join(out, "README.md");
  await writeTextFileAtomic(readmePath, readme(tokenizer.vocabSize, lm, sft, rm, sizes));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", readmePath] }).output();
  console.log(`wrote ${out} (${JSON.stringify(sizes)} bytes)`);
}

if (import.meta.main) await main();
