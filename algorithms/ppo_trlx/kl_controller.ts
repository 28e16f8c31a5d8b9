/**
 * trlX's KL controllers (TRLX `trlx/models/modeling_ppo.py`). The adaptive and fixed rules are
 * TRL's, so the classes are shared; what differs is when trlX picks which (fixed whenever
 * `target` is None) and when it updates: once per inner PPO epoch (`post_backward_callback`),
 * i.e. `ppo_epochs` times per rollout collection, with `n_steps = train.batch_size` and the
 * same KL measured by `make_experience` each time.
 */

import {
  AdaptiveKlController,
  FixedKlController,
  type KlController,
} from "../ppo/kl_controller.ts";

export { AdaptiveKlController, FixedKlController, type KlController };

/** The `method` fields the controller is built from. */
export interface TrlxKlSettings {
  /** Initial KL coefficient β₀. */
  init_kl_coef: number;
  /** Target KL; `null` (trlX's default) keeps β fixed. */
  target: number | null;
  /** Horizon of the adaptive rule. */
  horizon: number;
}

/**
 * The controller trlX's `AcceleratePPOTrainer` builds: adaptive when `target` is set, else fixed.
 *
 * @example
 * ```ts
 * import { trlxKlController } from "./kl_controller.ts";
 * const kl = trlxKlController({ init_kl_coef: 0.05, target: 6, horizon: 10000 });
 * kl.update(8, 32); // after each inner PPO epoch, with n_steps = train.batch_size
 * ```
 *
 * @param method `init_kl_coef`, `target` and `horizon`.
 */
export function trlxKlController(method: TrlxKlSettings): KlController {
  return method.target === null || method.target === undefined
    ? new FixedKlController(method.init_kl_coef)
    : new AdaptiveKlController(method.init_kl_coef, method.target, method.horizon);
}
