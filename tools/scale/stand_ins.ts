/**
 * What a later stage of the smoke run reads from an earlier one, written without training, for
 * when the earlier stage could not finish here (out of memory at the tutorial's batch size, say):
 * the same architecture and files the stage saves, from the same starting checkpoint, untrained.
 * With random-weight checkpoints a one-step model is no better than its start, so the later
 * stage exercises exactly the same code; the table says which stages ran on a stand-in.
 *
 *   deno run -A tools/scale/stand_ins.ts <stage>   # in the smoke run's work folder, HF_HOME set
 *
 * @module
 */

import { loadCausalLM } from "../../models/mod.ts";
import { copyTokenizerFiles, loadHhPolicy, saveHhPolicy } from "../../examples/hh/policy.ts";
import {
  FULL_POLICY,
  FULL_REWARD_MODEL,
  FULL_SFT_POLICY,
  hhPreset,
} from "../../examples/hh/presets.ts";
import { loadRewardClassifier } from "../../examples/hh/reward_model.ts";
import { FULL_REWARD_MODEL_DIR } from "../../examples/imdb/presets.ts";
import { createRewardModel, saveRewardModel } from "../../examples/imdb/reward_model.ts";
import { FULL_REWARD_OUTPUT, FULL_SFT_OUTPUT, tldrPreset } from "../../examples/tldr/presets.ts";
import { saveWithTokenizer } from "../../examples/tldr/models.ts";
import { loadGpt2TokenRewardModel } from "../../reward/mod.ts";

/** A stage's output, written untrained. */
export interface StandIn {
  /** What is written, in a few words. */
  describe: string;
  /** Write it (relative paths resolve against the working folder, as the examples' do). */
  write(): Promise<void>;
}

/** Stand-ins by the stage whose output they replace. */
export const STAND_INS: Readonly<Record<string, StandIn>> = {
  imdb_reward_model: {
    describe: `distilbert-base-cased with a fresh 1-output head in ${FULL_REWARD_MODEL_DIR}`,
    async write() {
      const bundle = await createRewardModel("full", { backend: "cpu" });
      try {
        await saveRewardModel(bundle, "full", FULL_REWARD_MODEL_DIR);
      } finally {
        bundle.model.dispose();
      }
    },
  },
  hh_reward_model: {
    describe: `${hhPreset("full").rm.base} with a fresh score head in ${FULL_REWARD_MODEL}`,
    async write() {
      const base = hhPreset("full").rm.base;
      const { model } = await loadRewardClassifier(base, { backend: "cpu" });
      try {
        await model.save(FULL_REWARD_MODEL);
        await copyTokenizerFiles(base, FULL_REWARD_MODEL);
      } finally {
        model.dispose();
      }
    },
  },
  hh_sft: {
    describe: `${FULL_POLICY} with fresh LoRA adapters (the preset's) in ${FULL_SFT_POLICY}`,
    async write() {
      const preset = hhPreset("full");
      const policy = await loadHhPolicy(preset.policy, {
        lora: preset.lora,
        withReference: false,
        backend: "cpu",
        seed: 0,
      });
      try {
        await saveHhPolicy(policy, preset.policy, FULL_SFT_POLICY);
      } finally {
        policy.dispose();
      }
    },
  },
  tldr_sft: {
    describe: `${tldrPreset("full").sft.model} as it starts, in ${FULL_SFT_OUTPUT}`,
    async write() {
      const source = tldrPreset("full").sft.model;
      const model = await loadCausalLM(source, { backend: "cpu", log: () => {} });
      try {
        await model.save(FULL_SFT_OUTPUT);
        await copyTokenizerFiles(source, FULL_SFT_OUTPUT);
      } finally {
        model.dispose();
      }
    },
  },
  tldr_reward_model: {
    describe: `${FULL_SFT_OUTPUT} with a fresh bias-free v_head in ${FULL_REWARD_OUTPUT}`,
    async write() {
      const model = await loadGpt2TokenRewardModel(FULL_SFT_OUTPUT, {
        backend: "cpu",
        log: () => {},
      });
      try {
        await saveWithTokenizer(model, FULL_SFT_OUTPUT, FULL_REWARD_OUTPUT);
      } finally {
        model.dispose();
      }
    },
  },
};

if (import.meta.main) {
  const stage = Deno.args[0];
  const standIn = STAND_INS[stage];
  if (!standIn) {
    console.error(`no stand-in for '${stage}': one of ${Object.keys(STAND_INS).join(", ")}`);
    Deno.exit(2);
  }
  await standIn.write();
  console.log(`stand-in for ${stage}: ${standIn.describe}`);
}
