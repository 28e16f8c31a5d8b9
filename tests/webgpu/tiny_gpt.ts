/**
 * A tiny GPT-2-style model written with the core ops directly (no module classes), so the
 * WebGPU tests and bench exercise exactly the kernels a training step uses: embedding →
 * layerNorm → causal attention with a padding mask → MLP with geluTanh → tied logits →
 * crossEntropy, then backward and AdamW.
 */

import {
  add,
  attention,
  crossEntropy,
  embedding,
  geluTanh,
  type Generator,
  layerNorm,
  matmul,
  permute,
  reshape,
  slice,
  type Tensor,
  tensor,
} from "../../core/mod.ts";

/** Model sizes. */
export interface GptConfig {
  /** Vocabulary size. */
  vocab: number;
  /** Context length (positions). */
  context: number;
  /** Model width. */
  width: number;
  /** Attention heads (width must divide evenly). */
  heads: number;
  /** Transformer blocks. */
  layers: number;
}

/** The parameters by Hugging Face GPT-2 name. */
export type GptParams = Record<string, Tensor>;

/** Initial parameters drawn from `g` (GPT-2's N(0, 0.02) weights, unit layer norms). */
export function initGpt(cfg: GptConfig, g: Generator, backend: string): GptParams {
  const p: GptParams = {};
  const w = (name: string, shape: number[], std = 0.02) => {
    const n = shape.reduce((a, b) => a * b, 1);
    p[name] = tensor(g.normal(n, 0, std), shape, { backend, requiresGrad: true });
  };
  const c = (name: string, shape: number[], value: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    // A little noise so layer-norm gradients differ per element.
    p[name] = tensor(g.normal(n, value, 0.1), shape, { backend, requiresGrad: true });
  };
  const d = cfg.width;
  w("wte.weight", [cfg.vocab, d]);
  w("wpe.weight", [cfg.context, d], 0.01);
  for (let l = 0; l < cfg.layers; l++) {
    const h = `h.${l}.`;
    c(`${h}ln_1.weight`, [d], 1);
    c(`${h}ln_1.bias`, [d], 0);
    w(`${h}attn.c_attn.weight`, [d, 3 * d]);
    c(`${h}attn.c_attn.bias`, [3 * d], 0);
    w(`${h}attn.c_proj.weight`, [d, d]);
    c(`${h}attn.c_proj.bias`, [d], 0);
    c(`${h}ln_2.weight`, [d], 1);
    c(`${h}ln_2.bias`, [d], 0);
    w(`${h}mlp.c_fc.weight`, [d, 4 * d]);
    c(`${h}mlp.c_fc.bias`, [4 * d], 0);
    w(`${h}mlp.c_proj.weight`, [4 * d, d]);
    c(`${h}mlp.c_proj.bias`, [d], 0);
  }
  c("ln_f.weight", [d], 1);
  c("ln_f.bias", [d], 0);
  return p;
}

/** One transformer block on x [B, T, D] with key padding mask [B, T]. */
export function gptBlock(
  cfg: GptConfig,
  p: GptParams,
  l: number,
  x: Tensor,
  mask: Tensor,
): Tensor {
  const [b, t, d] = x.shape;
  const hd = d / cfg.heads;
  const h = `h.${l}.`;
  const linear = (z: Tensor, name: string) =>
    add(matmul(z, p[`${name}.weight`]), p[`${name}.bias`]);
  const a = layerNorm(x, p[`${h}ln_1.weight`], p[`${h}ln_1.bias`], 1e-5);
  const qkv = linear(a, `${h}attn.c_attn`);
  const heads = (i: number) =>
    permute(reshape(slice(qkv, [0, 0, i * d], [b, t, d]), [b, t, cfg.heads, hd]), [0, 2, 1, 3]);
  const y = attention(heads(0), heads(1), heads(2), { causal: true, mask });
  const merged = reshape(permute(y, [0, 2, 1, 3]), [b, t, d]);
  const x1 = add(x, linear(merged, `${h}attn.c_proj`));
  const m = layerNorm(x1, p[`${h}ln_2.weight`], p[`${h}ln_2.bias`], 1e-5);
  return add(x1, linear(geluTanh(linear(m, `${h}mlp.c_fc`)), `${h}mlp.c_proj`));
}

/** Logits [B, T, V] for ids [B, T] (positions 0..T-1) with tied input/output embeddings. */
export function gptLogits(
  cfg: GptConfig,
  p: GptParams,
  ids: Tensor,
  positions: Tensor,
  mask: Tensor,
): Tensor {
  let x = add(embedding(p["wte.weight"], ids), embedding(p["wpe.weight"], positions));
  for (let l = 0; l < cfg.layers; l++) x = gptBlock(cfg, p, l, x, mask);
  const f = layerNorm(x, p["ln_f.weight"], p["ln_f.bias"], 1e-5);
  return matmul(f, p["wte.weight"], { transB: true });
}

/** Mean next-token cross-entropy; targets of -100 are ignored (padding). */
export function gptLoss(
  cfg: GptConfig,
  p: GptParams,
  ids: Tensor,
  positions: Tensor,
  mask: Tensor,
  targets: Tensor,
): Tensor {
  return crossEntropy(gptLogits(cfg, p, ids, positions, mask), targets);
}

/** A fixed batch: ids, positions, mask (first row left-padded by 2) and shifted targets. */
export function gptBatch(
  cfg: GptConfig,
  g: Generator,
  batch: number,
  backend: string,
): { ids: Tensor; positions: Tensor; mask: Tensor; targets: Tensor } {
  const t = cfg.context;
  const ids: number[] = [], mask: number[] = [], targets: number[] = [], pos: number[] = [];
  for (let r = 0; r < batch; r++) {
    const pad = r === 0 ? 2 : 0;
    const row = Array.from({ length: t }, () => g.int(cfg.vocab));
    for (let i = 0; i < t; i++) {
      ids.push(row[i]);
      mask.push(i < pad ? 0 : 1);
      pos.push(Math.max(0, i - pad));
      targets.push(i < pad || i === t - 1 ? -100 : row[i + 1]);
    }
  }
  const o = { backend };
  return {
    ids: tensor(ids, [batch, t], o),
    positions: tensor(pos, [batch, t], o),
    mask: tensor(mask, [batch, t], o),
    targets: tensor(targets, [batch, t], o),
  };
}
