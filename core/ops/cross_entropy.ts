/**
 * Cross-entropy from logits and per-token log-probabilities of labels, each one fused kernel that
 * never materializes the full log-softmax; the backward rebuilds softmax from a saved per-row
 * log-sum-exp.
 */

import { engine, registerGrad } from "../engine.ts";
import { fmtShape, shapesEqual } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { checkIndices } from "./index_check.ts";

/** Options of `crossEntropy` (PyTorch's `F.cross_entropy` names and defaults). */
export interface CrossEntropyOptions {
  /** Rows whose target equals this value contribute nothing (default -100). */
  ignoreIndex?: number;
  /** "mean" (default) divides by the number of non-ignored rows; "sum"; "none" keeps per-row losses. */
  reduction?: "mean" | "sum" | "none";
}

function checkRows(op: string, logits: Tensor, labels: Tensor, what: string): void {
  logits.assertLive(op);
  labels.assertLive(op);
  if (logits.rank === 0 || !shapesEqual(labels.shape, logits.shape.slice(0, -1))) {
    throw new Error(
      `${op}: logits ${fmtShape(logits.shape)} need ${what} of shape ` +
        `${logits.rank ? fmtShape(logits.shape.slice(0, -1)) : "[...]"} (one per row of the last ` +
        `axis), got ${fmtShape(labels.shape)}`,
    );
  }
}

/**
 * −log softmax(logits)[target] per row, with PyTorch semantics: rows whose target is
 * `ignoreIndex` contribute 0 and are not counted by "mean" (all rows ignored gives NaN, as in
 * PyTorch). Targets are class indices stored as numbers; on CPU backends one outside [0, C) that
 * is not `ignoreIndex` raises an error naming it and its position.
 * @param logits [..., C] unnormalized scores.
 * @param targets [...] class indices.
 * @returns a scalar for "mean"/"sum", a tensor shaped like `targets` for "none".
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  opts: CrossEntropyOptions = {},
): Tensor {
  checkRows("crossEntropy", logits, targets, "targets");
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? "mean";
  if (!["mean", "sum", "none"].includes(reduction)) {
    throw new Error(`crossEntropy: reduction '${reduction}' is not one of "mean", "sum", "none"`);
  }
  const c = logits.shape[logits.rank - 1];
  checkIndices(
    "crossEntropy: target",
    targets,
    c,
    "targets must be class indices of the last logits axis",
    ignoreIndex,
  );
  const rows = targets.size;
  return engine.run("crossEntropy", [logits, targets], { ignoreIndex, reduction }, {
    outShapes: [reduction === "none" ? targets.shape : [], [rows]],
    visible: 1,
  })[0];
}

registerGrad("crossEntropy", ([dy], node) => {
  const [logits, targets] = node.inputs;
  const dx = engine.run("crossEntropyGrad", [logits, targets, node.saved[0], dy!], node.attrs, {
    outShapes: [logits.shape],
  })[0];
  return [dx, null];
});

/**
 * log softmax(logits)[label] along the last axis (TRL's `logprobs_from_logits`), fused so the
 * full [..., V] log-softmax is never stored.
 * @param logits [..., V] unnormalized scores.
 * @param labels [...] token ids in [0, V).
 * @returns [...] the log-probability of each label.
 */
export function tokenLogProbs(logits: Tensor, labels: Tensor): Tensor {
  checkRows("tokenLogProbs", logits, labels, "labels");
  const v = logits.shape[logits.rank - 1];
  checkIndices("tokenLogProbs: label", labels, v, "labels must be token ids of the vocabulary");
  return engine.run("tokenLogProbs", [logits, labels], {}, {
    outShapes: [labels.shape, [labels.size]],
    visible: 1,
  })[0];
}

registerGrad("tokenLogProbs", ([dy], node) => {
  const [logits, labels] = node.inputs;
  const dx = engine.run("tokenLogProbsGrad", [logits, labels, node.saved[0], dy!], {}, {
    outShapes: [logits.shape],
  })[0];
  return [dx, null];
});
