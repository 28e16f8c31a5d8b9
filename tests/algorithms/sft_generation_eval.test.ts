// SFTTrainer's generation-based evaluation: greedy completions scored with ROUGE, logged as the
// Hugging Face Trainer names them (eval_rouge1 …) every evalSteps and at the end.

import assert from "node:assert/strict";
import { readMetrics } from "../../algorithms/common/mod.ts";
import { SFTTrainer, tokenizeSftExamples } from "../../algorithms/sft/mod.ts";
import { Generator } from "../../core/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";
import { computeRouge } from "../../eval/mod.ts";
import { GPT2LMHeadModel } from "../../models/mod.ts";

const tokenizer = new SyntheticWordTokenizer();
const PAIRS = [
  { prompt: "the acting was", completion: " great. i loved it." },
  { prompt: "the plot was", completion: " boring and slow." },
  { prompt: "the music was", completion: " wonderful, a must see!" },
  { prompt: "the ending was", completion: " awful. what a waste of time." },
];

function tinyGpt2(seed: number): GPT2LMHeadModel {
  return new GPT2LMHeadModel(
    {
      vocab_size: tokenizer.vocabSize,
      n_positions: 32,
      n_embd: 32,
      n_layer: 2,
      n_head: 2,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      eos_token_id: tokenizer.eosTokenId,
      bos_token_id: tokenizer.bosTokenId,
    },
    { backend: "cpu", generator: new Generator(seed) },
  );
}

Deno.test("SFTTrainer generationEval: ROUGE of greedy completions rises, logged as eval_rouge* at evalSteps and the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = tinyGpt2(0);
    const examples = tokenizeSftExamples(PAIRS, tokenizer);
    const generationEval = {
      prompts: PAIRS.map((p) => tokenizer.encode(p.prompt)),
      references: PAIRS.map((p) => p.completion),
      decode: (ids: number[]) => tokenizer.decode(ids),
      maxNewTokens: 10,
    };
    const trainer = new SFTTrainer({
      learningRate: 1e-2,
      batchSize: 4,
      maxSteps: 50,
      evalSteps: 20,
      loggingSteps: 10,
      outputDir: dir,
      seed: 0,
    }, { model, trainDataset: examples, tokenizer, generationEval });
    const before = await trainer.evaluate();
    assert.deepEqual(
      Object.keys(before).filter((k) => k.startsWith("eval_")).sort(),
      ["eval_gen_len", "eval_rouge1", "eval_rouge2", "eval_rougeL", "eval_rougeLsum"],
    );
    await trainer.train();
    const after = await trainer.evaluateGeneration();
    // The metrics are computeRouge of the completions, under the same seed.
    const rouge = computeRouge(after.predictions, generationEval.references, { seed: 42 });
    assert.equal(after.metrics.eval_rougeL, rouge.rougeL);
    assert.equal(after.metrics.eval_rouge1, rouge.rouge1);
    // ... and the completions are the model's greedy ones.
    const { tokens } = await model.generate(generationEval.prompts.map((p) => [...p]), {
      maxNewTokens: 10,
    });
    assert.deepEqual(after.predictions, tokens.map((t) => tokenizer.decode(t)));
    assert.ok(
      after.metrics.eval_rougeL >= before.eval_rougeL + 0.5,
      `rougeL ${before.eval_rougeL} -> ${after.metrics.eval_rougeL}`,
    );
    const lines = await readMetrics(dir);
    const evalSteps = lines.filter((l) => "eval_rougeL" in l).map((l) => l.step);
    assert.deepEqual(evalSteps, [20, 40, 50]);
    const last = lines.find((l) => l.step === 50 && "eval_rougeL" in l)!;
    assert.ok("eval_gen_len" in last && "eval_rougeLsum" in last);
    trainer.optimizer.dispose();
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SFTTrainer generationEval: bad settings fail naming the field", () => {
  const model = tinyGpt2(1);
  const examples = tokenizeSftExamples(PAIRS, tokenizer);
  const make = (g: Record<string, unknown>) =>
    new SFTTrainer({}, {
      model,
      trainDataset: examples,
      generationEval: { prompts: [[3]], references: ["x"], decode: () => "", ...g },
    });
  assert.throws(() => make({ references: ["a", "b"] }), /1 prompts but 2 references/);
  assert.throws(() => make({ references: [" "] }), /reference 0 is empty/);
  assert.throws(() => make({ prompts: [[]] }), /prompt 0 is empty/);
  assert.throws(
    () =>
      new SFTTrainer({}, {
        model: { forward: model.forward.bind(model), parameters: () => model.parameters() },
        trainDataset: examples,
        generationEval: { prompts: [[3]], references: ["x"], decode: () => "" },
      }),
    /needs a model with generate/,
  );
  model.dispose();
});
