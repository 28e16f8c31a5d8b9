/**
 * `PaddedEmbedding`: torch's `nn.Embedding(..., padding_idx)`, whose padding row receives no
 * gradient, so training on padded batches leaves it as loaded.
 *
 * @module
 */

import {
  add,
  detach,
  embedding,
  equal,
  isGradEnabled,
  mul,
  nn,
  reshape,
  sub,
  type Tensor,
} from "../../core/mod.ts";

/** An embedding table whose row `paddingIdx` is looked up like any other but never trained. */
export class PaddedEmbedding extends nn.Embedding {
  /** Creates the table; `paddingIdx` must be a row of it. */
  constructor(
    numEmbeddings: number,
    embeddingDim: number,
    readonly paddingIdx: number,
    opts: nn.InitOptions = {},
  ) {
    super(numEmbeddings, embeddingDim, opts);
    if (!Number.isInteger(paddingIdx) || paddingIdx < 0 || paddingIdx >= numEmbeddings) {
      throw new Error(
        `PaddedEmbedding: paddingIdx ${paddingIdx} is not a row of the ${numEmbeddings}-row table`,
      );
    }
  }

  /** ids [...] → [..., embeddingDim]; positions holding `paddingIdx` pass no gradient back. */
  override forward(ids: Tensor): Tensor {
    const e = embedding(this.weight, ids);
    if (!isGradEnabled() || !this.weight.requiresGrad) return e;
    // Same values as e; the gradient reaches the table only through the non-padding positions.
    const pad = equal(ids, this.paddingIdx);
    const keep = sub(1, pad);
    const shape = [...ids.shape, 1];
    return add(mul(e, reshape(keep, shape)), mul(detach(e), reshape(pad, shape)));
  }
}
