/**
 * The reward-model stage of the IMDB tutorial as reusable pieces: preference pairs (a positive
 * review preferred over a negative one), the model to start from, Bradley–Terry training with
 * `RewardTrainer`, and pair accuracy (strict >) that the later stages print before they start.
 *
 * Two presets:
 * - `full`: IMDB from the Hub (`stanfordnlp/imdb`) and `distilbert-base-cased` with one output;
 * - `tiny`: the SYNTHETIC review corpus and a small DistilBERT on its word vocabulary, offline.
 *
 * @module
 */

import { join } from "node:path";
import { Generator } from "../../core/mod.ts";
import {
  cleanImdbText,
  detokenizeWords,
  loadImdb,
  pairPositions,
  Rng,
  SyntheticWordTokenizer,
  writeSyntheticReview,
} from "../../data/mod.ts";
import {
  createTokenizer,
  type EncoderForSequenceClassification,
  loadSequenceClassifier,
  loadTokenizer,
  openModel,
  saveTokenizer,
  sequenceClassifierFromConfig,
  type Tokenizer,
} from "../../models/mod.ts";
import { pathExists } from "../../models/io/atomic.ts";
import {
  rewardModelFunction,
  type RewardPair,
  RewardTrainer,
  type TextPair,
} from "../../reward/mod.ts";
import type { ProgressSink } from "../../common/progress.ts";
import { rewardTokenizerFiles, TINY_MAX_LENGTH } from "./synthetic_tokenizers.ts";
import type { ReportTarget } from "../../report/run_files.ts";

/** The presets of the IMDB examples. */
export const PRESETS = ["full", "tiny"] as const;

/** One of {@link PRESETS}. */
export type Preset = (typeof PRESETS)[number];

/**
 * Check a `--preset` value.
 *
 * @param value The value given.
 */
export function parsePreset(value: string | undefined): Preset {
  if (!PRESETS.includes(value as Preset)) {
    throw new Error(`--preset must be one of ${PRESETS.join(", ")}, got '${value}'`);
  }
  return value as Preset;
}

/** The Hub model the full preset's reward model starts from. */
export const FULL_REWARD_BASE = "distilbert-base-cased";

/** Longest review, in tokens, the full preset's reward model reads (DistilBERT's limit). */
export const FULL_MAX_LENGTH = 512;

/**
 * Seeds of the SYNTHETIC pairs: the committed tiny reward model was trained on the `train`
 * stream; `test` is a different stream, so the pairs it writes were never trained on by seed
 * (the small grammar does repeat short reviews across streams).
 */
export const TINY_PAIR_SEEDS = { train: 1001, test: 2002 } as const;

/**
 * Which reviews the reward model learns to prefer: the tutorial's `TARGET_LABEL` ("your choice -
 * either 0 or 1"), the IMDB label of the chosen side of every pair.
 */
export const TARGET_LABELS = ["positive", "negative"] as const;

/** One of {@link TARGET_LABELS}. */
export type TargetLabel = (typeof TARGET_LABELS)[number];

/** The IMDB `label` of each target (1 = positive review, 0 = negative). */
export const IMDB_LABEL_IDS: Readonly<Record<TargetLabel, number>> = { positive: 1, negative: 0 };

/** Train and held-out preference pairs as text. */
export interface RewardTextSplits {
  /** Pairs to train on. */
  train: TextPair[];
  /** Held-out pairs. */
  test: TextPair[];
}

/** Longest prefix, in tokens, of a partial review (a prompt plus a short continuation). */
export const PARTIAL_MAX_TOKENS = 32;

/**
 * The first few tokens of a text: what the PPO stage scores (a 2–8 word prompt plus up to ~24
 * generated words), cut at a uniform length between 3 and {@link PARTIAL_MAX_TOKENS} tokens.
 *
 * @param text A SYNTHETIC review.
 * @param rng Source of the cut.
 */
export function partialReviewText(text: string, rng: Rng): string {
  const tokens = new SyntheticWordTokenizer().tokenize(text);
  const longest = Math.min(tokens.length, PARTIAL_MAX_TOKENS);
  const shortest = Math.min(3, longest);
  return detokenizeWords(tokens.slice(0, shortest + rng.int(longest - shortest + 1)));
}

/** Options of {@link syntheticReviewPairs}. */
export interface SyntheticPairOptions {
  /** Share of pairs whose two texts are both cut to a partial review (default 0). */
  partialShare?: number;
  /** The side of the chosen review (default `positive`). */
  targetLabel?: TargetLabel;
}

/**
 * SYNTHETIC preference pairs: a positive review (chosen) and a negative one (rejected), each
 * drawn fresh from the seeded grammar; with `partialShare`, some pairs are cut to prefixes.
 *
 * @param count Number of pairs.
 * @param seed Seed of the stream.
 * @param options Share of partial pairs.
 */
export function syntheticReviewPairs(
  count: number,
  seed: number,
  options: SyntheticPairOptions = {},
): TextPair[] {
  const share = options.partialShare ?? 0;
  if (!(share >= 0 && share <= 1)) {
    throw new Error(`syntheticReviewPairs: partialShare must be in [0, 1], got ${share}`);
  }
  const rng = new Rng(seed);
  const pairs: TextPair[] = [];
  for (let i = 0; i < count; i++) {
    let chosen = writeSyntheticReview(rng, 1).text;
    let rejected = writeSyntheticReview(rng, 0).text;
    if (rng.chance(share)) {
      chosen = partialReviewText(chosen, rng);
      rejected = partialReviewText(rejected, rng);
    }
    pairs.push(
      options.targetLabel === "negative"
        ? { chosen: rejected, rejected: chosen }
        : { chosen, rejected },
    );
  }
  return pairs;
}

/** Sizes of the SYNTHETIC splits. */
export interface TinyPairOptions {
  /** Training pairs (default 4096; half of them partial reviews). */
  trainPairs?: number;
  /** Held-out pairs of whole reviews (default 512). */
  testPairs?: number;
  /** The side of the chosen review (default `positive`). */
  targetLabel?: TargetLabel;
}

/**
 * The tiny preset's pairs: training pairs (half whole reviews, half partial) from
 * `TINY_PAIR_SEEDS.train`, held-out pairs of whole reviews from `TINY_PAIR_SEEDS.test`.
 *
 * @param options Split sizes.
 */
export function tinyRewardPairs(options: TinyPairOptions = {}): RewardTextSplits {
  return {
    train: syntheticReviewPairs(options.trainPairs ?? 4096, TINY_PAIR_SEEDS.train, {
      partialShare: 0.5,
      targetLabel: options.targetLabel,
    }),
    test: syntheticReviewPairs(options.testPairs ?? 512, TINY_PAIR_SEEDS.test, {
      targetLabel: options.targetLabel,
    }),
  };
}

/** Options of {@link imdbRewardPairs}. */
export interface ImdbPairOptions {
  /** Pairs from the train split (default 2000). */
  trainPairs?: number;
  /** Pairs from the test split (default 500). */
  testPairs?: number;
  /** Seed of which reviews are paired (default 0). */
  seed?: number;
  /** The side of the chosen review (default `positive`). */
  targetLabel?: TargetLabel;
}

/** A split's reviews of the target label and of the other, each in the file's order. */
async function imdbSides(
  split: string,
  target: TargetLabel,
): Promise<{ chosen: string[]; rejected: string[] }> {
  const chosen: string[] = [], rejected: string[] = [];
  for (const row of await loadImdb({ split })) {
    (row.label === IMDB_LABEL_IDS[target] ? chosen : rejected).push(cleanImdbText(row.text));
  }
  return { chosen, rejected };
}

/** A review of the target label paired with one of the other, both drawn in seeded order. */
async function imdbSplitPairs(
  split: string,
  count: number,
  seed: number,
  target: TargetLabel,
): Promise<TextPair[]> {
  const rows = (await loadImdb({ split })).shuffle(seed);
  const chosen: string[] = [], rejected: string[] = [];
  for (const row of rows) {
    const side = row.label === IMDB_LABEL_IDS[target] ? chosen : rejected;
    if (side.length < count) side.push(cleanImdbText(row.text));
    if (chosen.length >= count && rejected.length >= count) break;
  }
  const n = Math.min(chosen.length, rejected.length);
  return Array.from({ length: n }, (_, i) => ({ chosen: chosen[i], rejected: rejected[i] }));
}

/**
 * The full preset's held-out (and fixed-size training) pairs: IMDB reviews from the Hub
 * (through the shared cache), each review of the target label paired with one of the other,
 * from the train and test splits. Offline without a cached copy it fails with the Hub module's
 * error, which says how to fix it.
 *
 * @param options Split sizes, seed and target label.
 */
export async function imdbRewardPairs(options: ImdbPairOptions = {}): Promise<RewardTextSplits> {
  const seed = options.seed ?? 0;
  const target = options.targetLabel ?? "positive";
  return {
    train: await imdbSplitPairs("train", options.trainPairs ?? 2000, seed, target),
    test: await imdbSplitPairs("test", options.testPairs ?? 500, seed + 1, target),
  };
}

/**
 * `count` distinct pairs drawn uniformly from ALL (target-label review, other review) pairs of
 * IMDB's train split, in draw order: the tutorial's `IMDBPairwiseDataset` (every combination,
 * 12,500 × 12,500 of them) as a shuffled sampler feeds it to `count / batch` steps, without
 * building the 156 million pairs.
 *
 * @param count Pairs to draw (at most every pair).
 * @param seed Seed of the draw.
 * @param target The side of the chosen review.
 */
export async function imdbAllPairsSample(
  count: number,
  seed: number,
  target: TargetLabel,
): Promise<TextPair[]> {
  const { chosen, rejected } = await imdbSides("train", target);
  const total = chosen.length * rejected.length;
  if (total === 0) {
    throw new Error(`IMDB train split: no pairs with ${target} reviews chosen (one side is empty)`);
  }
  const rng = new Rng(seed);
  const drawn = new Set<number>();
  const pairs: TextPair[] = [];
  const want = Math.min(count, total);
  while (pairs.length < want) {
    const index = rng.int(total);
    if (drawn.has(index)) continue;
    drawn.add(index);
    const [c, r] = pairPositions(index, chosen.length, rejected.length);
    pairs.push({ chosen: chosen[c], rejected: rejected[r] });
  }
  return pairs;
}

/**
 * The tiny reward model's `config.json`: a 2-layer, 64-wide DistilBERT with one output (the
 * reward), no dropout, on the SYNTHETIC vocabulary plus `[CLS]`/`[SEP]`.
 */
export function tinyRewardConfig(): Record<string, unknown> {
  return {
    model_type: "distilbert",
    architectures: ["DistilBertForSequenceClassification"],
    vocab_size: new SyntheticWordTokenizer().vocabSize + 2,
    dim: 64,
    n_layers: 2,
    n_heads: 4,
    hidden_dim: 256,
    max_position_embeddings: TINY_MAX_LENGTH,
    sinusoidal_pos_embds: false,
    activation: "gelu",
    dropout: 0,
    attention_dropout: 0,
    seq_classif_dropout: 0,
    initializer_range: 0.02,
    pad_token_id: 0,
    num_labels: 1,
    id2label: { "0": "LABEL_0" },
    label2id: { LABEL_0: 0 },
  };
}

/** A reward model and the tokenizer it reads with. */
export interface RewardModelBundle {
  /** One-output sequence classifier. */
  model: EncoderForSequenceClassification;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
  /** Longest text in tokens it reads; longer texts are cut from the end. */
  maxLength: number;
}

/** Options of {@link createRewardModel}. */
export interface CreateRewardModelOptions {
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /** Seed of the fresh weights (default 0). */
  seed?: number;
}

/**
 * The model the reward stage starts from: for `full`, `distilbert-base-cased` from the Hub with
 * a fresh one-output head; for `tiny`, a freshly initialised tiny DistilBERT.
 *
 * @param preset Which preset.
 * @param options Backend and seed.
 */
export async function createRewardModel(
  preset: Preset,
  options: CreateRewardModelOptions = {},
): Promise<RewardModelBundle> {
  const seed = options.seed ?? 0;
  if (preset === "full") {
    const tokenizer = await loadTokenizer(FULL_REWARD_BASE);
    const model = await loadSequenceClassifier(FULL_REWARD_BASE, {
      numLabels: 1,
      backend: options.backend,
      seed,
      dropoutGenerator: new Generator(seed + 1),
      log: () => {},
    });
    return { model, tokenizer, maxLength: FULL_MAX_LENGTH };
  }
  const files = rewardTokenizerFiles();
  const tokenizer = await createTokenizer(files.tokenizerJson, files.tokenizerConfig);
  const model = sequenceClassifierFromConfig(tinyRewardConfig(), {
    backend: options.backend,
    seed,
  });
  return { model, tokenizer, maxLength: TINY_MAX_LENGTH };
}

/**
 * Load a saved reward model folder (`config.json`, `model.safetensors`, tokenizer files), such
 * as `examples/assets/tiny-imdb/reward` or the `model` folder a reward run writes.
 *
 * @param dir The folder (or a Hub id).
 * @param options Backend.
 */
export async function loadRewardModel(
  dir: string,
  options: { backend?: string } = {},
): Promise<RewardModelBundle> {
  const model = await loadSequenceClassifier(dir, { backend: options.backend });
  const tokenizer = await loadTokenizer(dir);
  const maxLength = Math.min(model.config.maxPositions, tokenizer.modelMaxLength ?? Infinity);
  return { model, tokenizer, maxLength };
}

/**
 * Write the model (`config.json` + `model.safetensors`) and its tokenizer files into `dir`, in
 * the layout `loadRewardModel` and Python's `from_pretrained` read.
 *
 * @param bundle The trained model and tokenizer.
 * @param preset Which preset made it (says where the tokenizer files come from).
 * @param dir Destination folder.
 */
export async function saveRewardModel(
  bundle: RewardModelBundle,
  preset: Preset,
  dir: string,
): Promise<void> {
  await bundle.model.save(dir);
  if (preset === "tiny") {
    const files = rewardTokenizerFiles();
    await saveTokenizer(dir, files.tokenizerJson, files.tokenizerConfig);
    return;
  }
  const hub = await openModel(FULL_REWARD_BASE);
  for (const name of ["tokenizer.json", "tokenizer_config.json", "vocab.txt"]) {
    const path = await hub.file(name, { optional: true });
    if (path !== null) await Deno.copyFile(path, join(dir, name));
  }
}

/**
 * Tokenize text pairs for `RewardTrainer`, with the tokenizer's special tokens and each text
 * cut to `maxLength` tokens. A text that occurs in several pairs (all-pairs sampling reuses
 * every review) is tokenized once.
 *
 * @param pairs Text pairs.
 * @param tokenizer The reward model's tokenizer.
 * @param maxLength Longest row in tokens.
 */
export function tokenizePairs(
  pairs: readonly TextPair[],
  tokenizer: Tokenizer,
  maxLength: number,
): RewardPair[] {
  const seen = new Map<string, number[]>();
  const encode = (text: string) => {
    let ids = seen.get(text);
    if (ids === undefined) {
      ids = tokenizer.encode(text, { truncation: true, maxLength });
      seen.set(text, ids);
    }
    return ids;
  };
  return pairs.map((p) => ({ chosen: encode(p.chosen), rejected: encode(p.rejected) }));
}

/** Options of {@link trainRewardModel}. */
export interface TrainRewardOptions {
  /** Optimizer steps. */
  steps: number;
  /** Pairs per step (default 32). */
  batchSize?: number;
  /** Peak learning rate (default 1e-3, for the tiny model). */
  learningRate?: number;
  /** Linear warmup steps (default: a tenth of the run). */
  warmupSteps?: number;
  /** AdamW weight decay (default 0.01). */
  weightDecay?: number;
  /** Recompute block activations in backward (`gradient_checkpointing`; default false). */
  gradientCheckpointing?: boolean;
  /** Steps between logged lines (default: a tenth of the run, at most 25). */
  loggingSteps?: number;
  /** Seed of the pair order (default 0). */
  seed?: number;
  /** Folder of `metrics.jsonl` and `checkpoint/` (default: nothing written). */
  outputDir?: string;
  /** Steps between checkpoints, the last step always included (default: none). */
  saveSteps?: number;
  /** Steps between held-out evaluations written to the metrics (default: none). */
  evalSteps?: number;
  /** Resume from `<outputDir>/checkpoint` when it exists. */
  resume?: boolean;
  /** Where the progress bar goes (default standard error; null: no progress bar). */
  progressSink?: ProgressSink | null;
  /** Also write TensorBoard event files into `outputDir` (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
}

/** What {@link trainRewardModel} reached. */
export interface TrainRewardResult {
  /** Optimizer steps completed (including those before a resume). */
  globalStep: number;
  /** Whether the run continued from a checkpoint. */
  resumed: boolean;
  /** Mean training loss over the steps this call ran. */
  trainingLoss: number;
  /** Wall-clock seconds of `train()`. */
  seconds: number;
}

/**
 * Train a reward model on text pairs with `RewardTrainer` (Bradley–Terry loss, TRL's metric
 * names), evaluating on the held-out pairs every `evalSteps`.
 *
 * @param bundle Model, tokenizer and length limit.
 * @param splits Train and held-out pairs.
 * @param options Steps, batch, learning rate, outputs.
 */
export async function trainRewardModel(
  bundle: RewardModelBundle,
  splits: RewardTextSplits,
  options: TrainRewardOptions,
): Promise<TrainRewardResult> {
  const trainDataset = tokenizePairs(splits.train, bundle.tokenizer, bundle.maxLength);
  const evalDataset = splits.test.length > 0
    ? tokenizePairs(splits.test, bundle.tokenizer, bundle.maxLength)
    : undefined;
  const steps = options.steps;
  const batchSize = options.batchSize ?? 32;
  const trainer = new RewardTrainer({
    learningRate: options.learningRate ?? 1e-3,
    batchSize,
    evalBatchSize: Math.max(batchSize, 64),
    maxSteps: steps,
    warmupSteps: options.warmupSteps ?? Math.floor(steps / 10),
    lrSchedulerType: "linear",
    weightDecay: options.weightDecay ?? 0.01,
    gradientCheckpointing: options.gradientCheckpointing ?? false,
    loggingSteps: options.loggingSteps ?? Math.max(1, Math.min(25, Math.floor(steps / 10))),
    evalSteps: evalDataset ? options.evalSteps ?? null : null,
    saveSteps: options.outputDir ? options.saveSteps ?? null : null,
    outputDir: options.outputDir ?? null,
    seed: options.seed ?? 0,
    progress: options.progressSink !== null,
    reportTo: options.reportTo ?? "none",
  }, {
    model: bundle.model,
    trainDataset,
    evalDataset,
    tokenizer: bundle.tokenizer,
    progressSink: options.progressSink ?? undefined,
  });
  const checkpoint = options.outputDir ? join(options.outputDir, "checkpoint") : undefined;
  const resumed = options.resume === true && checkpoint !== undefined &&
    await pathExists(checkpoint);
  bundle.model.train();
  const started = performance.now();
  try {
    const out = await trainer.train(resumed ? { resumeFrom: checkpoint } : {});
    return {
      globalStep: out.globalStep,
      resumed,
      trainingLoss: out.trainingLoss,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    bundle.model.eval();
    trainer.optimizer.dispose();
  }
}

/** Options of {@link evaluateRewardModel}. */
export interface EvaluateRewardOptions {
  /** Texts per forward (default 64). */
  batchSize?: number;
  /** Longest text in tokens (default: cut at the tokenizer's `model_max_length`, if any). */
  maxLength?: number;
}

/**
 * Pair accuracy of a reward model: the fraction of pairs whose chosen text scores strictly
 * above the rejected one (a tie counts as wrong, as in TRL).
 *
 * @param model A one-output sequence classifier.
 * @param tokenizer Its tokenizer.
 * @param pairs Text pairs.
 * @param options Batch size and length limit.
 */
export async function evaluateRewardModel(
  model: EncoderForSequenceClassification,
  tokenizer: Tokenizer,
  pairs: readonly TextPair[],
  options: EvaluateRewardOptions = {},
): Promise<number> {
  if (pairs.length === 0) throw new Error("evaluateRewardModel: no pairs to evaluate");
  const maxLength = options.maxLength ?? tokenizer.modelMaxLength;
  const score = rewardModelFunction(model, {
    encode: (text) =>
      maxLength === undefined ? tokenizer.encode(text) : tokenizer.encode(text, {
        truncation: true,
        maxLength,
      }),
    padTokenId: tokenizer.padTokenId,
  }, { batchSize: options.batchSize ?? 64 });
  const chosen = await score(pairs.map((p) => p.chosen));
  const rejected = await score(pairs.map((p) => p.rejected));
  return chosen.filter((c, i) => c > rejected[i]).length / pairs.length;
}
