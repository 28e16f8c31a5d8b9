/**
 * `train({ rewardFn, prompts, evalPrompts, config })`: trlX's `trlx.train` for PPO, on text.
 *
 * The run, as trlX's `AcceleratePPOTrainer.learn`: evaluate the eval prompts; then per rollout
 * collection, sample `num_rollouts` prompts in chunks of `chunk_size` (rounded up to whole
 * chunks, as trlX collects), score each chunk with `rewardFn`, turn it into per-token rewards
 * against the reference, and take `ppo_epochs` passes over the collection in minibatches of
 * `batch_size` (one trlX step each); evaluate every `eval_interval` steps and at the last; stop
 * at `total_steps` (capped, as trlX caps it, at `epochs` collections).
 *
 * It runs on the one online loop of `algorithms/common` (one loop step per rollout collection):
 * `metrics.jsonl`, sample tables (rollouts as `completions`, evaluations as
 * `eval/completions`), checkpoints in `train.checkpoint_dir`, exact resume
 * (`train.resume_from_checkpoint`), and the non-finite loss stop.
 *
 * @module
 */

import { join } from "node:path";
import { Generator } from "../../core/random.ts";
import { formatMetric, type ProgressSink } from "../../common/progress.ts";
import type { ReportTarget } from "../../report/run_files.ts";
import type { SampleRow } from "../../report/samples.ts";
import { openModel } from "../../models/hub/repo.ts";
import { loadTokenizer, type Tokenizer } from "../../models/tokenizer.ts";
import { applyLora, type LoraAdapters, saveLora } from "../../models/lora.ts";
import type { GenerateOptions } from "../../models/generation.ts";
import { hasCheckpoint } from "../common/checkpoint.ts";
import {
  ONLINE_CHECKPOINT_DIR,
  runOnlineLoop,
  trainableParameters,
} from "../common/online_loop.ts";
import {
  parseTrlxConfig,
  type TrlxConfig,
  type TrlxConfigInput,
  type TrlxGenKwargs,
} from "./config.ts";
import { freezeTrlxLayers, loadTrlxPolicy, type TrlxPolicy } from "./policy.ts";
import type { TrlxSampleScore } from "./scores.ts";
import { TrlxPpoTrainer, type TrlxStepRecord } from "./trainer.ts";

/** What a reward function is told besides the samples. */
export interface TrlxRewardContext {
  /** The prompts, decoded (special tokens skipped). */
  prompts: string[];
  /** The generated continuations, decoded (special tokens skipped, EOS not appended). */
  outputs: string[];
}

/**
 * trlX's `reward_fn(samples, prompts=..., outputs=...)`: one score per sample (or a list of
 * per-token scores), sync or async. A sample is prompt + output for causal models and
 * prompt + `<sep>` + output for seq2seq (as trlX joins them).
 */
export type TrlxRewardFn = (
  samples: string[],
  context: TrlxRewardContext,
) => readonly TrlxSampleScore[] | Promise<readonly TrlxSampleScore[]>;

/** Options of {@link train}. */
export interface TrlxTrainOptions {
  /** Scores the samples. */
  rewardFn: TrlxRewardFn;
  /** Training prompts (drawn in seeded shuffles; repeated when fewer than a collection). */
  prompts: readonly string[];
  /** Evaluation prompts (default: the first `batch_size` prompts, as trlX). */
  evalPrompts?: readonly string[];
  /** trlX's config (`train`, `model`, `tokenizer`, `optimizer`, `scheduler`, `method`). */
  config?: TrlxConfigInput | TrlxConfig;
  /** Where the weights live (default: the current backend). */
  backend?: string;
  /** Receives the stats line of each collection (default: standard error); `false` for none. */
  log?: ((line: string) => void) | false;
  /** A progress bar (default: on when standard error is a terminal). */
  progress?: boolean | ProgressSink;
  /** Also write TensorBoard event files into the checkpoint folder. */
  reportTo?: ReportTarget | readonly ReportTarget[] | "none";
  /** Asked before each collection; `true` ends the run there (checkpointed). */
  shouldStop?: (state: { step: number; elapsedSeconds: number }) => boolean;
}

/** Sampling options of {@link TrlxTrainer.generate} (default: the config's `gen_kwargs`). */
export interface TrlxGenerateOptions {
  /** Most new tokens. */
  maxNewTokens?: number;
  /** Sample (false: greedy). */
  doSample?: boolean;
  /** Keep the k most likely tokens (0: all). */
  topK?: number;
  /** Nucleus mass. */
  topP?: number;
  /** Softmax temperature. */
  temperature?: number;
  /** Seed of the sampling (default 0). */
  seed?: number;
}

/** One evaluation: trlX's `reward/mean` and its table. */
export interface TrlxEvaluation {
  /** The trlX step it followed (0: before training). */
  step: number;
  /** Mean reward of the eval prompts' samples. */
  rewardMean: number;
  /** Prompt, completion and reward of every eval prompt. */
  table: SampleRow[];
}

/** What {@link train} resolves to. */
export interface TrlxTrainer {
  /** The parsed config. */
  readonly config: TrlxConfig;
  /** The trained policy (with its value head). */
  readonly policy: TrlxPolicy;
  /** The tokenizer. */
  readonly tokenizer: Tokenizer;
  /**
   * One record per trlX step (optimizer step), under trlX's names (`losses/total_loss`,
   * `policy/approx_kl`, `returns/mean`, `learning_rate_group_0`, `reward/mean` on evaluation
   * steps, the rollout statistics on a collection's first step, …), each with its `step`;
   * the evaluation before training is the record of step 0.
   */
  readonly metrics: TrlxStepRecord[];
  /** Every evaluation, in order. */
  readonly evaluations: TrlxEvaluation[];
  /** Completions for `prompts`, decoded. */
  generate(prompts: readonly string[], opts?: TrlxGenerateOptions): Promise<string[]>;
  /**
   * Writes the policy (`config.json`, `model.safetensors` with `v_head.*`; with
   * `model.peft_config`, the adapter in PEFT's layout) and its tokenizer files.
   */
  save(dir: string): Promise<void>;
  /** Frees the policy, the reference copy and the optimizer state. */
  dispose(): void;
}

/** trlX's `sep_token` between prompt and output in seq2seq samples. */
export const TRLX_SEQ2SEQ_SEP = "<sep>";

/**
 * Trains a policy with trlX's PPO on text prompts and a reward function (see the module notes).
 *
 * @example
 * ```ts
 * import { train } from "./train.ts";
 *
 * const trainer = await train({
 *   // Reward completions that say "happy".
 *   rewardFn: (_samples, { outputs }) => outputs.map((o) => (o.includes("happy") ? 1 : 0)),
 *   prompts: ["after the meeting today,", "when i got home,"],
 *   evalPrompts: ["when i got home,"],
 *   config: {
 *     train: { total_steps: 2, batch_size: 4, checkpoint_dir: await Deno.makeTempDir(), tracker: null },
 *     model: { model_path: "examples/assets/tiny-emotions/policy", model_arch_type: "seq2seq" },
 *     tokenizer: { tokenizer_path: "examples/assets/tiny-emotions/policy" },
 *     method: { num_rollouts: 4, chunk_size: 4, ppo_epochs: 2, gen_kwargs: { max_new_tokens: 8 } },
 *   },
 *   log: false,
 * });
 * console.log(trainer.metrics.length, await trainer.generate(["when i got home,"]));
 * trainer.dispose();
 * ```
 *
 * @param options The reward function, prompts, eval prompts and config.
 * @throws {TrlxConfigError} For a config key trlX does not have, or a bad value.
 */
export async function train(options: TrlxTrainOptions): Promise<TrlxTrainer> {
  const config = parseTrlxConfig(options.config ?? {});
  checkInputs(options);
  const arch = config.model.model_arch_type;
  const outputDir = config.train.checkpoint_dir;
  const resume = config.train.resume_from_checkpoint !== null;
  await checkRunFolder(config, resume);

  const tokenizer = await loadTokenizer(config.tokenizer.tokenizer_path);
  const policy = await loadTrlxPolicy(config.model.model_path, arch, {
    backend: options.backend,
    seed: config.train.seed,
  });
  // With PEFT, trlX ignores num_layers_unfrozen: the adapters and the value head train.
  const peft = config.model.peft_config;
  let lora: LoraAdapters | null = null;
  try {
    if (peft) {
      lora = applyLora(policy, {
        r: peft.r,
        alpha: peft.lora_alpha,
        dropout: peft.lora_dropout,
        targetModules: peft.target_modules ?? undefined,
        useRslora: peft.use_rslora,
      }, { generator: new Generator(config.train.seed) });
    } else freezeTrlxLayers(policy, config.model.num_layers_unfrozen);
  } catch (error) {
    policy.dispose();
    throw new Error(`model.peft_config: ${(error as Error).message}`);
  }
  policy.eval(); // trlX runs every forward in eval mode (dropout off)

  const pad = arch === "causal"
    ? tokenizer.eosTokenId ?? policy.base.eosTokenId
    : tokenizer.padTokenId ?? policy.base.padTokenId;
  if (pad === undefined || pad === null) {
    throw new Error(`tokenizer ${config.tokenizer.tokenizer_path} has no pad or eos token`);
  }
  const trainer = new TrlxPpoTrainer(
    policy,
    config,
    pad,
    config.tokenizer.padding_side,
    lora ?? undefined,
  );
  const text = new TextSide(tokenizer, config, pad);

  const chunk = config.method.chunk_size;
  const perCollection = Math.ceil(config.method.num_rollouts / chunk) * chunk;
  const spc = trainer.stepsPerCollection(perCollection);
  const totalSteps = Math.min(config.train.epochs * spc, config.train.total_steps);
  const collections = Math.ceil(totalSteps / spc);
  const promptIds = options.prompts.map((p) => text.encode(p));
  const queries = Array.from(
    { length: Math.max(1, Math.ceil(perCollection / promptIds.length)) },
    () => promptIds,
  ).flat();
  const evalPrompts = options.evalPrompts ?? options.prompts.slice(0, config.train.batch_size);
  const evalIds = evalPrompts.map((p) => text.encode(p));

  const metrics: TrlxStepRecord[] = [];
  const evaluations: TrlxEvaluation[] = [];
  const expGen = { ...config.method.gen_kwargs, ...(config.method.gen_experience_kwargs ?? {}) };

  const score = async (
    prompts: number[][],
    outputs: number[][],
    where: string,
  ): Promise<{ scores: TrlxSampleScore[]; rows: SampleRow[] }> => {
    const decoded = text.decode(prompts, outputs);
    const raw = await options.rewardFn(decoded.samples, {
      prompts: decoded.prompts,
      outputs: decoded.outputs,
    });
    const scores = checkScores(raw, decoded.samples, where);
    const rows = decoded.prompts.map((prompt, i) => ({
      prompt,
      completion: decoded.outputs[i],
      reward: total(scores[i]),
    }));
    return { scores, rows };
  };

  const evaluate = async (step: number): Promise<TrlxEvaluation> => {
    const generator = new Generator(mix(config.train.seed, step, 0x6576616c));
    const outputs: number[][] = [];
    for (let i = 0; i < evalIds.length; i += chunk) {
      const part = evalIds.slice(i, i + chunk);
      const r = await policy.generate(part, { ...genOptions(config.method.gen_kwargs), generator });
      outputs.push(...r.tokens);
    }
    const { rows } = await score(evalIds, outputs, `the evaluation after step ${step}`);
    const rewardMean = rows.reduce((a, r) => a + r.reward, 0) / rows.length;
    const evaluation = { step, rewardMean, table: rows };
    evaluations.push(evaluation);
    return evaluation;
  };

  interface CollectionStats {
    records: TrlxStepRecord[];
    rollout: Record<string, number>;
    rows: SampleRow[];
    evals: TrlxEvaluation[];
  }
  let pendingEvals: TrlxEvaluation[] = [];
  let collectionRows: SampleRow[] = [];
  let evalFailure: Error | null = null;
  const log = options.log;
  try {
    if (!resume) {
      const first = await evaluate(0);
      metrics.push({ step: 0, "reward/mean": first.rewardMean });
      pendingEvals.push(first);
    }
    await runOnlineLoop<CollectionStats, TrlxSampleScore[]>({
      name: "train (trlX PPO)",
      label: "ppo",
      stateKey: "trlx",
      trainer,
      batchSize: perCollection,
      batchSizeName: "method.num_rollouts",
      seed: config.train.seed,
      queries,
      generate: async (qs, { generator }) => {
        const out: number[][] = [];
        for (let i = 0; i < qs.length; i += chunk) {
          const r = await policy.generate(qs.slice(i, i + chunk), {
            ...genOptions(expGen),
            generator,
          });
          out.push(...r.tokens);
        }
        return out;
      },
      reward: async (qs, rs, { step }) => {
        const scores: TrlxSampleScore[] = [];
        collectionRows = [];
        for (let i = 0; i < qs.length; i += chunk) {
          const where = `rollout collection ${step} (after trlX step ${trainer.iterCount}), ` +
            `chunk ${i / chunk + 1}, samples ${i}–${Math.min(i + chunk, qs.length) - 1}`;
          const r = await score(qs.slice(i, i + chunk), rs.slice(i, i + chunk), where);
          scores.push(...r.scores);
          collectionRows.push(...r.rows);
        }
        return scores;
      },
      update: async (qs, rs, scores) => {
        for (let i = 0; i < qs.length; i += chunk) {
          await trainer.addChunk(
            qs.slice(i, i + chunk),
            rs.slice(i, i + chunk),
            scores.slice(i, i + chunk),
          );
        }
        const rollout = trainer.finishCollection();
        const evals = pendingEvals;
        pendingEvals = [];
        const records = await trainer.learn(totalSteps, async (record) => {
          const due = record.step % config.train.eval_interval === 0 || record.step >= totalSteps;
          if (!due || evalFailure) return;
          try {
            const e = await evaluate(record.step);
            record["reward/mean"] = e.rewardMean;
            evals.push(e);
          } catch (error) {
            // Finish the collection (so the checkpoint is a clean resume point), then stop.
            evalFailure = error as Error;
          }
        });
        if (records.length > 0) Object.assign(records[0], rollout, { ...records[0] });
        metrics.push(...records);
        return { records, rollout, rows: collectionRows, evals };
      },
      metrics: (stats) => {
        const last = stats.records[stats.records.length - 1] ?? {};
        const line: Record<string, number> = { ...stats.rollout, ...last };
        delete line.step;
        line.iter_count = trainer.iterCount;
        const lastEval = stats.evals[stats.evals.length - 1];
        if (lastEval) line["reward/mean"] = lastEval.rewardMean;
        else delete line["reward/mean"];
        return line;
      },
      distributions: (_stats, scores) => ({ "rollout_scores/dist": scores.map(total) }),
      samples: (_q, _r, _s, stats, count) => stats.rows.slice(0, count),
      tables: (stats) => {
        const out: Record<string, SampleRow[]> = {};
        stats.evals.forEach((e) => out[`eval/completions (step ${e.step})`] = e.table);
        return out;
      },
      config: { trlx: config },
      line: (step, steps, m) => statsLine(step, steps, m, totalSteps),
      progressMetrics: ["rollout_scores/mean", "reward/mean"],
      steps: collections,
      outputDir,
      checkpointEvery: Math.max(1, Math.ceil(config.train.checkpoint_interval / spc)),
      resume,
      model: trainableParameters(policy),
      scheduler: trainer.scheduler,
      log,
      shouldStop: (state) => evalFailure !== null || options.shouldStop?.(state) === true,
      progress: options.progress,
      reportTo: options.reportTo,
      logSamplesEvery: 1,
    });
  } catch (error) {
    trainer.dispose();
    policy.dispose();
    throw error;
  }
  if (evalFailure !== null) {
    trainer.dispose();
    policy.dispose();
    const failure = evalFailure as Error;
    failure.message += ` (the run is checkpointed at step ${trainer.collections}, trlX step ` +
      `${trainer.iterCount}: fix this and resume)`;
    throw failure;
  }

  return {
    config,
    policy,
    tokenizer,
    metrics,
    evaluations,
    generate: async (prompts, opts = {}) => {
      const ids = prompts.map((p) => text.encode(p));
      const gen = {
        ...genOptions(config.method.gen_kwargs),
        ...defined({
          maxNewTokens: opts.maxNewTokens,
          doSample: opts.doSample,
          topK: opts.topK,
          topP: opts.topP,
          temperature: opts.temperature,
        }),
        generator: new Generator(opts.seed ?? 0),
      };
      const outputs: number[][] = [];
      for (let i = 0; i < ids.length; i += chunk) {
        outputs.push(...(await policy.generate(ids.slice(i, i + chunk), gen)).tokens);
      }
      return text.decode(ids, outputs).outputs;
    },
    save: async (dir) => {
      // With PEFT, the adapter in PEFT's layout (as trlX saves a PEFT model); else the model.
      if (lora) await saveLora(lora, dir, config.model.model_path);
      else await policy.save(dir);
      await copyTokenizerFiles(config.tokenizer.tokenizer_path, dir);
    },
    dispose: () => {
      trainer.dispose();
      policy.dispose();
    },
  };
}

/** Tokenizing prompts and decoding samples as trlX's pipeline and `decode` do. */
class TextSide {
  readonly #maxPrompt: number;
  constructor(
    readonly tokenizer: Tokenizer,
    readonly config: TrlxConfig,
    readonly pad: number,
  ) {
    const maxNew = config.method.gen_kwargs.max_new_tokens ?? 0;
    this.#maxPrompt = config.train.seq_length - maxNew;
    if (this.#maxPrompt < 1) {
      throw new Error(
        `train.seq_length ${config.train.seq_length} leaves no room for a prompt after ` +
          `method.gen_kwargs.max_new_tokens ${maxNew}; raise seq_length`,
      );
    }
  }

  encode(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt, {
      addSpecialTokens: this.config.model.model_arch_type === "seq2seq",
      truncation: true,
      maxLength: this.#maxPrompt,
      truncationSide: this.config.tokenizer.truncation_side,
    });
    if (ids.length === 0) throw new Error(`prompt ${JSON.stringify(prompt)} has no tokens`);
    return ids;
  }

  decode(prompts: readonly number[][], outputs: readonly number[][]) {
    const d = (ids: readonly number[]) => this.tokenizer.decode(ids, { skipSpecialTokens: true });
    const p = prompts.map(d), o = outputs.map(d);
    const sep = this.config.model.model_arch_type === "seq2seq" ? TRLX_SEQ2SEQ_SEP : "";
    return { prompts: p, outputs: o, samples: p.map((x, i) => x + sep + o[i]) };
  }
}

/** `ppo step 32/64 | collection 2/4 | rollout_scores/mean … | 5.1 s/collection`. */
function statsLine(
  collection: number,
  collections: number,
  m: Record<string, number>,
  totalSteps: number,
): string {
  const shown = ["rollout_scores/mean", "policy/sqrt_kl", "losses/total_loss", "reward/mean"];
  return [
    `ppo step ${m.iter_count}/${totalSteps}`,
    `collection ${collection}/${collections}`,
    ...shown.filter((k) => m[k] !== undefined).map((k) => `${k} ${formatMetric(m[k])}`),
    `${(m["time/step"] ?? NaN).toFixed(2)} s/collection`,
  ].join(" | ");
}

function checkInputs(options: TrlxTrainOptions): void {
  if (typeof options?.rewardFn !== "function") {
    throw new Error(
      "train: rewardFn must be a function (samples, { prompts, outputs }) => number[]",
    );
  }
  const check = (name: string, xs: unknown) => {
    if (!Array.isArray(xs) || xs.length === 0 || xs.some((x) => typeof x !== "string")) {
      throw new Error(`train: ${name} must be a non-empty array of strings`);
    }
  };
  check("prompts", options.prompts);
  if (options.evalPrompts !== undefined) check("evalPrompts", options.evalPrompts);
}

async function checkRunFolder(config: TrlxConfig, resume: boolean): Promise<void> {
  const dir = config.train.checkpoint_dir;
  if (resume) {
    const from = config.train.resume_from_checkpoint!;
    const same = [dir, join(dir, ONLINE_CHECKPOINT_DIR)].map((p) => p.replace(/\/+$/, ""));
    if (!same.includes(from.replace(/\/+$/, ""))) {
      throw new Error(
        `train.resume_from_checkpoint is ${from} but train.checkpoint_dir is ${dir}; a run ` +
          `resumes in its own folder: set checkpoint_dir to the folder of the run to resume`,
      );
    }
    return;
  }
  if (await hasCheckpoint(join(dir, ONLINE_CHECKPOINT_DIR))) {
    throw new Error(
      `train.checkpoint_dir ${dir} already holds a run; set train.resume_from_checkpoint to ` +
        `${dir} to continue it, or choose another checkpoint_dir (nothing was overwritten)`,
    );
  }
}

function checkScores(
  raw: unknown,
  samples: readonly string[],
  where: string,
): TrlxSampleScore[] {
  const n = samples.length;
  if (!Array.isArray(raw) || raw.length !== n) {
    const got = Array.isArray(raw) ? `${raw.length} scores` : `${typeof raw} ${String(raw)}`;
    throw new Error(
      `train: rewardFn returned ${got} for the ${n} samples of ${where}; return one number ` +
        `per sample (or one list of per-token numbers per sample)`,
    );
  }
  raw.forEach((s, i) => {
    const values = Array.isArray(s) ? s : [s];
    const bad = values.find((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad !== undefined || values.length === 0) {
      throw new Error(
        `train: rewardFn returned ${
          values.length === 0 ? "an empty list" : String(bad)
        } for sample ${i} of ${where} (${
          JSON.stringify(samples[i])
        }); rewards must be finite numbers`,
      );
    }
  });
  return raw as TrlxSampleScore[];
}

function total(s: TrlxSampleScore): number {
  return typeof s === "number" ? s : s.reduce((a, b) => a + b, 0);
}

/** trlX's `gen_kwargs` in the generator's names (trlX always samples unless told otherwise). */
export function genOptions(g: TrlxGenKwargs): GenerateOptions {
  return defined({
    maxNewTokens: g.max_new_tokens,
    minNewTokens: g.min_new_tokens,
    minLength: g.min_length,
    doSample: g.do_sample ?? true,
    temperature: g.temperature,
    topK: g.top_k,
    topP: g.top_p,
    eosTokenId: g.eos_token_id,
    padTokenId: g.pad_token_id,
    useCache: g.use_cache,
  });
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function mix(seed: number, step: number, salt: number): number {
  return (Math.imul(seed ^ salt, 0x27d4eb2d) + Math.imul(step + 1, 0x165667b1)) >>> 0;
}

const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "spiece.model",
  "vocab.json",
  "merges.txt",
  "added_tokens.json",
];

async function copyTokenizerFiles(from: string, dir: string): Promise<void> {
  const files = await openModel(from);
  for (const name of TOKENIZER_FILES) {
    const path = await files.file(name, { optional: true });
    if (path) await Deno.copyFile(path, join(dir, name));
  }
}
