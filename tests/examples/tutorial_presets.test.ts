/**
 * Every `--preset full` holds its tutorial's settings. Each table row is one value as the
 * tutorial writes it (the notebook cell or script line quoted in `source`), beside where the
 * preset keeps it; a preset that drifts from its tutorial fails here, naming the value and the
 * source.
 */

import assert from "node:assert/strict";
import { hhPreset } from "../../examples/hh/presets.ts";
import { parseHhDpoArgs } from "../../examples/hh_dpo.ts";
import { imdbPreset } from "../../examples/imdb/presets.ts";

/** One tutorial value: where the preset holds it, what the tutorial says, and where it says it. */
interface Expected {
  /** The preset field, as a path. */
  field: string;
  /** The value the preset holds. */
  actual: unknown;
  /** The value the tutorial sets. */
  expected: unknown;
  /** The tutorial's words (cell, script line or documented default) for it. */
  source: string;
}

function check(tutorial: string, rows: readonly Expected[]): void {
  const wrong = rows.filter((r) => JSON.stringify(r.actual) !== JSON.stringify(r.expected));
  assert.deepEqual(
    wrong.map((r) =>
      `${tutorial}: ${r.field} = ${JSON.stringify(r.actual)}, but the tutorial sets ` +
      `${JSON.stringify(r.expected)} (${r.source})`
    ),
    [],
  );
}

// yandexdataschool/nlp_course, week08_rlhf/practice.ipynb (trl==0.7.4, transformers==4.33.1,
// peft==0.5.0), after Ilya Boytsov's Oxford LLMs workshop notebook.
const IMDB_NOTEBOOK = "nlp_course week08_rlhf/practice.ipynb";

Deno.test("imdb full preset = the RLHF seminar notebook (reward model, best-of-n, PPO with LoRA)", () => {
  const p = imdbPreset("full");
  const rt = p.rewardTraining;
  const nb = (cell: string) => `${IMDB_NOTEBOOK}: ${cell}`;
  const trl = (field: string) =>
    `TRL 0.7.4 PPOConfig default ${field} (left unset by the notebook)`;
  // deno-fmt-ignore
  check("imdb", [
    // Stage 1: the reward model.
    { field: "rewardTraining.batchSize", actual: rt.batchSize, expected: 32, source: nb("RewardConfig(per_device_train_batch_size=32)") },
    { field: "rewardTraining.learningRate", actual: rt.learningRate, expected: 1.41e-5, source: nb("RewardConfig(learning_rate=1.41e-5)") },
    { field: "rewardTraining.maxSteps", actual: rt.maxSteps, expected: 1000, source: nb("RewardConfig(max_steps=1_000)") },
    { field: "rewardTraining.loggingSteps", actual: rt.loggingSteps, expected: 50, source: nb("RewardConfig(logging_steps=50)") },
    { field: "rewardTraining.trainPairs", actual: rt.trainPairs, expected: "all", source: nb("IMDBPairwiseDataset: all possible pairs") },
    { field: "rewardTraining.warmupRatio", actual: rt.warmupRatio, expected: 0, source: "transformers 4.33 TrainingArguments default warmup_ratio/warmup_steps 0" },
    { field: "rewardTraining.weightDecay", actual: rt.weightDecay, expected: 0, source: "transformers 4.33 TrainingArguments default weight_decay 0.0" },
    { field: "rewardTraining.gradientCheckpointing", actual: rt.gradientCheckpointing, expected: true, source: nb("RewardConfig(gradient_checkpointing=True)") },
    { field: "rewardTraining.maxLength", actual: rt.maxLength, expected: 512, source: nb("reward_tokenizer(..., truncation=True): distilbert-base-cased's 512") },
    { field: "targetLabel", actual: p.targetLabel, expected: "positive", source: nb("TARGET_LABEL, the user's choice; the tutorial aligns to positive reviews") },
    // Reward-guided generation.
    { field: "bestOfNSamples", actual: p.bestOfNSamples, expected: 16, source: nb("generate N=16 samples, then select the one with the highest reward") },
    { field: "bestOfNSampling.responseLength", actual: p.bestOfNSampling.responseLength, expected: { min: 50, max: 51 }, source: nb("main_model.generate(**inputs, max_new_tokens=50, do_sample=True)") },
    { field: "bestOfNSampling.topK", actual: p.bestOfNSampling.topK, expected: 50, source: "transformers 4.33 generate default top_k=50 (the cell passes only do_sample)" },
    { field: "bestOfNSampling.topP", actual: p.bestOfNSampling.topP, expected: 1.0, source: "transformers 4.33 generate default top_p=1.0" },
    { field: "bestOfNPrompts.length >= 5", actual: p.bestOfNPrompts.length >= 5, expected: true, source: nb("Find at least 5 neutral prompts") },
    // Stage 2: PPO with LoRA.
    { field: "policy", actual: p.policy, expected: "lvwerra/gpt2-imdb", source: nb("AutoModelForCausalLMWithValueHead.from_pretrained(\"lvwerra/gpt2-imdb\")") },
    { field: "minReviewChars", actual: p.minReviewChars, expected: 200, source: nb("imdb.filter(lambda row: len(row['text']) > 200)") },
    { field: "queryLength", actual: p.queryLength, expected: { min: 2, max: 8 }, source: nb("trl.core.LengthSampler(2, 8)") },
    { field: "lora.r", actual: p.lora?.r, expected: 32, source: nb("peft.LoraConfig(r=32)") },
    { field: "lora.alpha", actual: p.lora?.alpha, expected: 32, source: nb("peft.LoraConfig(lora_alpha=32)") },
    { field: "lora.dropout", actual: p.lora?.dropout, expected: 0, source: nb("peft.LoraConfig(lora_dropout=0.0)") },
    { field: "lora.targetModules", actual: p.lora?.targetModules, expected: ["c_attn"], source: "peft 0.5.0 default LoRA targets for gpt2: c_attn" },
    { field: "ppo.learningRate", actual: p.ppo.learningRate, expected: 1.41e-5, source: nb("PPOConfig(learning_rate=1.41e-5)") },
    { field: "ppo.batchSize", actual: p.ppo.batchSize, expected: 64, source: nb("PPOConfig(batch_size=64)") },
    { field: "ppo.ppoEpochs", actual: p.ppo.ppoEpochs, expected: 4, source: nb("PPOConfig(ppo_epochs=4)") },
    { field: "ppo.gradientAccumulationSteps", actual: p.ppo.gradientAccumulationSteps, expected: 1, source: nb("PPOConfig(gradient_accumulation_steps=1)") },
    { field: "ppo.miniBatchSize", actual: p.ppo.miniBatchSize, expected: 1, source: trl("mini_batch_size 1") },
    { field: "ppo.initKlCoef", actual: p.ppo.initKlCoef ?? 0.2, expected: 0.2, source: trl("init_kl_coef 0.2") },
    { field: "ppo.target", actual: p.ppo.target ?? 6, expected: 6, source: trl("target 6") },
    { field: "ppo.vfCoef", actual: p.ppo.vfCoef ?? 0.1, expected: 0.1, source: trl("vf_coef 0.1") },
    { field: "sampling.topK", actual: p.sampling.topK, expected: 0, source: nb("generation_kwargs top_k=0") },
    { field: "sampling.topP", actual: p.sampling.topP, expected: 1.0, source: nb("generation_kwargs top_p=1.0") },
    { field: "sampling.responseLength", actual: p.sampling.responseLength, expected: { min: 128, max: 129 }, source: nb("generation_kwargs max_new_tokens=128") },
    { field: "sampling.stopAtEos", actual: p.sampling.stopAtEos, expected: true, source: nb("generation_kwargs min_length=-1, pad_token_id=eos: EOS ends a sample") },
    { field: "steps", actual: p.steps, expected: 50, source: nb("max_steps = 50") },
    { field: "rewardBatchSize", actual: p.rewardBatchSize, expected: 64, source: nb("compute_reward(batch['response']): the step's 64 texts in one batch") },
  ]);
});

// The hh-rlhf lesson's reward model and PPO stages are TRL 0.7.4's example scripts (read at the
// v0.7.4 tag); its GRPO stage is TRL 1.9's GRPOConfig as it comes.
const TRL_RM = "TRL 0.7.4 examples/scripts/reward_modeling.py";
const TRL_PPO = "TRL 0.7.4 examples/scripts/ppo.py";
const GRPO_DEFAULT = "TRL 1.9.0 GRPOConfig default";

Deno.test("hh full presets = TRL's reward_modeling.py and ppo.py (0.7.4) and GRPOConfig (1.9)", () => {
  const p = hhPreset("full");
  const rm = (line: string) => `${TRL_RM}: ${line}`;
  const ppo = (line: string) => `${TRL_PPO}: ${line}`;
  // deno-fmt-ignore
  check("hh", [
    // hh_reward_model.ts
    { field: "rm.base", actual: p.rm.base, expected: "facebook/opt-350m", source: rm('model_name: str = "facebook/opt-350m"') },
    { field: "data", actual: p.data, expected: "hh-rlhf", source: rm('dataset_name: str = "Anthropic/hh-rlhf"') },
    { field: "rm.trainExamples", actual: p.rm.trainExamples, expected: null, source: rm('load_dataset(args.dataset_name, split="train"): every pair') },
    { field: "rm.maxLength", actual: p.rm.maxLength, expected: 512, source: rm("RewardConfig(max_length=512), pairs longer filtered out") },
    { field: "rm.batchSize", actual: p.rm.batchSize, expected: 64, source: rm("RewardConfig(per_device_train_batch_size=64)") },
    { field: "rm.gradientAccumulationSteps", actual: p.rm.gradientAccumulationSteps, expected: 16, source: rm("RewardConfig(gradient_accumulation_steps=16)") },
    { field: "rm.gradientCheckpointing", actual: p.rm.gradientCheckpointing, expected: true, source: rm("RewardConfig(gradient_checkpointing=True)") },
    { field: "rm.learningRate", actual: p.rm.learningRate, expected: 1.41e-5, source: rm("RewardConfig(learning_rate=1.41e-5)") },
    { field: "rm.epochs", actual: p.rm.epochs, expected: 1, source: rm("RewardConfig(num_train_epochs=1)") },
    { field: "rm.maxSteps", actual: p.rm.maxSteps, expected: null, source: "transformers TrainingArguments default max_steps=-1 (epochs decide)" },
    // hh_ppo.ts
    { field: "ppo.learningRate", actual: p.ppo.learningRate, expected: 1.41e-5, source: ppo("PPOConfig(learning_rate=1.41e-5)") },
    { field: "ppo.batchSize", actual: p.ppo.batchSize, expected: 128, source: ppo("PPOConfig(batch_size=128)") },
    { field: "ppo.miniBatchSize", actual: p.ppo.miniBatchSize, expected: 128, source: ppo("PPOConfig(mini_batch_size=128)") },
    { field: "ppo.ppoEpochs", actual: p.ppo.ppoEpochs, expected: 4, source: "TRL 0.7.4 PPOConfig default ppo_epochs=4" },
    { field: "ppo.initKlCoef", actual: p.ppo.initKlCoef, expected: 0.2, source: "TRL 0.7.4 PPOConfig default init_kl_coef=0.2" },
    { field: "ppo.maxNewTokens", actual: p.ppo.maxNewTokens, expected: 32, source: ppo('generation_kwargs "max_new_tokens": 32') },
    { field: "ppo.generationBatchSize", actual: p.ppo.generationBatchSize, expected: 4, source: "TRL 0.7.4 PPOTrainer.generate default batch_size=4 (ppo.py passes none)" },
    // hh_grpo.ts
    { field: "grpo.learningRate", actual: p.grpo.learningRate, expected: 1e-6, source: `${GRPO_DEFAULT} learning_rate=1e-6` },
    { field: "grpo.batchSize", actual: p.grpo.batchSize, expected: 8, source: "transformers TrainingArguments default per_device_train_batch_size=8" },
    { field: "grpo.numGenerations", actual: p.grpo.numGenerations, expected: 8, source: `${GRPO_DEFAULT} num_generations=8` },
    { field: "grpo.beta", actual: p.grpo.beta, expected: 0, source: `${GRPO_DEFAULT} beta=0.0` },
    { field: "grpo.maxCompletionLength", actual: p.grpo.maxCompletionLength, expected: 256, source: `${GRPO_DEFAULT} max_completion_length=256` },
    { field: "grpo.epochs", actual: p.grpo.epochs, expected: 3, source: "transformers TrainingArguments default num_train_epochs=3" },
    { field: "grpo.maxSteps", actual: p.grpo.maxSteps, expected: null, source: "transformers TrainingArguments default max_steps=-1" },
    { field: "grpo.saveSteps", actual: p.grpo.saveSteps, expected: 500, source: "transformers TrainingArguments default save_steps=500" },
  ]);
});

// The hh-rlhf lesson's DPO stage is TRL 0.7.4's examples/scripts/dpo.py ("DPO of gpt2 on
// Anthropic/hh-rlhf"), read at the v0.7.4 tag: its ScriptArguments defaults and the
// TrainingArguments it builds. Checked on the options `hh_dpo.ts` runs with (no flags).
const TRL_DPO = "TRL 0.7.4 examples/scripts/dpo.py";

Deno.test("hh full DPO = TRL's dpo.py (0.7.4)", () => {
  const { preset: p, dpo: d, lossType } = parseHhDpoArgs([]);
  const dpo = (line: string) => `${TRL_DPO}: ${line}`;
  // deno-fmt-ignore
  check("hh DPO", [
    { field: "policy", actual: p.policy, expected: "gpt2", source: dpo('model_name_or_path: Optional[str] = field(default="gpt2")') },
    { field: "lora", actual: p.lora, expected: null, source: dpo("model_ref = AutoModelForCausalLM.from_pretrained(...): every weight trained against a frozen copy, no peft_config") },
    { field: "data", actual: p.data, expected: "hh-rlhf", source: dpo('load_dataset("Anthropic/hh-rlhf", split=split)') },
    { field: "trainExamples", actual: p.trainExamples, expected: 1000, source: dpo("sanity_check: default=True; dataset.select(range(min(len(dataset), 1000)))") },
    { field: "testExamples", actual: p.testExamples, expected: 1000, source: dpo('eval_dataset = get_hh("test", sanity_check=script_args.sanity_check)') },
    { field: "maxLength", actual: p.maxLength, expected: 512, source: dpo("max_length: Optional[int] = field(default=512)") },
    { field: "maxPromptLength", actual: p.maxPromptLength, expected: 128, source: dpo("max_prompt_length: Optional[int] = field(default=128)") },
    { field: "overLength", actual: p.overLength, expected: "truncate", source: "TRL 0.7.4 DPODataCollatorWithPadding (truncation_mode=\"keep_end\"): a too-long row's prompt is cut first, then its responses; no row is dropped" },
    { field: "dpo.beta", actual: d.beta, expected: 0.1, source: dpo("beta: Optional[float] = field(default=0.1)") },
    { field: "lossType", actual: lossType, expected: "sigmoid", source: 'TRL 0.7.4 DPOTrainer default loss_type="sigmoid" (the script passes none)' },
    { field: "dpo.learningRate", actual: d.learningRate, expected: 1e-3, source: dpo("learning_rate: Optional[float] = field(default=1e-3)") },
    { field: "dpo.batchSize", actual: d.batchSize, expected: 4, source: dpo("per_device_train_batch_size: Optional[int] = field(default=4)") },
    { field: "dpo.maxSteps", actual: d.maxSteps, expected: 1000, source: dpo("max_steps: Optional[int] = field(default=1000)") },
    { field: "dpo.optim", actual: d.optim, expected: "rmsprop", source: dpo('TrainingArguments(optim="rmsprop")') },
    { field: "dpo.warmupSteps", actual: d.warmupSteps, expected: 150, source: dpo("TrainingArguments(warmup_steps=150)") },
    { field: "dpo.evalSteps", actual: d.evalSteps, expected: 500, source: dpo('TrainingArguments(evaluation_strategy="steps", eval_steps=500)') },
    { field: "dpo.loggingSteps", actual: d.loggingSteps, expected: 10, source: dpo("TrainingArguments(logging_steps=10)  # match results in blog post") },
    { field: "dpo.loggingFirstStep", actual: d.loggingFirstStep, expected: true, source: dpo("TrainingArguments(logging_first_step=True)") },
    { field: "dpo.saveSteps", actual: d.saveSteps, expected: 500, source: "transformers TrainingArguments default save_steps=500 (the script sets none)" },
  ]);
});
