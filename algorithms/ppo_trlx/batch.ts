/**
 * The token layout of trlX's PPO, for rollout chunks (`make_experience`) and training minibatches
 * (`PPORolloutStorage.collate` then `AcceleratePPOTrainer.loss`), and the one forward both use.
 *
 * - causal: tokens = prompt (padded on the tokenizer's side) ++ response (right padded);
 *   mask = tokens != pad; position ids = cumsum(mask) − 1 with 1 on padding; log-prob t is the
 *   log-prob of token t + 1; the response's predictions start at `start` = prompt width − 1.
 * - seq2seq: the encoder reads the prompt (mask = prompt != pad); the decoder reads
 *   `[pad] ++ output`, right padded, with mask = ids != pad and column 0 forced to 1;
 *   `start` = 0.
 *
 * @module
 */

import {
  detach,
  lmHeadLogProbs,
  noGrad,
  slice,
  type Tensor,
  tensor,
  tidy,
  tokenLogProbs,
} from "../../core/mod.ts";
import type { TrlxArch, TrlxForwardInput, TrlxPolicy } from "./policy.ts";

/** A padded batch ready for the forward. */
export interface TrlxBatch {
  /** The policy's inputs. */
  input: TrlxForwardInput;
  /** The tokens the log-probs are of: [B, L − 1] (causal: tokens[1:]; seq2seq: decoder ids[1:]). */
  labels: Tensor;
  /** `ids != pad` over the sequence the log-probs run along, [B][L] (trlX's ratio mask). */
  mask: number[][];
  /** First response prediction. */
  start: number;
}

/**
 * Pads rows to `width` on `side` with `pad` (trlX's `pad_sequence`, flipped for the left).
 *
 * @param rows Token rows.
 * @param pad The pad id.
 * @param side Which side gets the padding.
 * @param width Target width (default: the longest row).
 */
export function padRows(
  rows: readonly (readonly number[])[],
  pad: number,
  side: "left" | "right",
  width: number = Math.max(0, ...rows.map((r) => r.length)),
): number[][] {
  return rows.map((r) => {
    const fill = new Array(width - r.length).fill(pad);
    return side === "left" ? [...fill, ...r] : [...r, ...fill];
  });
}

/**
 * The forward inputs of prompt rows and response rows, each already padded to one width.
 *
 * @param arch `causal` or `seq2seq`.
 * @param queries Prompt rows, one width.
 * @param responses Response rows (seq2seq: `[pad] ++ output`), one width, right padded.
 * @param pad The pad id.
 * @param backend Where the tensors go.
 */
export function trlxBatch(
  arch: TrlxArch,
  queries: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  pad: number,
  backend: string,
): TrlxBatch {
  const B = queries.length;
  const notPad = (row: readonly number[]) => row.map((t) => (t === pad ? 0 : 1));
  if (arch === "seq2seq") {
    const T = responses[0].length;
    const decMask = responses.map((r) => {
      const m = notPad(r);
      m[0] = 1;
      return m;
    });
    return {
      input: {
        inputIds: ids(queries, backend),
        attentionMask: ids(queries.map(notPad), backend),
        decoderInputIds: ids(responses, backend),
        decoderAttentionMask: ids(decMask, backend),
      },
      labels: tensor(responses.flatMap((r) => r.slice(1)), [B, T - 1], { backend }),
      mask: responses.map(notPad),
      start: 0,
    };
  }
  const tokens = queries.map((q, b) => [...q, ...responses[b]]);
  const L = tokens[0].length;
  const mask = tokens.map(notPad);
  const positions = mask.map((m) => {
    let c = -1;
    return m.map((x) => (x ? ++c : 1));
  });
  return {
    input: {
      inputIds: ids(tokens, backend),
      attentionMask: ids(mask, backend),
      positionIds: ids(positions, backend),
    },
    labels: tensor(tokens.flatMap((r) => r.slice(1)), [B, L - 1], { backend }),
    mask,
    start: queries[0].length - 1,
  };
}

function ids(rows: readonly (readonly number[])[], backend: string): Tensor {
  return tensor(rows.flat(), [rows.length, rows[0]?.length ?? 0], { backend });
}

/**
 * Log-probs of the labels and values, both [B, L − 1] (the last position's value is dropped, as
 * trlX's `values[:, :-1]`). A causal policy whose LM head is a plain matrix is scored through the
 * fused, chunked LM head; seq2seq through its logits.
 *
 * @param model The policy (or the reference, inside `Reference.run`).
 * @param batch The batch.
 */
export function trlxLogprobsAndValues(
  model: TrlxPolicy,
  batch: TrlxBatch,
): { logprobs: Tensor; values: Tensor } {
  const head = model.outputEmbeddings();
  if (head) {
    // The fused, chunked LM head: no [B, L, V] logits, forward or backward.
    const out = model.forward({ ...batch.input, logitsToKeep: 1, outputHiddenStates: true });
    out.logits.dispose();
    const [B, L, D] = out.hiddenStates!.shape;
    return {
      logprobs: lmHeadLogProbs(
        slice(out.hiddenStates!, [0, 0, 0], [B, L - 1, D]),
        head,
        batch.labels,
      ),
      values: slice(out.values, [0, 0], [B, L - 1]),
    };
  }
  const out = model.forward(batch.input);
  const [B, L, V] = out.logits.shape;
  const logits = slice(out.logits, [0, 0, 0], [B, L - 1, V]);
  return {
    logprobs: tokenLogProbs(logits, batch.labels),
    values: slice(out.values, [0, 0], [B, L - 1]),
  };
}

/**
 * The same, without gradients, read back as host rows.
 *
 * @param model The policy (or the reference, inside `Reference.run`).
 * @param batch The batch.
 */
export async function hostLogprobsAndValues(
  model: TrlxPolicy,
  batch: TrlxBatch,
): Promise<{ logprobs: number[][]; values: number[][] }> {
  const { logprobs, values } = tidy(() =>
    noGrad(() => {
      const r = trlxLogprobsAndValues(model, batch);
      return { logprobs: detach(r.logprobs), values: detach(r.values) };
    })
  );
  const rows = async (t: Tensor) => {
    const [B, T] = t.shape;
    // Exact on cpu64; f32 elsewhere (one readback either way).
    const flat = t.backend.readSync ? t.toFloat64ArraySync() : await t.toArray();
    t.dispose();
    return Array.from({ length: B }, (_, b) => Array.from(flat.subarray(b * T, (b + 1) * T)));
  };
  return { logprobs: await rows(logprobs), values: await rows(values) };
}

/**
 * Frees a batch's tensors.
 *
 * @param batch The batch.
 */
export function disposeTrlxBatch(batch: TrlxBatch): void {
  for (const t of Object.values(batch.input)) (t as Tensor | undefined)?.dispose();
  batch.labels.dispose();
}
