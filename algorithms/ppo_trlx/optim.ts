/**
 * trlX's optimizer and scheduler by name (`get_optimizer_class` / `get_scheduler_class`, TRLX
 * `trlx/utils/__init__.py`): `optimizer.name` + `kwargs` and `scheduler.name` + `kwargs` in torch's
 * keyword names, mapped to the core's torch-equivalent optimizers and schedulers.
 */

import type { Tensor } from "../../core/mod.ts";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  type Hyperparams,
  type LambdaLR,
  LinearLR,
  type Optimizer,
  SGD,
} from "../../core/optim/mod.ts";
import {
  checkTrlxKwargs,
  TrlxConfigError,
  type TrlxOptimizerConfig,
  type TrlxSchedulerConfig,
} from "./config.ts";

/**
 * torch.optim.`{Adam, AdamW, SGD}` from a trlX `optimizer` section; kwargs left out take torch's
 * defaults (AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2).
 *
 * @example
 * ```ts
 * import { zeros } from "@tether/rlhf/core";
 * import { trlxOptimizer } from "./optim.ts";
 * const params = [zeros([4], { requiresGrad: true })];
 * const opt = trlxOptimizer(params, {
 *   name: "adamw",
 *   kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
 * });
 * ```
 *
 * @param params The trainable parameters.
 * @param config `name` and `kwargs`.
 */
export function trlxOptimizer(
  params: Iterable<Tensor>,
  config: TrlxOptimizerConfig,
): Optimizer<Hyperparams> {
  const name = config.name;
  const kwargs = checkTrlxKwargs("optimizer", name, config.kwargs);
  const lr = kwargs.lr as number | undefined;
  const weightDecay = kwargs.weight_decay as number | undefined;
  if (name === "sgd") {
    return new SGD(params, {
      lr: lr as number,
      ...defined({
        momentum: kwargs.momentum as number | undefined,
        dampening: kwargs.dampening as number | undefined,
        nesterov: kwargs.nesterov as boolean | undefined,
        weightDecay,
      }),
    }) as unknown as Optimizer<Hyperparams>;
  }
  const options = defined({
    lr,
    betas: kwargs.betas as [number, number] | undefined,
    eps: kwargs.eps as number | undefined,
    weightDecay,
  });
  return (name === "adamw"
    ? new AdamW(params, options)
    : new Adam(params, options)) as unknown as Optimizer<Hyperparams>;
}

/**
 * torch's `CosineAnnealingLR` (`cosine_annealing`: `T_max`, `eta_min`) or `LinearLR` (`linear`:
 * `start_factor`, `end_factor`, `total_iters`) from a trlX `scheduler` section. Call `step()`
 * after each optimizer step, as trlX does.
 *
 * @param optimizer The optimizer whose lrs it sets.
 * @param config `name` and `kwargs`.
 */
export function trlxScheduler(
  optimizer: Optimizer<Hyperparams>,
  config: TrlxSchedulerConfig,
): LambdaLR {
  if (config.name === "cosine_annealing") {
    const kwargs = checkTrlxKwargs("scheduler", config.name, config.kwargs);
    return new CosineAnnealingLR(optimizer, {
      tMax: kwargs.T_max as number,
      etaMin: kwargs.eta_min as number | undefined,
    });
  }
  if (config.name === "linear") {
    const kwargs = checkTrlxKwargs("scheduler", config.name, config.kwargs);
    return new LinearLR(
      optimizer,
      defined({
        startFactor: kwargs.start_factor as number | undefined,
        endFactor: kwargs.end_factor as number | undefined,
        totalIters: kwargs.total_iters as number | undefined,
      }),
    );
  }
  throw new TrlxConfigError([{
    path: "scheduler.name",
    message: `"${config.name}" is not one of cosine_annealing, linear`,
  }]);
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
