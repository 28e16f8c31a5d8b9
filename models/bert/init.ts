/**
 * Weight initialisation of the BERT family: transformers' `_init_weights` (normal(0, std) for
 * linear and embedding weights, zero biases and padding rows, LayerNorm ones and zeros) for new
 * weights, and a generator that draws nothing for weights a checkpoint is about to overwrite.
 *
 * @module
 */

import { Generator, nn, type Tensor, tensor } from "../../core/mod.ts";
import { PaddedEmbedding } from "./padded_embedding.ts";

/**
 * A generator whose bulk draws are zeros: layers built with it skip the random init of weights
 * that a checkpoint overwrites right after (drawing a large vocabulary table costs seconds).
 */
export class SkipInit extends Generator {
  /** Zeros, no draws. */
  override uniform(n: number): Float32Array {
    return new Float32Array(n);
  }
  /** Zeros, no draws. */
  override normal(n: number): Float32Array {
    return new Float32Array(n);
  }
}

/** How the layers of one model are built. */
export interface LayerBuild {
  /** Backend of the weights. */
  backend: string;
  /** The no-draw generator the layers are built with (weights are set afterwards). */
  skip: Generator;
  /** Source of dropout masks (default: the global generator). */
  dropout?: Generator;
}

function fill(dst: Tensor, values: Float32Array, what: string): void {
  using src = tensor(values, dst.shape, { backend: dst.backend.name });
  nn.assign(dst, src, what);
}

/**
 * Re-initialise one parameter as transformers' `_init_weights` would for its layer: weights of
 * linear and embedding layers normal(0, std) (a `PaddedEmbedding`'s padding row zero), biases zero,
 * LayerNorm weight ones.
 *
 * @param owner The layer that holds the parameter.
 * @param param The parameter's name within that layer (`weight` or `bias`).
 * @param generator Source of the draws.
 * @param std Standard deviation of the normal draws (`initializer_range`).
 */
export function initParameter(
  owner: nn.Module,
  param: string,
  generator: Generator,
  std: number,
): void {
  const t = owner.stateDict().get(param);
  if (!t) throw new Error(`initParameter: ${owner.constructor.name} has no '${param}'`);
  const what = `init '${t.name ?? param}'`;
  if (owner instanceof nn.LayerNorm) {
    fill(t, new Float32Array(t.size).fill(param === "weight" ? 1 : 0), what);
  } else if (param === "bias") {
    fill(t, new Float32Array(t.size), what);
  } else if (owner instanceof nn.Embedding) {
    const values = generator.normal(t.size, 0, std);
    if (owner instanceof PaddedEmbedding) {
      const d = t.shape[1];
      values.fill(0, owner.paddingIdx * d, (owner.paddingIdx + 1) * d);
    }
    fill(t, values, what);
  } else if (owner instanceof nn.Linear) {
    fill(t, generator.normal(t.size, 0, std), what);
  } else {
    throw new Error(`initParameter: no init rule for ${owner.constructor.name}.${param}`);
  }
}

/**
 * Initialise every parameter of `module` and its descendants with {@link initParameter}.
 *
 * @param module The model or layer.
 * @param generator Source of the draws.
 * @param std Standard deviation of the normal draws.
 */
export function initWeights(
  module: nn.Module,
  generator: Generator,
  std: number,
): void {
  for (const [, m] of module.namedModules()) {
    if (!(m instanceof nn.Linear || m instanceof nn.Embedding || m instanceof nn.LayerNorm)) {
      continue;
    }
    for (const name of [...m.stateDict().keys()].filter((k) => !k.includes("."))) {
      initParameter(m, name, generator, std);
    }
  }
}
