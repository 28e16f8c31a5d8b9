/** Affine layers: `Linear` (torch layout, weight [out, in]) and `Conv1D` (GPT-2 layout, [in, out]). */

import { linear } from "../ops/linear.ts";
import { randn, tensor, zeros } from "../ops/create.ts";
import { defaultGenerator, type Generator } from "../random.ts";
import type { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** Where and how a layer draws its initial weights. */
export interface InitOptions {
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /** Generator for the initial values (default: the global one). */
  generator?: Generator;
  /**
   * Draw initial values (default true). False allocates zeros without drawing: for weights a
   * checkpoint overwrites anyway (a large model builds in a fraction of the time).
   */
  init?: boolean;
}

/** Options of `Linear`. */
export interface LinearOptions extends InitOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

function checkFeatures(layer: string, inFeatures: number, outFeatures: number): void {
  for (const [k, v] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new Error(`${layer}: ${k} must be a positive integer, got ${v}`);
    }
  }
}

/**
 * `y = x·Wᵀ + b` with torch's layout (weight [out, in], bias [out]) and torch's default init:
 * weight and bias uniform in ±1/√in (kaiming-uniform with a = √5). Input [..., in].
 */
export class Linear extends Module {
  /** [outFeatures, inFeatures]. */
  readonly weight: Tensor;
  /** [outFeatures], or null without bias. */
  readonly bias: Tensor | null;

  /** Creates the layer with freshly drawn weights. */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkFeatures("Linear", inFeatures, outFeatures);
    const g = opts.generator ?? defaultGenerator();
    const bound = 1 / Math.sqrt(inFeatures);
    const backend = opts.backend;
    const draw = (shape: number[]) =>
      opts.init ?? true
        ? tensor(g.uniform(shape[0] * (shape[1] ?? 1), -bound, bound), shape, { backend })
        : zeros(shape, { backend });
    this.weight = this.registerParameter("weight", draw([outFeatures, inFeatures]));
    this.bias = opts.bias ?? true ? this.registerParameter("bias", draw([outFeatures])) : null;
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/**
 * GPT-2's `Conv1D`: a linear layer storing its weight as [in, out] (`y = x·W + b`), so GPT-2
 * checkpoints (`c_attn`, `c_proj`, `c_fc`) load without a transpose. Init as Hugging Face's:
 * weight N(0, 0.02²), bias zeros.
 */
export class Conv1D extends Module {
  /** [inFeatures, outFeatures]. */
  readonly weight: Tensor;
  /** [outFeatures]. */
  readonly bias: Tensor;

  /** Creates the layer; note the argument order is (in, out) like `Linear`, not HF's (nf, nx). */
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: InitOptions = {}) {
    super();
    checkFeatures("Conv1D", inFeatures, outFeatures);
    const backend = opts.backend;
    this.weight = this.registerParameter(
      "weight",
      opts.init ?? true
        ? randn([inFeatures, outFeatures], { std: 0.02, generator: opts.generator, backend })
        : zeros([inFeatures, outFeatures], { backend }),
    );
    this.bias = this.registerParameter("bias", zeros([outFeatures], { backend }));
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { transB: false });
  }
}
