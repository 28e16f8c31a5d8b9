// Tiny models and fault injection shared by the trainer tests.

import { Generator, nn, type Tensor } from "../../core/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";

/** Size of the synthetic-review vocabulary the trainer tests use. */
export const SYNTHETIC_VOCAB: number = new SyntheticWordTokenizer().vocabSize;

/** Embedding → linear: a bigram language model over the synthetic vocabulary. */
export class BigramLM extends nn.Module {
  readonly wte: nn.Embedding;
  readonly head: nn.Linear;

  constructor(seed: number, backend = "cpu", dim = 16, vocab = SYNTHETIC_VOCAB) {
    super();
    const g = new Generator(seed);
    this.wte = this.registerModule("wte", new nn.Embedding(vocab, dim, { generator: g, backend }));
    this.head = this.registerModule("head", new nn.Linear(dim, vocab, { generator: g, backend }));
  }

  forward(inputs: { inputIds: Tensor; attentionMask?: Tensor }): { logits: Tensor } {
    return { logits: this.head.forward(this.wte.forward(inputs.inputIds)) };
  }
}

/** Makes `optimizer.step()` throw after `n` steps: a run that dies after its step-n checkpoint. */
export function crashAfterSteps(optimizer: { step(): void }, n: number): void {
  const step = optimizer.step.bind(optimizer);
  let steps = 0;
  optimizer.step = () => {
    if (++steps > n) throw new Error(`simulated crash after the step-${n} checkpoint`);
    step();
  };
}
