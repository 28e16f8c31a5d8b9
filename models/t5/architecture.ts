/**
 * T5's row of the seq2seq architecture table (`model_type` "t5": T5 1.0, T5 1.1, flan-T5).
 *
 * @module
 */

import type { ArchitectureRow } from "../architecture.ts";
import { t5Config } from "./config.ts";
import { T5ForConditionalGeneration } from "./model.ts";
import { t5CheckpointKey } from "./weights.ts";

/** `model_type` "t5": `T5ForConditionalGeneration`, PEFT's LoRA targets `q` and `v`. */
export const T5_ARCHITECTURE: ArchitectureRow<T5ForConditionalGeneration> = {
  modelType: "t5",
  className: "T5ForConditionalGeneration",
  parseConfig: (raw) => t5Config(raw),
  create: (config, opts) => new T5ForConditionalGeneration(config, opts),
  checkpointKey: t5CheckpointKey,
  loraTargets: ["q", "v"],
};
