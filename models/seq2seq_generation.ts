/**
 * Generation for encoder-decoder models through the one sampling loop of `generation.ts`: the
 * encoder runs once, and `EncoderBoundDecoder` presents the decoder, bound to those encoder
 * states, as a `GenerativeModel` whose "prompt" is `decoder_start_token_id`. The loop's cache is
 * the decoder's self-attention keys/values; the cross-attention keys/values are computed on the
 * first step and held here, so every later step reuses them. Greedy, sampled, on-device
 * sampling and beam search all come from the loop unchanged.
 *
 * @module
 */

import {
  contiguous,
  dispose,
  expand,
  keep,
  noGrad,
  reshape,
  type Tensor,
  tensor,
  tidy,
} from "../core/mod.ts";
import type { Seq2SeqEncoderOutput, Seq2SeqLM } from "./contract.ts";
import {
  type CachedLayer,
  generate,
  type GenerateOptions,
  type GenerateResult,
  type GenerativeModel,
} from "./generation.ts";

interface Bound {
  encoder: Seq2SeqEncoderOutput;
  cross: CachedLayer[] | null;
}

/** `x` [B, ...] with each row repeated `k` times in place (torch's `repeat_interleave`). */
function repeatRows(x: Tensor, k: number): Tensor {
  const [b, ...rest] = x.shape;
  return contiguous(
    reshape(expand(reshape(x, [b, 1, ...rest]), [b, k, ...rest]), [b * k, ...rest]),
  );
}

/**
 * A seq2seq model's decoder bound to one batch of encoder outputs, as the `GenerativeModel` the
 * sampling loop drives: `forward` takes decoder tokens, the decoder mask and the self-attention
 * cache, and returns logits and the grown self-attention cache. A decoder batch of k·B rows is
 * read as k consecutive rows per encoder row (transformers' `repeat_interleave`, the layout beam
 * search and `num_return_sequences` use): `repeatRows(k)` gives that decoder explicitly, and a
 * k·B-row batch fed here gets it implicitly; either way the encoder states and cross keys/values
 * are repeated once and reused for every step. Call `dispose()` when done (it frees what this
 * object made, not the encoder outputs it was given).
 */
export class EncoderBoundDecoder implements GenerativeModel {
  readonly #model: Seq2SeqLM;
  readonly #bound = new Map<number, Bound>();
  readonly #rows: number;
  readonly #made: Tensor[] = [];

  /**
   * Binds `model`'s decoder to `encoder` (the result of `model.encode`), and to its
   * cross-attention keys/values when already computed.
   */
  constructor(model: Seq2SeqLM, encoder: Seq2SeqEncoderOutput, cross?: CachedLayer[]) {
    this.#model = model;
    this.#rows = encoder.lastHiddenState.shape[0];
    this.#bound.set(this.#rows, { encoder, cross: cross ?? null });
  }

  /**
   * The same decoder over each encoder row repeated `times` times in place (row r·times + j is
   * row r), for beam search to go on with B·numBeams rows after a first step on the B prompts:
   * the encoder states and any cross-attention keys/values already computed are repeated, not
   * recomputed. The result owns the repeated tensors; dispose it when done.
   */
  repeatRows(times: number): EncoderBoundDecoder {
    if (!Number.isInteger(times) || times < 1) {
      throw new Error(
        `EncoderBoundDecoder.repeatRows: times must be an integer >= 1, got ${times}`,
      );
    }
    const base = this.#bound.get(this.#rows)!;
    const wide = noGrad(() =>
      tidy(() => ({
        encoder: {
          lastHiddenState: keep(repeatRows(base.encoder.lastHiddenState, times)),
          attentionMask: keep(repeatRows(base.encoder.attentionMask, times)),
        },
        cross: base.cross?.map((l) => ({
          key: keep(repeatRows(l.key, times)),
          value: keep(repeatRows(l.value, times)),
        })),
      }))
    );
    const decoder = new EncoderBoundDecoder(this.#model, wide.encoder, wide.cross);
    decoder.#made.push(wide.encoder.lastHiddenState, wide.encoder.attentionMask);
    for (const l of wide.cross ?? []) decoder.#made.push(l.key, l.value);
    return decoder;
  }

  /** Backend of the model's weights. */
  get backend(): string {
    return this.#model.backend;
  }

  /** The model's stop token. */
  get eosTokenId(): number | null {
    return this.#model.eosTokenId;
  }

  /** The model's padding token. */
  get padTokenId(): number | null {
    return this.#model.padTokenId;
  }

  #forRows(b: number): Bound {
    const have = this.#bound.get(b);
    if (have) return have;
    if (b % this.#rows !== 0) {
      throw new Error(
        `EncoderBoundDecoder: the decoder batch has ${b} rows, not a multiple of the ` +
          `${this.#rows} encoder rows; give k consecutive decoder rows per prompt`,
      );
    }
    const wide = this.repeatRows(b / this.#rows);
    // The wider decoder's tensors become this one's to free.
    this.#made.push(...wide.#made);
    const bound = wide.#bound.get(b)!;
    this.#bound.set(b, bound);
    return bound;
  }

  /** One decoder step (or a full pass): logits and, with `useCache`, the self-attention cache. */
  forward(input: {
    inputIds: Tensor;
    attentionMask: Tensor;
    pastKeyValues?: CachedLayer[];
    useCache?: boolean;
    logitsToKeep?: number;
  }): { logits: Tensor; pastKeyValues?: CachedLayer[] } {
    const bound = this.#forRows(input.inputIds.shape[0]);
    const out = this.#model.forward({
      decoderInputIds: input.inputIds,
      decoderAttentionMask: input.attentionMask,
      encoderOutputs: bound.encoder,
      pastKeyValues: { self: input.pastKeyValues ?? [], cross: bound.cross ?? [] },
      useCache: true,
      logitsToKeep: input.logitsToKeep,
    });
    if (!bound.cross) {
      // Computed inside the caller's scope: keep them for every later step.
      bound.cross = out.pastKeyValues!.cross;
      for (const layer of bound.cross) this.#made.push(keep(layer.key), keep(layer.value));
    }
    return {
      logits: out.logits,
      pastKeyValues: input.useCache ? out.pastKeyValues!.self : undefined,
    };
  }

  /** Frees the repeated encoder states and the cross-attention keys/values. */
  dispose(): void {
    dispose(this.#made);
    this.#made.length = 0;
    for (const b of this.#bound.values()) b.cross = null;
  }
}

/** Right-pads encoder prompts: ids and mask [B, S] as flat row-major arrays. */
function padPrompts(prompts: number[][], pad: number, vocab: number) {
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every(Array.isArray)) {
    throw new Error("generate: prompts must be a non-empty array of token-id arrays");
  }
  const s = Math.max(...prompts.map((p) => p.length));
  const ids = new Float32Array(prompts.length * s).fill(pad);
  const mask = new Float32Array(prompts.length * s);
  prompts.forEach((p, r) => {
    if (p.length === 0) {
      throw new Error(`generate: prompt ${r} is empty; an encoder prompt needs a token (e.g. EOS)`);
    }
    p.forEach((id, c) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new Error(
          `generate: prompt ${r} holds ${id} at ${c}; token ids are integers in [0, ${vocab})`,
        );
      }
      ids[r * s + c] = id;
      mask[r * s + c] = 1;
    });
  });
  return { ids, mask, s };
}

/**
 * Generates decoder tokens for a batch of encoder prompts (unpadded token-id rows): the encoder
 * runs once, the decoder starts from `model.decoderStartTokenId`, and each row's tokens after
 * the start token are returned (EOS included when produced). Every `GenerateOptions` field
 * applies as for causal models; `minLength` counts the start token, as transformers' does for
 * encoder-decoder models.
 *
 * @example
 * ```ts
 * import { generateSeq2Seq, loadSeq2SeqLM } from "@tether/rlhf/models";
 *
 * const t5 = await loadSeq2SeqLM("tests/fixtures/models/t5-a"); // tiny T5 (or "google/flan-t5-small")
 * const { tokens, logProbs } = await generateSeq2Seq(t5, [[37, 8, 1], [42, 1]], {
 *   maxNewTokens: 32, doSample: true, topK: 10, seed: 0,
 * });
 * console.log(tokens.length, logProbs!.length); // 2 2
 * ```
 */
export async function generateSeq2Seq(
  model: Seq2SeqLM,
  prompts: number[][],
  opts: GenerateOptions = {},
): Promise<GenerateResult> {
  const pad = opts.padTokenId ?? model.padTokenId ?? 0;
  const { ids, mask, s } = padPrompts(prompts, pad, model.vocabSize);
  const b = prompts.length;
  const encoder = noGrad(() =>
    tidy(() =>
      model.encode(
        tensor(ids, [b, s], { backend: model.backend }),
        tensor(mask, [b, s], { backend: model.backend }),
      )
    )
  );
  const decoder = new EncoderBoundDecoder(model, encoder);
  try {
    const starts = prompts.map(() => [model.decoderStartTokenId]);
    return await generate(decoder, starts, opts);
  } finally {
    decoder.dispose();
    dispose(encoder);
  }
}
