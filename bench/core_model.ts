/**
 * The models the core benchmarks time, built from core ops and `nn` layers: a pre-norm GPT
 * transformer block (layerNorm, fused causal attention, geluTanh MLP) and a small GPT with tied
 * input/output embeddings. tools/bench_torch_core.py builds the same shapes in PyTorch.
 */

import {
  add,
  attention,
  geluTanh,
  matmul,
  permute,
  reshape,
  select,
  type Tensor,
} from "../core/mod.ts";
import { Embedding, LayerNorm, Linear, Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";

/** x + attn(ln1(x)), then + mlp(ln2(x)); x is [B, T, C]. */
export class Block extends Module {
  readonly ln1: LayerNorm;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly ln2: LayerNorm;
  readonly fc: Linear;
  readonly fcProj: Linear;

  constructor(readonly width: number, readonly heads: number, generator: Generator) {
    super();
    this.ln1 = this.registerModule("ln1", new LayerNorm(width));
    this.qkv = this.registerModule("qkv", new Linear(width, 3 * width, { generator }));
    this.proj = this.registerModule("proj", new Linear(width, width, { generator }));
    this.ln2 = this.registerModule("ln2", new LayerNorm(width));
    this.fc = this.registerModule("fc", new Linear(width, 4 * width, { generator }));
    this.fcProj = this.registerModule("fcProj", new Linear(4 * width, width, { generator }));
  }

  forward(x: Tensor): Tensor {
    const [b, t, c] = x.shape, h = this.heads, d = c / h;
    const qkv = permute(reshape(this.qkv.forward(this.ln1.forward(x)), [b, t, 3, h, d]), [
      2,
      0,
      3,
      1,
      4,
    ]);
    const part = (i: number) => reshape(select(qkv, 0, i), [b, h, t, d]);
    const y = attention(part(0), part(1), part(2), { causal: true });
    const merged = reshape(permute(y, [0, 2, 1, 3]), [b, t, c]);
    const x1 = add(x, this.proj.forward(merged));
    return add(x1, this.fcProj.forward(geluTanh(this.fc.forward(this.ln2.forward(x1)))));
  }
}

/** Token + position embeddings, `layers` blocks, a final layerNorm and tied output logits. */
export class TinyGpt extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly blocks: Block[];
  readonly lnF: LayerNorm;

  constructor(
    readonly vocab: number,
    readonly context: number,
    readonly width: number,
    readonly layers: number,
    readonly heads: number,
    generator: Generator,
  ) {
    super();
    this.wte = this.registerModule("wte", new Embedding(vocab, width, { generator }));
    this.wpe = this.registerModule("wpe", new Embedding(context, width, { generator }));
    this.blocks = Array.from(
      { length: layers },
      (_, i) => this.registerModule(`h${i}`, new Block(width, heads, generator)),
    );
    this.lnF = this.registerModule("lnF", new LayerNorm(width));
  }

  /** ids [B, T] (token ids as f32), positions [T] → logits [B, T, vocab]. */
  forward(ids: Tensor, positions: Tensor): Tensor {
    let x = add(this.wte.forward(ids), this.wpe.forward(positions));
    for (const block of this.blocks) x = block.forward(x);
    return matmul(this.lnF.forward(x), this.wte.weight, { transB: true });
  }
}
