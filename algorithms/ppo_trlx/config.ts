/**
 * trlX's configuration (`TRLConfig`, TRLX `trlx/data/configs.py`, `trlx/data/default_configs.py`,
 * `trlx/models/modeling_ppo.py`'s `PPOConfig`) in trlX's own layout and snake_case names, so a
 * config pasted from a trlX script or tutorial reads the same here:
 *
 * ```
 * { train, model, tokenizer, optimizer, scheduler, method }
 * ```
 *
 * Fields left out take the dataclass defaults, and the fields trlX requires take the values of
 * `default_ppo_config()`, as `default_ppo_config().evolve(...)` would (nested dicts such as
 * `gen_kwargs` merge key by key). One exception keeps a config from breaking the way `evolve`
 * would break it: when `optimizer.name` (or `scheduler.name`) differs from the default's, its
 * `kwargs` start empty rather than from AdamW's (or cosine annealing's) kwargs.
 *
 * Validation is stricter than trlX, which checks nothing: unknown keys are rejected by name
 * with the closest valid key suggested (`method.init_kl_coeff` → `init_kl_coef`), types and
 * ranges are checked, and values trlX would silently ignore (a misspelt `scale_reward`, a
 * `tracker` other than wandb/tensorboard/None) are errors.
 *
 * @module
 */

import { z } from "zod";
import { closestName } from "../../common/suggest.ts";

/** `train`: the job (trlX's `TrainConfig`). */
export interface TrlxTrainConfig {
  /** Optimizer steps of the whole run (training stops at this many). */
  total_steps: number;
  /** Longest prompt, in tokens (the tokenizer's max length for prompts). */
  seq_length: number;
  /** Passes over rollout collections. */
  epochs: number;
  /** Rollouts per optimizer step (PPO minibatch size). */
  batch_size: number;
  /** Steps between checkpoints. */
  checkpoint_interval: number;
  /** Steps between evaluations. */
  eval_interval: number;
  /** trlX's pipeline class: only `PromptPipeline`. */
  pipeline: "PromptPipeline";
  /** trlX's trainer class: only `AcceleratePPOTrainer`. */
  trainer: "AcceleratePPOTrainer";
  /** Extra trainer arguments. */
  trainer_kwargs: Record<string, unknown>;
  /** Tracker project name. */
  project_name: string;
  /** Run name (default: derived from the script and model). */
  run_name: string | null;
  /** Tracker entity. */
  entity_name: string | null;
  /** Tracker group. */
  group_name: string | null;
  /** Where checkpoints go. */
  checkpoint_dir: string;
  /** Where rollouts are logged (null: not logged). */
  rollout_logging_dir: string | null;
  /** Keep the checkpoint with the best eval `reward/mean`. */
  save_best: boolean;
  /** Save the optimizer state with checkpoints. */
  save_optimizer: boolean;
  /** A checkpoint to resume from. */
  resume_from_checkpoint: string | null;
  /** Experiment tracker (metrics are always written locally). */
  tracker: "wandb" | "tensorboard" | null;
  /** Tracker log folder. */
  logging_dir: string | null;
  /** Tracker tags. */
  tags: string[];
  /** Random seed. */
  seed: number;
  /** Samples per forward pass (must divide `batch_size`; null: `batch_size`). */
  minibatch_size: number | null;
}

/** `model` (trlX's `ModelConfig`). */
export interface TrlxModelConfig {
  /** A Hub id or a local folder. */
  model_path: string;
  /** `causal` (GPT-2, Llama, …) or `seq2seq` (T5). */
  model_arch_type: "causal" | "seq2seq";
  /**
   * Trainable top layers (trlX's meaning: −1 trains everything; for seq2seq a negative n other
   * than −1 freezes the first |n| decoder blocks). With n > 0 the frozen layers are shared with
   * the reference model.
   */
  num_layers_unfrozen: number;
  /** A PEFT config, e.g. `{ peft_type: "LORA", r: 8, lora_alpha: 32, lora_dropout: 0.1 }`. */
  peft_config: TrlxPeftConfig | null;
  /** Overrides of the model's config.json. */
  model_extra_configs: Record<string, unknown>;
}

/** A LoRA config in PEFT's names (the only PEFT type implemented). */
export interface TrlxPeftConfig {
  /** Must be `LORA`. */
  peft_type: "LORA";
  /** Rank. */
  r: number;
  /** Scale numerator (scale = lora_alpha / r). */
  lora_alpha?: number;
  /** Dropout on the adapter input. */
  lora_dropout?: number;
  /** Which linear layers get adapters. */
  target_modules?: string[] | string | null;
  /** PEFT's bias mode (only `none`). */
  bias?: "none";
  /** PEFT's task type (informational). */
  task_type?: string;
  /** Scale by lora_alpha/√r (rsLoRA). */
  use_rslora?: boolean;
  /** PEFT's inference flag (ignored). */
  inference_mode?: boolean;
  /** PEFT's Conv1D flag (GPT-2 layers are handled either way). */
  fan_in_fan_out?: boolean;
}

/** `tokenizer` (trlX's `TokenizerConfig`). */
export interface TrlxTokenizerConfig {
  /** A Hub id or a local folder. */
  tokenizer_path: string;
  /** Padding side of prompts. */
  padding_side: "left" | "right";
  /** Which end truncation cuts. */
  truncation_side: "left" | "right";
  /** Extra tokenizer arguments. */
  tokenizer_extra_configs: Record<string, unknown>;
}

/** Optimizer names trlX knows. */
export const TRLX_OPTIMIZERS = ["adam", "adamw", "adam_8bit_bnb", "adamw_8bit_bnb", "sgd"] as const;
/** Scheduler names trlX knows. */
export const TRLX_SCHEDULERS = ["cosine_annealing", "linear"] as const;

/** `optimizer` (trlX's `OptimizerConfig`): a torch optimizer by name, with its kwargs. */
export interface TrlxOptimizerConfig {
  /** One of {@link TRLX_OPTIMIZERS}. */
  name: (typeof TRLX_OPTIMIZERS)[number];
  /** torch's keyword arguments (`lr`, `betas`, `eps`, `weight_decay`, …). */
  kwargs: Record<string, unknown>;
}

/** `scheduler` (trlX's `SchedulerConfig`): a torch LR scheduler by name, with its kwargs. */
export interface TrlxSchedulerConfig {
  /** One of {@link TRLX_SCHEDULERS}. */
  name: (typeof TRLX_SCHEDULERS)[number];
  /** torch's keyword arguments (`T_max`, `eta_min`; `start_factor`, `end_factor`, `total_iters`). */
  kwargs: Record<string, unknown>;
}

/** Generation settings, in Hugging Face `generate` names. */
export interface TrlxGenKwargs {
  /** Most new tokens per sample. */
  max_new_tokens?: number;
  /** EOS is blocked until this many new tokens. */
  min_new_tokens?: number;
  /** EOS is blocked until the sequence is this long. */
  min_length?: number;
  /** Sample (trlX always sets true unless told otherwise). */
  do_sample?: boolean;
  /** Softmax temperature. */
  temperature?: number;
  /** Keep the k most likely tokens (0: all). */
  top_k?: number;
  /** Nucleus mass (1: all). */
  top_p?: number;
  /** Stop token (default: the tokenizer's EOS). */
  eos_token_id?: number | null;
  /** Padding token (default: the tokenizer's). */
  pad_token_id?: number;
  /** Reuse cached keys and values. */
  use_cache?: boolean;
}

/** `method` (trlX's `PPOConfig`). */
export interface TrlxMethodConfig {
  /** `PPOConfig` (case-insensitive, as trlX's registry). */
  name: string;
  /** Passes over each rollout collection. */
  ppo_epochs: number;
  /** Rollouts collected per PPO epoch. */
  num_rollouts: number;
  /** Prompts per generation chunk. */
  chunk_size: number;
  /** Initial KL coefficient β₀. */
  init_kl_coef: number;
  /** KL target of the adaptive controller; null keeps β fixed. */
  target: number | null;
  /** Horizon of the adaptive controller. */
  horizon: number;
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  lam: number;
  /** Policy ratio clip. */
  cliprange: number;
  /** Value clip. */
  cliprange_value: number;
  /** Value-loss weight. */
  vf_coef: number;
  /** `running`, `ref`, or `ignored`/null (no scaling). */
  scale_reward: "ignored" | "running" | "ref" | null;
  /** Reference score mean (null: from the first rollout chunk). */
  ref_mean: number | null;
  /** Reference score std (null: from the first rollout chunk). */
  ref_std: number | null;
  /** Clip scores to ±this (0 or null: no clipping). */
  cliprange_reward: number | null;
  /** Generation settings for rollouts and evaluation. */
  gen_kwargs: TrlxGenKwargs;
  /** Generation settings for rollouts only, when they differ. */
  gen_experience_kwargs: TrlxGenKwargs | null;
  /** Layers of a separate value branch (0: a value head only). */
  num_value_layers_unfrozen: number;
}

/** A whole trlX config, every field resolved. */
export interface TrlxConfig {
  /** The job. */
  train: TrlxTrainConfig;
  /** The policy. */
  model: TrlxModelConfig;
  /** The tokenizer. */
  tokenizer: TrlxTokenizerConfig;
  /** The optimizer. */
  optimizer: TrlxOptimizerConfig;
  /** The learning-rate schedule. */
  scheduler: TrlxSchedulerConfig;
  /** PPO. */
  method: TrlxMethodConfig;
}

/** What a user may pass: any subset of the sections and their fields. */
export type TrlxConfigInput = {
  [S in keyof TrlxConfig]?: Partial<TrlxConfig[S]>;
};

/**
 * trlX's `default_ppo_config()`: GPT-2 IMDB PPO, AdamW 3e-5 with betas (0.9, 0.95), a cosine
 * schedule that stays at 3e-5, fixed β = 0.001, `vf_coef` 1, 128 rollouts per collection.
 */
export function defaultPpoConfig(): TrlxConfig {
  return {
    train: {
      total_steps: 10000,
      seq_length: 1024,
      epochs: 100,
      batch_size: 32,
      checkpoint_interval: 10000,
      eval_interval: 100,
      pipeline: "PromptPipeline",
      trainer: "AcceleratePPOTrainer",
      trainer_kwargs: {},
      project_name: "trlx",
      run_name: null,
      entity_name: null,
      group_name: null,
      checkpoint_dir: "ckpts",
      rollout_logging_dir: null,
      save_best: true,
      save_optimizer: true,
      resume_from_checkpoint: null,
      tracker: "wandb",
      logging_dir: null,
      tags: [],
      seed: 1000,
      minibatch_size: null,
    },
    model: {
      model_path: "lvwerra/gpt2-imdb",
      model_arch_type: "causal",
      num_layers_unfrozen: 2,
      peft_config: null,
      model_extra_configs: {},
    },
    tokenizer: {
      tokenizer_path: "gpt2",
      padding_side: "left",
      truncation_side: "right",
      tokenizer_extra_configs: {},
    },
    optimizer: {
      name: "adamw",
      kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
    },
    scheduler: { name: "cosine_annealing", kwargs: { T_max: 1e12, eta_min: 3e-5 } },
    method: {
      name: "PPOConfig",
      ppo_epochs: 4,
      num_rollouts: 128,
      chunk_size: 128,
      init_kl_coef: 0.001,
      target: null,
      horizon: 10000,
      gamma: 1,
      lam: 0.95,
      cliprange: 0.2,
      cliprange_value: 0.2,
      vf_coef: 1,
      scale_reward: "ignored",
      ref_mean: null,
      ref_std: null,
      cliprange_reward: 10,
      gen_kwargs: { max_new_tokens: 40, top_k: 0, top_p: 1.0, do_sample: true },
      gen_experience_kwargs: null,
      num_value_layers_unfrozen: 0,
    },
  };
}

// ---- schemas (every field optional: defaults are merged in afterwards) ----

const int = (min: number) => z.number().int().min(min);
const positive = z.number().positive();
const record = z.record(z.string(), z.unknown());
const side = z.enum(["left", "right"]);

const trainSchema = z.strictObject({
  total_steps: int(1),
  seq_length: int(1),
  epochs: int(1),
  batch_size: int(1),
  checkpoint_interval: int(1),
  eval_interval: int(1),
  pipeline: z.literal("PromptPipeline"),
  trainer: z.literal("AcceleratePPOTrainer"),
  trainer_kwargs: record,
  project_name: z.string(),
  run_name: z.string().nullable(),
  entity_name: z.string().nullable(),
  group_name: z.string().nullable(),
  checkpoint_dir: z.string().min(1),
  rollout_logging_dir: z.string().nullable(),
  save_best: z.boolean(),
  save_optimizer: z.boolean(),
  resume_from_checkpoint: z.string().nullable(),
  tracker: z.enum(["wandb", "tensorboard"]).nullable(),
  logging_dir: z.string().nullable(),
  tags: z.array(z.string()),
  seed: z.number().int(),
  minibatch_size: int(1).nullable(),
}).partial();

const peftSchema = z.strictObject({
  peft_type: z.literal("LORA"),
  r: int(1),
  lora_alpha: positive.optional(),
  lora_dropout: z.number().min(0).lt(1).optional(),
  target_modules: z.union([z.array(z.string()), z.string()]).nullable().optional(),
  bias: z.literal("none").optional(),
  task_type: z.string().optional(),
  use_rslora: z.boolean().optional(),
  inference_mode: z.boolean().optional(),
  fan_in_fan_out: z.boolean().optional(),
});

const modelSchema = z.strictObject({
  model_path: z.string().min(1),
  model_arch_type: z.enum(["causal", "seq2seq"]),
  num_layers_unfrozen: z.number().int(),
  peft_config: peftSchema.nullable(),
  model_extra_configs: record,
}).partial();

const tokenizerSchema = z.strictObject({
  tokenizer_path: z.string().min(1),
  padding_side: side,
  truncation_side: side,
  tokenizer_extra_configs: record,
}).partial();

const optimizerSchema = z.strictObject({
  name: z.enum(TRLX_OPTIMIZERS),
  kwargs: record,
}).partial();

const schedulerSchema = z.strictObject({
  name: z.enum(TRLX_SCHEDULERS),
  kwargs: record,
}).partial();

const genKwargsSchema = z.strictObject({
  max_new_tokens: int(1),
  min_new_tokens: int(0),
  min_length: int(0),
  do_sample: z.boolean(),
  temperature: z.number().min(0),
  top_k: int(0),
  top_p: z.number().gt(0).max(1),
  eos_token_id: int(0).nullable(),
  pad_token_id: int(0),
  use_cache: z.boolean(),
}).partial();

const methodSchema = z.strictObject({
  name: z.string().refine((n) => n.toLowerCase() === "ppoconfig", {
    message: 'only "PPOConfig" is implemented (trlX\'s ILQL and SFT methods are not)',
  }),
  ppo_epochs: int(1),
  num_rollouts: int(1),
  chunk_size: int(1),
  init_kl_coef: z.number().min(0),
  target: positive.nullable(),
  horizon: positive,
  gamma: z.number().min(0).max(1),
  lam: z.number().min(0).max(1),
  cliprange: positive,
  cliprange_value: positive,
  vf_coef: z.number().min(0),
  scale_reward: z.enum(["ignored", "running", "ref"]).nullable(),
  ref_mean: z.number().nullable(),
  ref_std: positive.nullable(),
  cliprange_reward: z.number().min(0).nullable(),
  gen_kwargs: genKwargsSchema,
  gen_experience_kwargs: genKwargsSchema.nullable(),
  num_value_layers_unfrozen: int(0),
}).partial();

const configSchema = z.strictObject({
  train: trainSchema,
  model: modelSchema,
  tokenizer: tokenizerSchema,
  optimizer: optimizerSchema,
  scheduler: schedulerSchema,
  method: methodSchema,
}).partial();

/** One problem found in a config. */
export interface TrlxConfigIssue {
  /** Dotted path of the field (`method.init_kl_coef`). */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** A config trlX's layout does not accept; `issues` lists every problem found. */
export class TrlxConfigError extends Error {
  /**
   * Lists every problem in one message.
   *
   * @param issues Every problem, each with its field's path.
   */
  constructor(readonly issues: TrlxConfigIssue[]) {
    super(
      `trlX config: ${issues.length} problem${issues.length === 1 ? "" : "s"}:\n` +
        issues.map((i) => `  ${i.path || "(config)"}: ${i.message}`).join("\n"),
    );
    this.name = "TrlxConfigError";
  }
}

/**
 * Validates a trlX config and fills every missing field with trlX's defaults (see the module
 * notes for the merge rule). The sections' kwargs are checked against the named optimizer or
 * scheduler by `trlxOptimizer` / `trlxScheduler` (`./optim.ts`), and here too.
 *
 * @example
 * ```ts
 * import { parseTrlxConfig } from "./config.ts";
 * const config = parseTrlxConfig({
 *   model: { model_path: "google/flan-t5-small", model_arch_type: "seq2seq" },
 *   tokenizer: { tokenizer_path: "google/flan-t5-small", padding_side: "right" },
 *   method: { init_kl_coef: 0.001, gen_kwargs: { max_new_tokens: 32, top_k: 10 } },
 * });
 * config.method.vf_coef; // 1 (trlX's default)
 * ```
 *
 * @param input The config, in trlX's snake_case names (e.g. parsed from JSON or YAML).
 * @throws {TrlxConfigError} Naming every unknown key (with the closest valid one), wrong type
 *   or out-of-range value.
 */
export function parseTrlxConfig(input: unknown = {}): TrlxConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new TrlxConfigError(describeIssues(parsed.error.issues, input));
  const user = parsed.data as TrlxConfigInput;
  const config = mergeDefaults(defaultPpoConfig(), user);
  const issues = [...crossFieldIssues(config), ...kwargsIssues(config)];
  if (issues.length > 0) throw new TrlxConfigError(issues);
  return config;
}

function mergeDefaults(base: TrlxConfig, user: TrlxConfigInput): TrlxConfig {
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, given] of Object.entries(user)) {
    if (given === undefined) continue;
    const fields = given as Record<string, unknown>;
    const target = out[section];
    const renamed = (section === "optimizer" || section === "scheduler") &&
      fields.name !== undefined && fields.name !== target.name;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      target[key] = key === "kwargs" && renamed
        ? { ...(value as object) }
        : mergeValue(target[key], value);
    }
    if (renamed && fields.kwargs === undefined) target.kwargs = {};
  }
  return out as unknown as TrlxConfig;
}

/** Dicts merge key by key (as trlX's `evolve`); everything else replaces. */
function mergeValue(base: unknown, value: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(value)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(value)) merged[k] = mergeValue(base[k], v);
    return merged;
  }
  return structuredClone(value);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function crossFieldIssues(c: TrlxConfig): TrlxConfigIssue[] {
  const issues: TrlxConfigIssue[] = [];
  const mb = c.train.minibatch_size;
  if (mb !== null && c.train.batch_size % mb !== 0) {
    issues.push({
      path: "train.minibatch_size",
      message: `${mb} must divide train.batch_size = ${c.train.batch_size}`,
    });
  }
  if (c.method.scale_reward === "ref" && c.method.ref_mean !== null && c.method.ref_std === null) {
    issues.push({
      path: "method.ref_std",
      message:
        'scale_reward "ref" divides by ref_std, but only ref_mean is set; set ref_std too, ' +
        "or leave both null to take them from the first rollout chunk",
    });
  }
  return issues;
}

// ---- optimizer and scheduler kwargs, by name (torch 1.13's signatures) ----

const adamKwargs = z.strictObject({
  lr: z.number().min(0),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]),
  eps: z.number().min(0),
  weight_decay: z.number().min(0),
  amsgrad: z.literal(false),
  maximize: z.literal(false),
  // Implementation switches of torch with no effect on the math: accepted, ignored.
  foreach: z.boolean().nullable(),
  capturable: z.boolean(),
  differentiable: z.boolean(),
  fused: z.boolean().nullable(),
}).partial();

const sgdKwargs = z.strictObject({
  lr: z.number().min(0),
  momentum: z.number().min(0),
  dampening: z.number(),
  weight_decay: z.number().min(0),
  nesterov: z.boolean(),
  maximize: z.literal(false),
  foreach: z.boolean().nullable(),
  differentiable: z.boolean(),
}).partial().required({ lr: true });

const cosineKwargs = z.strictObject({
  T_max: positive,
  eta_min: z.number().min(0),
  last_epoch: z.literal(-1),
  verbose: z.boolean(),
}).partial().required({ T_max: true });

const linearKwargs = z.strictObject({
  start_factor: z.number().gt(0).max(1),
  end_factor: z.number().min(0).max(1),
  total_iters: int(0),
  last_epoch: z.literal(-1),
  verbose: z.boolean(),
}).partial();

const KWARGS_SCHEMAS = {
  optimizer: { adam: adamKwargs, adamw: adamKwargs, sgd: sgdKwargs },
  scheduler: { cosine_annealing: cosineKwargs, linear: linearKwargs },
} as const;

/**
 * The kwargs of a trlX optimizer or scheduler, checked against torch's signature for that name.
 *
 * @param section `optimizer` or `scheduler`.
 * @param name The optimizer or scheduler name.
 * @param kwargs Its kwargs, in torch's names.
 * @throws {TrlxConfigError} For an unknown name, an unknown key (with the closest valid one) or
 *   a bad value.
 */
export function checkTrlxKwargs(
  section: "optimizer" | "scheduler",
  name: string,
  kwargs: Record<string, unknown>,
): Record<string, unknown> {
  const issues = kwargsProblems(section, name, kwargs);
  if (issues.length > 0) throw new TrlxConfigError(issues);
  return kwargs;
}

function kwargsProblems(
  section: "optimizer" | "scheduler",
  name: string,
  kwargs: Record<string, unknown>,
): TrlxConfigIssue[] {
  if (section === "optimizer" && (name === "adam_8bit_bnb" || name === "adamw_8bit_bnb")) {
    return [{
      path: "optimizer.name",
      message: `"${name}" needs bitsandbytes' 8-bit CUDA kernels, which do not exist here; ` +
        `use "${name.replace("_8bit_bnb", "")}" (the same update in 32-bit)`,
    }];
  }
  const schemas: Record<string, z.ZodType> = KWARGS_SCHEMAS[section];
  const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
  if (!schema) {
    const valid = section === "optimizer" ? TRLX_OPTIMIZERS : TRLX_SCHEDULERS;
    return [{ path: `${section}.name`, message: `"${name}" is not one of ${valid.join(", ")}` }];
  }
  const r = schema.safeParse(kwargs ?? {});
  return r.success ? [] : describeIssues(r.error.issues, kwargs, `${section}.kwargs`, name);
}

function kwargsIssues(c: TrlxConfig): TrlxConfigIssue[] {
  return [
    ...kwargsProblems("optimizer", c.optimizer.name, c.optimizer.kwargs),
    ...kwargsProblems("scheduler", c.scheduler.name, c.scheduler.kwargs),
  ];
}

// ---- error messages ----

type ZodIssue = z.core.$ZodIssue;

function describeIssues(
  issues: ZodIssue[],
  input: unknown,
  prefix = "",
  kwargsOf?: string,
): TrlxConfigIssue[] {
  const out: TrlxConfigIssue[] = [];
  for (const issue of issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      const valid = kwargsOf === undefined
        ? validKeys(prefix, issue.path.map(String))
        : kwargsKeys(prefix.split(".")[0] as "optimizer" | "scheduler", kwargsOf);
      for (const key of issue.keys) {
        const guess = closestName(key, valid);
        out.push({
          path: path ? `${path}.${key}` : key,
          message: `unknown key` + (kwargsOf ? ` for ${kwargsOf}` : "") +
            (guess ? `; did you mean ${guess}?` : "") + ` (valid keys: ${valid.join(", ")})`,
        });
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    const got = value === undefined ? "" : `, got ${JSON.stringify(value)}`;
    out.push({ path, message: `${humanMessage(issue)}${got}` });
  }
  return out;
}

function humanMessage(issue: ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.expected === "nonoptional") return "is required (torch has no default for it)";
      return issue.expected === "int" ? "must be an integer" : `must be ${article(issue.expected)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.origin === "array"
        ? `must hold at least ${issue.minimum} items`
        : `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `must hold at most ${issue.maximum} items`
        : `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  if (expected === "null") return "null";
  if (expected === "tuple") return "a pair [a, b]";
  return `${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}`;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let x = input;
  for (const key of path) {
    if (x === null || typeof x !== "object") return undefined;
    x = (x as Record<PropertyKey, unknown>)[key];
  }
  return x;
}

function kwargsKeys(section: "optimizer" | "scheduler", name: string): string[] {
  const schemas = KWARGS_SCHEMAS[section] as Record<string, z.ZodObject>;
  return Object.keys(schemas[name].shape);
}

/** The keys a strict object at `path` accepts. */
function validKeys(prefix: string, path: string[]): string[] {
  const where = [prefix, ...path].filter(Boolean).join(".");
  const shapes: Record<string, readonly string[]> = {
    "": Object.keys(configSchema.shape),
    "train": Object.keys(trainSchema.shape),
    "model": Object.keys(modelSchema.shape),
    "model.peft_config": Object.keys(peftSchema.shape),
    "tokenizer": Object.keys(tokenizerSchema.shape),
    "optimizer": Object.keys(optimizerSchema.shape),
    "scheduler": Object.keys(schedulerSchema.shape),
    "method": Object.keys(methodSchema.shape),
    "method.gen_kwargs": Object.keys(genKwargsSchema.shape),
    "method.gen_experience_kwargs": Object.keys(genKwargsSchema.shape),
  };
  if (where in shapes) return [...shapes[where]];
  return [];
}
