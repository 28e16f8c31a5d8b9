/**
 * Direct Preference Optimization: the DPO loss family with TRL 0.28.0's semantics (sigmoid with
 * label smoothing, hinge, ipo, robust, exo_pair, nca_pair, sppo_hard, aot, aot_unpaired, apo_zero,
 * apo_down, discopop; reference-free), TRL's metric names, and completion log-probs.
 *
 * `DPOTrainer` takes TRL's config names and TRL's datasets: `prompt` / `chosen` / `rejected`
 * text or conversations, tokenized with TRL's truncation rules, or token ids.
 *
 * @example
 * ```ts
 * import { tensor } from "@tether/rlhf/core";
 * import { dpoLoss, dpoMetrics } from "@tether/rlhf/dpo";
 *
 * // Summed completion log-probs of two pairs under the policy and the reference.
 * const logps = (v: number[]) => tensor(v, [v.length]);
 * const pairs = {
 *   chosen: logps([-4, -3]),
 *   rejected: logps([-6, -3]),
 *   refChosen: logps([-5, -3]),
 *   refRejected: logps([-5, -3]),
 * };
 * const out = dpoLoss(pairs, { beta: 0.1, lossType: "sigmoid" });
 * const metrics = dpoMetrics(pairs, out);
 * console.log(await out.losses.toArray()); // [0.5981, 0.6931]: −log σ(β · margin)
 * console.log(await metrics["rewards/accuracies"].toArray()); // [0.5]: one pair of two
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
export { LABEL_PAD_TOKEN_ID, modelSequenceLogps, sequenceLogps } from "./logps.ts";
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
