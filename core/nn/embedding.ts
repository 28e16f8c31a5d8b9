/** `Embedding`: a lookup table of vectors indexed by token ids. */

import { randn, zeros } from "../ops/create.ts";
import { embedding } from "../ops/gather.ts";
import type { Tensor } from "../tensor.ts";
import type { InitOptions } from "./linear.ts";
import { Module } from "./module.ts";

/** weight [numEmbeddings, embeddingDim], initialised N(0, 1) as torch.nn.Embedding. */
export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim]. */
  readonly weight: Tensor;

  /** Creates the table with freshly drawn rows. */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: InitOptions = {},
  ) {
    super();
    for (const [k, v] of [["numEmbeddings", numEmbeddings], ["embeddingDim", embeddingDim]]) {
      if (!Number.isInteger(v) || (v as number) <= 0) {
        throw new Error(`Embedding: ${k} must be a positive integer, got ${v}`);
      }
    }
    this.weight = this.registerParameter(
      "weight",
      opts.init ?? true
        ? randn([numEmbeddings, embeddingDim], { generator: opts.generator, backend: opts.backend })
        : zeros([numEmbeddings, embeddingDim], { backend: opts.backend }),
    );
  }

  /** ids [...] (integer values stored as f32) → [..., embeddingDim]. */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
