/**
 * Direct Preference Optimization: the DPO loss family with TRL 0.28.0's semantics (sigmoid with
 * label smoothing, hinge, ipo, robust, exo_pair, nca_pair, sppo_hard, aot, aot_unpaired, apo_zero,
 * apo_down, discopop; reference-free), TRL's metric names, and completion log-probs.
 *
 * @example
 * ```ts
 * import { dpoLoss, dpoMetrics } from "@tether/rlhf/dpo";
 * const out = dpoLoss({ chosen, rejected, refChosen, refRejected }, { beta: 0.1 });
 * const metrics = dpoMetrics({ chosen, rejected, refChosen, refRejected }, out);
 * ```
 * @module
 */

export {
  DPO_LOSS_TYPES,
  dpoLoss,
  type DpoLossOptions,
  type DpoLossOutput,
  type DpoLossType,
  dpoMetrics,
  type PairLogps,
} from "./loss.ts";
export { LABEL_PAD_TOKEN_ID, sequenceLogps } from "./logps.ts";
export {
  type AdapterSwitch,
  DPO_CONFIG,
  DPO_TRL_NAMES,
  type DPOConfig,
  type DPOConfigInput,
  type DpoEvalMetrics,
  type DpoPolicy,
  DPOTrainer,
  type DPOTrainerParts,
} from "./trainer.ts";
export {
  DPO_LENGTH_DEFAULTS,
  type DpoLengthLimits,
  type DpoPairRows,
  preferencePairs,
  type PreferenceRow,
  type PreferenceTextRow,
  type PreferenceTriple,
  tokenizePreferenceRow,
  type TruncationMode,
} from "./data.ts";
export type { CausalLM } from "../common/trainer.ts";
export { NonFiniteLossError } from "../common/nonfinite.ts";
