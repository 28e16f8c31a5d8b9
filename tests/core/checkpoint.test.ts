// Gradient checkpointing in the core: gradients equal the plain path's bit for bit (dropout
// included, through rewound generators), intermediates are freed after the forward, nothing
// leaks, and runBlock frees a block's intermediates when nothing is recorded.

import assert from "node:assert/strict";
import {
  add,
  checkpoint,
  geluTanh,
  Generator,
  layerNorm,
  matmul,
  memory,
  mul,
  nn,
  noGrad,
  profileOps,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../core/mod.ts";

/** A residual MLP block with layer norm and dropout. */
class Block extends nn.Module {
  readonly w1: Tensor;
  readonly w2: Tensor;
  readonly g: Tensor;
  readonly b: Tensor;
  readonly drop: nn.Dropout;
  constructor(d: number, gen: Generator, dropGen: Generator) {
    super();
    this.w1 = this.registerParameter("w1", tensor(gen.normal(d * 4 * d, 0, 0.2), [d, 4 * d]));
    this.w2 = this.registerParameter("w2", tensor(gen.normal(4 * d * d, 0, 0.2), [4 * d, d]));
    this.g = this.registerParameter("g", tensor(gen.normal(d, 1, 0.1), [d]));
    this.b = this.registerParameter("b", tensor(gen.normal(d, 0, 0.1), [d]));
    this.drop = this.registerModule("drop", new nn.Dropout(0.2, dropGen));
  }
  forward(x: Tensor): Tensor {
    const h = geluTanh(matmul(layerNorm(x, this.g, this.b), this.w1));
    return add(x, this.drop.forward(matmul(h, this.w2)));
  }
}

class Stack extends nn.Module {
  readonly blocks: Block[];
  constructor(n: number, d: number, backend: string) {
    super();
    const gen = new Generator(1), dropGen = new Generator(2);
    this.blocks = Array.from(
      { length: n },
      (_, i) => this.registerModule(String(i), new Block(d, gen, dropGen)),
    );
    void backend;
  }
  forward(x: Tensor): Tensor {
    // The caller's x is not the model's to free; every later block input is.
    this.blocks.forEach((b, i) => {
      x = nn.runBlock(b, (h) => b.forward(h), x, { consumeInput: i > 0 });
    });
    return x;
  }
}

function gradsOf(model: Stack, x: Tensor, seed: Tensor): Float32Array[] {
  model.zeroGrad();
  tidy(() => sum(mul(model.forward(x), seed)).backward());
  return model.parameters().map((p) => p.grad!.toArraySync());
}

Deno.test("checkpoint: gradients equal the plain path's bits, dropout included", () => {
  // Two identical models (same weights, same dropout generator seed), one checkpointed.
  const plainModel = new Stack(3, 16, "cpu"), checkedModel = new Stack(3, 16, "cpu");
  checkedModel.gradientCheckpointingEnable();
  const g = new Generator(3);
  const x = tensor(g.normal(8 * 16), [8, 16]), seed = tensor(g.normal(8 * 16), [8, 16]);
  const plain = gradsOf(plainModel, x, seed), checked = gradsOf(checkedModel, x, seed);
  assert.equal(plain.length, 12);
  plain.forEach((p, i) => assert.deepEqual(checked[i], p, `parameter ${i}`));
  for (const t of [x, seed]) t.dispose();
  plainModel.dispose();
  checkedModel.dispose();
});

Deno.test("checkpoint: input gradients flow; a frozen block still passes its gradient on", () => {
  const gen = new Generator(5);
  const w = tensor(gen.normal(16), [4, 4]);
  const x = tensor(gen.normal(12), [3, 4], { requiresGrad: true });
  const f = (h: Tensor) => geluTanh(matmul(h, w));
  tidy(() => sum(f(x)).backward());
  const plain = x.grad!.toArraySync();
  x.zeroGrad();
  tidy(() => sum(checkpoint(f, x)).backward());
  assert.deepEqual(x.grad!.toArraySync(), plain);
  for (const t of [w, x]) t.dispose();
});

Deno.test("checkpoint: a tensor computed outside and shared by blocks gets its gradient once per use", () => {
  // As T5's position bias or an encoder's keys: made from a parameter before the blocks, captured
  // by each block's function. The recomputation must end at it and hand its gradient outward.
  const gen = new Generator(11);
  const table = tensor(gen.normal(16), [4, 4], { requiresGrad: true });
  const w = tensor(gen.normal(16), [4, 4], { requiresGrad: true });
  const x = tensor(gen.normal(12), [3, 4], { requiresGrad: true });
  const seed = tensor(gen.normal(12), [3, 4]);
  const run = (wrap: (f: (h: Tensor) => Tensor, h: Tensor) => Tensor) => {
    for (const t of [table, w, x]) t.zeroGrad();
    tidy(() => {
      const bias = mul(geluTanh(table), 0.5);
      const f = (h: Tensor) => add(geluTanh(matmul(h, w)), matmul(h, bias));
      sum(mul(wrap(f, wrap(f, x)), seed)).backward();
    });
    return [table, w, x].map((t) => t.grad!.toArraySync());
  };
  const plain = run((f, h) => f(h));
  const checked = run((f, h) => checkpoint(f, h));
  plain.forEach((p, i) => assert.deepEqual(checked[i], p, `gradient ${i}`));
  assert.ok(plain[0].some((v) => v !== 0), "the captured tensor's parameter gets a gradient");
  for (const t of [table, w, x, seed]) t.dispose();
});

Deno.test("checkpoint: keeps only block inputs on the tape (peak memory) and leaks nothing", () => {
  const before = memory();
  const model = new Stack(6, 64, "cpu");
  const g = new Generator(7);
  const x = tensor(g.normal(256 * 64), [256, 64]);
  const peak = () =>
    profileOps(() => tidy(() => sum(model.forward(x)).backward())).profile.peakLiveBytes;
  const plain = peak();
  model.gradientCheckpointingEnable();
  const checked = peak();
  model.gradientCheckpointingEnable(false);
  // Six blocks each hold ~5 activations of [256, 256] or [256, 64]; checkpointed, one block's.
  assert.ok(checked < 0.6 * plain, `checkpointed peak ${checked} B vs plain ${plain} B`);
  model.zeroGrad();
  x.dispose();
  model.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("runBlock: without recording, each block's intermediates are freed on return", () => {
  const x = tensor(new Generator(9).normal(512 * 64), [512, 64]);
  /** Peak live bytes beyond the weights and the input, of a no-grad forward. */
  const activations = (blocks: number) => {
    const model = new Stack(blocks, 64, "cpu");
    const { profile } = profileOps(() => noGrad(() => tidy(() => model.forward(x))));
    const extra = profile.peakLiveBytes - model.numParameters() * 4 - x.size * 4;
    model.dispose();
    return extra;
  };
  const one = activations(1), eight = activations(8);
  // Kept, eight blocks would hold eight blocks' activations; freed, about one block's.
  assert.ok(eight < 1.2 * one, `8 blocks peak at ${eight} B of activations, 1 block at ${one} B`);
  x.dispose();
});
