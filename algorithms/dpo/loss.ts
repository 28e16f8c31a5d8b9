/**
 * DPO-family losses with TRL 0.28.0's `DPOTrainer.dpo_loss` semantics (SPEC B.3), one version for
 * every loss type. Inputs are summed completion log-probs per pair, [B] each.
 */

import {
  add,
  detach,
  div,
  exp,
  gather,
  greater,
  logSigmoid,
  mean,
  mul,
  neg,
  relu,
  sigmoid,
  square,
  sub,
  type Tensor,
  tensor,
} from "../../core/mod.ts";

/** The loss types implemented, by TRL 0.28.0 name. */
export type DpoLossType =
  | "sigmoid"
  | "hinge"
  | "ipo"
  | "robust"
  | "exo_pair"
  | "nca_pair"
  | "sppo_hard"
  | "aot"
  | "aot_unpaired"
  | "apo_zero"
  | "apo_down"
  | "discopop";

/** Every implemented loss type. */
export const DPO_LOSS_TYPES: readonly DpoLossType[] = [
  "sigmoid",
  "hinge",
  "ipo",
  "robust",
  "exo_pair",
  "nca_pair",
  "sppo_hard",
  "aot",
  "aot_unpaired",
  "apo_zero",
  "apo_down",
  "discopop",
];

/** Hyper-parameters of `dpoLoss`. */
export interface DpoLossOptions {
  /** β (default 0.1). */
  beta?: number;
  /** The loss (default `sigmoid`). */
  lossType?: DpoLossType;
  /** ε for cDPO / robust / exo_pair (default 0; exo_pair then uses 1e-3, as TRL 0.28 does). */
  labelSmoothing?: number;
  /** Drop the reference term from the DPO logit. */
  referenceFree?: boolean;
  /** τ of `discopop` (default 0.05). */
  discopopTau?: number;
}

/** Per-pair losses and the implicit rewards β·(log π − log π_ref) (constants). */
export interface DpoLossOutput {
  /** Per-pair losses [B]. */
  losses: Tensor;
  /** β·(logp_π(y_c) − logp_ref(y_c)) [B]. */
  chosenRewards: Tensor;
  /** β·(logp_π(y_r) − logp_ref(y_r)) [B]. */
  rejectedRewards: Tensor;
}

/** Summed completion log-probs of one batch of pairs, [B] each. */
export interface PairLogps {
  /** Policy, chosen completions. */
  chosen: Tensor;
  /** Policy, rejected completions. */
  rejected: Tensor;
  /** Reference, chosen completions. */
  refChosen: Tensor;
  /** Reference, rejected completions. */
  refRejected: Tensor;
}

/** TRL 0.28.0's `dpo_loss` for one loss type. */
export function dpoLoss(x: PairLogps, opts: DpoLossOptions = {}): DpoLossOutput {
  const beta = opts.beta ?? 0.1;
  const type = opts.lossType ?? "sigmoid";
  let eps = opts.labelSmoothing ?? 0;
  if (!(beta > 0)) throw new Error(`dpoLoss: beta must be > 0, got ${beta}`);
  if (!(eps >= 0 && eps < 0.5)) {
    throw new Error(`dpoLoss: labelSmoothing must be in [0, 0.5), got ${eps}`);
  }
  const lrC = sub(x.chosen, x.refChosen), lrR = sub(x.rejected, x.refRejected);
  const piLogratio = sub(x.chosen, x.rejected);
  const refLogratio = opts.referenceFree ? null : sub(x.refChosen, x.refRejected);
  const h = refLogratio ? sub(piLogratio, refLogratio) : piLogratio;
  const z = mul(h, beta);
  // −(1−ε)·log σ(z) − ε·log σ(−z), the cDPO form several losses share.
  const smoothed = (v: Tensor) => sub(mul(logSigmoid(v), -(1 - eps)), mul(logSigmoid(neg(v)), eps));

  let losses: Tensor;
  switch (type) {
    case "sigmoid":
      losses = smoothed(z);
      break;
    case "hinge":
      losses = relu(sub(1, z));
      break;
    case "ipo":
      losses = square(sub(h, 1 / (2 * beta)));
      break;
    case "robust":
      losses = div(
        add(mul(logSigmoid(z), -(1 - eps)), mul(logSigmoid(neg(z)), eps)),
        1 - 2 * eps,
      );
      break;
    case "exo_pair": {
      if (eps === 0) eps = 1e-3;
      const a = mul(sigmoid(z), sub(logSigmoid(z), Math.log(1 - eps)));
      const b = mul(sigmoid(neg(z)), sub(logSigmoid(neg(z)), Math.log(eps)));
      losses = add(a, b);
      break;
    }
    case "nca_pair": {
      const c = mul(lrC, beta), r = mul(lrR, beta);
      losses = sub(
        sub(neg(logSigmoid(c)), mul(logSigmoid(neg(c)), 0.5)),
        mul(logSigmoid(neg(r)), 0.5),
      );
      break;
    }
    case "sppo_hard":
      losses = add(square(sub(lrC, 1 / (2 * beta))), square(add(lrR, 1 / (2 * beta))));
      break;
    case "aot":
    case "aot_unpaired": {
      const [a, b] = type === "aot"
        ? [piLogratio, refLogratio ?? sub(x.refChosen, x.refRejected)]
        : [lrC, lrR];
      losses = smoothed(mul(sub(sortAscending(a), sortAscending(b)), beta));
      break;
    }
    case "apo_zero":
      losses = add(sub(1, sigmoid(mul(lrC, beta))), sigmoid(mul(lrR, beta)));
      break;
    case "apo_down":
      losses = add(sigmoid(mul(lrC, beta)), sub(1, sigmoid(mul(sub(lrC, lrR), beta))));
      break;
    case "discopop": {
      const tau = opts.discopopTau ?? 0.05;
      const w = sigmoid(div(z, tau));
      losses = add(mul(sub(1, w), neg(logSigmoid(z))), mul(w, exp(neg(z))));
      break;
    }
    default:
      throw new Error(
        `dpoLoss: unknown lossType '${type as string}'; use one of ${DPO_LOSS_TYPES.join(", ")}`,
      );
  }
  return {
    losses,
    chosenRewards: mul(detach(lrC), beta),
    rejectedRewards: mul(detach(lrR), beta),
  };
}

/** TRL's DPO metrics from one batch (means over pairs; accuracy uses strict >). */
export function dpoMetrics(x: PairLogps, out: DpoLossOutput): Record<string, Tensor> {
  return {
    "rewards/chosen": mean(out.chosenRewards),
    "rewards/rejected": mean(out.rejectedRewards),
    "rewards/accuracies": mean(greater(out.chosenRewards, out.rejectedRewards)),
    "rewards/margins": mean(sub(out.chosenRewards, out.rejectedRewards)),
    "logps/chosen": mean(detach(x.chosen)),
    "logps/rejected": mean(detach(x.rejected)),
  };
}

/**
 * Values sorted ascending, as a gather so gradients reach the sorted positions. The order is read
 * on the host (CPU backends), as `aot` needs the batch sorted.
 */
function sortAscending(t: Tensor): Tensor {
  const v = t.toFloat64ArraySync();
  const order = Array.from(v.keys()).sort((a, b) => v[a] - v[b]);
  return gather(t, tensor(order, [order.length], { backend: t.backend.name }), 0);
}
