/**
 * The reward model of the hh-rlhf lesson: a 1-output sequence classifier trained with the
 * Bradley–Terry loss to score the chosen reply of a dialogue above the rejected one, as TRL's
 * `reward_modeling.py` does on Anthropic/hh-rlhf (the whole transcript, prompt included, is the
 * text scored). The tiny preset grows one from the tiny GPT-2 policy on the SYNTHETIC
 * preference pairs, quickly enough that the RL examples train their own before they start.
 *
 * @module
 */

import { join } from "node:path";
import {
  CAUSAL_LM_ARCHITECTURES,
  loadCausalLMForSequenceClassification,
  loadConfig,
  loadSequenceClassifier,
  loadTokenizer,
  openModel,
  SUPPORTED_ENCODER_TYPES,
  type Tokenizer,
} from "../../models/mod.ts";
import { pathExists } from "../../models/io/atomic.ts";
import { type RewardPair, RewardTrainer, type ScalarRewardModel } from "../../reward/mod.ts";
import type { ProgressSink } from "../../common/progress.ts";
import type { ReportTarget } from "../../report/run_files.ts";
import { type HhTextPair, loadHhPairs } from "./data.ts";
import { copyTokenizerFiles } from "./policy.ts";
import type { HhPreset, HhRewardModelSettings } from "./presets.ts";

/** A reward classifier as the examples use it. */
export interface RewardClassifier extends ScalarRewardModel {
  /** Writes `config.json` + `model.safetensors`. */
  save(dir: string): Promise<void>;
  /** Frees the weights. */
  dispose(): void;
}

/** A reward model and the tokenizer its texts are encoded with. */
export interface HhRewardBundle {
  /** One output: the reward. */
  model: RewardClassifier;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
}

/**
 * Load a sequence classifier with one output from a folder or Hub id: any causal LM of
 * `CAUSAL_LM_ARCHITECTURES` (GPT-2, OPT, Llama, …) with transformers' `score` head (fresh when
 * the checkpoint is a plain LM), or the BERT family. Offline, a Hub id fails at once
 * with the cache's message naming the model.
 *
 * @param source Folder or Hub id.
 * @param options Backend, and the seed of a fresh head.
 */
export async function loadRewardClassifier(
  source: string,
  options: { backend?: string; seed?: number } = {},
): Promise<HhRewardBundle> {
  const config = await loadConfig(await openModel(source));
  const type = String(config.model_type);
  const common = { backend: options.backend, numLabels: 1, seed: options.seed, log: () => {} };
  let model: RewardClassifier;
  if (Object.hasOwn(CAUSAL_LM_ARCHITECTURES, type)) {
    model = await loadCausalLMForSequenceClassification(source, common);
  } else if ((SUPPORTED_ENCODER_TYPES as readonly string[]).includes(type)) {
    model = await loadSequenceClassifier(source, common);
  } else {
    throw new Error(
      `reward model '${source}': model_type "${type}" has no sequence-classification loader ` +
        `here; use a causal LM (${Object.keys(CAUSAL_LM_ARCHITECTURES).join(", ")}) or a ` +
        `BERT-family checkpoint (--base)`,
    );
  }
  try {
    return { model, tokenizer: await loadTokenizer(source) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The texts the reward model compares: the whole dialogue with each reply.
 *
 * @param pairs Prompt, chosen and rejected replies.
 */
export function transcriptPairs(
  pairs: readonly HhTextPair[],
): { chosen: string; rejected: string }[] {
  return pairs.map((p) => ({ chosen: p.prompt + p.chosen, rejected: p.prompt + p.rejected }));
}

/**
 * Tokenize transcript pairs, skipping any whose longer text exceeds `maxLength` tokens (TRL's
 * script filters them the same way).
 *
 * @param pairs Text pairs.
 * @param tokenizer The reward model's tokenizer.
 * @param maxLength Longest text in tokens.
 */
export function tokenizeTranscripts(
  pairs: readonly { chosen: string; rejected: string }[],
  tokenizer: Tokenizer,
  maxLength: number,
): { pairs: RewardPair[]; skipped: number } {
  const out: RewardPair[] = [];
  let skipped = 0;
  for (const p of pairs) {
    const chosen = tokenizer.encode(p.chosen), rejected = tokenizer.encode(p.rejected);
    if (Math.max(chosen.length, rejected.length) > maxLength) skipped++;
    else out.push({ chosen, rejected });
  }
  return { pairs: out, skipped };
}

/** Options of {@link trainHhRewardModel}. */
export interface TrainHhRewardOptions {
  /** The preset (its `rm` settings and data). */
  preset: HhPreset;
  /** Run folder: metrics.jsonl, checkpoint/, model/. */
  out: string;
  /** Seed of the data and the fresh head. */
  seed: number;
  /** Backend of the weights. */
  backend?: string;
  /** Continue from `<out>/checkpoint`. */
  resume?: boolean;
  /** Where lines go. */
  log: (line: string) => void;
  /** Progress bar sink (null: none). */
  progressSink?: ProgressSink | null;
  /** Also write TensorBoard event files. */
  reportTo?: readonly ReportTarget[];
}

/** What a reward-model run measured. */
export interface HhRewardResult {
  /** Held-out pair accuracy of the fresh model (strict >, a tie counts as wrong). */
  accuracyBefore: number;
  /** Held-out pair accuracy after training. */
  accuracyAfter: number;
  /** Training pair accuracy after training. */
  trainAccuracy: number;
  /** Optimizer steps completed. */
  steps: number;
  /** Pairs trained on and held out (after the length filter). */
  pairs: { train: number; test: number };
  /** Where the model and its tokenizer were saved. */
  modelDir: string;
}

/**
 * Equal parts a micro-batch runs in (`batchSize / forwardBatchSize`); an error naming both
 * when the one does not divide the other.
 *
 * @param s Reward model settings.
 */
export function forwardParts(s: HhRewardModelSettings): number {
  const size = s.forwardBatchSize ?? s.batchSize;
  if (!Number.isInteger(size) || size < 1 || s.batchSize % size !== 0) {
    throw new Error(
      `rm.forwardBatchSize (--forward-batch-size) ${size} must divide rm.batchSize ` +
        `(--batch-size) ${s.batchSize}: a micro-batch runs in equal parts; pick a divisor`,
    );
  }
  return s.batchSize / size;
}

/**
 * The trainer's batch settings for the preset's micro-batch of `batchSize` pairs run in
 * {@link forwardParts} equal parts: the parts accumulate into the micro-batch's one gradient,
 * and evaluation takes the parts' size too, so it reuses their freed memory.
 *
 * @param s Reward model settings.
 */
export function microBatchArgs(
  s: HhRewardModelSettings,
): { batchSize: number; gradientAccumulationSteps: number; evalBatchSize: number } {
  const parts = forwardParts(s);
  return {
    batchSize: s.batchSize / parts,
    gradientAccumulationSteps: s.gradientAccumulationSteps * parts,
    evalBatchSize: parts > 1 ? s.batchSize / parts : Math.max(s.batchSize, 32),
  };
}

/**
 * Train the preset's reward model: Bradley–Terry on (prompt + chosen, prompt + rejected)
 * transcripts with `RewardTrainer`, accuracy on the held-out split before and after, the model
 * and its tokenizer saved to `<out>/model`.
 *
 * @param o Preset, folder, seed, backend, logging.
 */
export async function trainHhRewardModel(o: TrainHhRewardOptions): Promise<HhRewardResult> {
  const s = o.preset.rm;
  // The model first: offline without a cached checkpoint, this is where the run stops.
  const bundle = await loadRewardClassifier(s.base, { backend: o.backend, seed: o.seed });
  try {
    const split = await loadHhPairs({
      ...o.preset,
      trainExamples: s.trainExamples ?? Number.MAX_SAFE_INTEGER,
      testExamples: s.testExamples ?? Number.MAX_SAFE_INTEGER,
    }, o.seed);
    const train = tokenizeTranscripts(transcriptPairs(split.train), bundle.tokenizer, s.maxLength);
    const test = tokenizeTranscripts(transcriptPairs(split.test), bundle.tokenizer, s.maxLength);
    o.log(
      `reward model from ${s.base}: ${train.pairs.length} training pairs, ${test.pairs.length} ` +
        `held out (${train.skipped + test.skipped} longer than ${s.maxLength} tokens skipped)`,
    );
    if (train.pairs.length === 0 || test.pairs.length === 0) {
      throw new Error(`no pair fits maxLength ${s.maxLength}; read more pairs`);
    }
    const trainer = new RewardTrainer({
      ...microBatchArgs(s),
      learningRate: s.learningRate,
      gradientCheckpointing: s.gradientCheckpointing,
      maxSteps: s.maxSteps,
      numTrainEpochs: s.epochs,
      loggingSteps: Math.max(1, Math.min(10, Math.floor((s.maxSteps ?? 100) / 10))),
      saveSteps: s.saveSteps,
      outputDir: o.out,
      seed: o.seed,
      progress: o.progressSink !== null,
      reportTo: o.reportTo,
    }, {
      model: bundle.model,
      trainDataset: train.pairs,
      evalDataset: test.pairs,
      tokenizer: bundle.tokenizer,
      progressSink: o.progressSink ?? undefined,
    });
    try {
      const accuracyBefore = (await trainer.evaluate()).accuracy;
      const checkpoint = join(o.out, "checkpoint");
      const resume = o.resume === true && await pathExists(checkpoint);
      const out = await trainer.train(resume ? { resumeFrom: checkpoint } : {});
      // Adam's two moments (twice the weights) are not needed to evaluate.
      trainer.optimizer.dispose();
      const accuracyAfter = (await trainer.evaluate()).accuracy;
      const trainAccuracy = (await trainer.evaluate(train.pairs.slice(0, 512))).accuracy;
      const modelDir = join(o.out, "model");
      await bundle.model.save(modelDir);
      await copyTokenizerFiles(s.base, modelDir);
      return {
        accuracyBefore,
        accuracyAfter,
        trainAccuracy,
        steps: out.globalStep,
        pairs: { train: train.pairs.length, test: test.pairs.length },
        modelDir,
      };
    } finally {
      trainer.optimizer.dispose();
    }
  } finally {
    bundle.model.dispose();
  }
}

/**
 * The reward model an RL example scores with: `source` when given; in the tiny preset, the one
 * a previous run left in `<out>/reward_model`, else one trained there now (a few seconds).
 *
 * @param preset The example's preset.
 * @param source `--reward-model`, or null.
 * @param o Run folder, seed, backend, logging.
 */
export async function rewardModelForRl(
  preset: HhPreset,
  source: string | null,
  o: { out: string; seed: number; backend?: string; log: (line: string) => void },
): Promise<string> {
  if (source !== null) return source;
  if (preset.name === "full") {
    throw new Error("the full preset needs --reward-model (run hh_reward_model.ts first)");
  }
  const dir = join(o.out, "reward_model");
  const modelDir = join(dir, "model");
  if (await pathExists(join(modelDir, "config.json"))) {
    o.log(`reward model: ${modelDir} (trained by an earlier run of this folder)`);
    return modelDir;
  }
  const r = await trainHhRewardModel({ ...o, preset, out: dir, progressSink: null });
  o.log(
    `reward model trained first (hh_reward_model's tiny preset, ${r.steps} steps): held-out ` +
      `pair accuracy ${r.accuracyBefore.toFixed(3)} -> ${r.accuracyAfter.toFixed(3)}`,
  );
  return r.modelDir;
}
