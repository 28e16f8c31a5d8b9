/**
 * Trains the tiny T5 policy of the go_emotions tutorial's offline preset (the stand-in for
 * `google/flan-t5-small`) on the SYNTHETIC emotion corpus (data/synthetic/emotions.ts; not
 * GoEmotions), deterministically on the CPU backend: given a text's first 4 words (the
 * tutorial's prompts), write the rest of the text. The corpus's emotions are uniform over the 28
 * labels, so the policy starts with no preference for any one: what PPO has to change.
 *
 *   deno run -A tools/train_tiny_emotions_policy.ts [--out examples/assets/tiny-emotions/policy]
 *     [--steps 1200]
 *
 * Writes the folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) and a
 * README.md there with the measured numbers.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Generator, mean, mul, neg, optim, sum, tensor, tidy, tokenLogProbs } from "../core/mod.ts";
import {
  firstWords,
  generateSyntheticEmotions,
  Rng,
  SYNTHETIC_EMOTION_WORDS,
  type SyntheticEmotionText,
} from "../data/mod.ts";
import {
  createTokenizer,
  loadTextClassifier,
  saveTokenizer,
  t5Config,
  T5ForConditionalGeneration,
  type Tokenizer,
  type TokenizerJson,
  wordLevelTokenizerJson,
} from "../models/mod.ts";
import { writeTextFileAtomic } from "../models/io/atomic.ts";
import { T5_POST_PROCESSOR } from "./scale/tokenizers.ts";

const BACKEND = "cpu";
const DEFAULT_OUT = fileURLToPath(
  new URL("../examples/assets/tiny-emotions/policy", import.meta.url),
);
const CLASSIFIER = fileURLToPath(
  new URL("../examples/assets/tiny-emotions/classifier", import.meta.url),
);
const SEEDS = { weights: 0, dropout: 1, corpus: 31, heldOut: 32, order: 3, sample: 4 } as const;
const TRAIN_TEXTS = 20_000;
const BATCH = 32;
const LEARNING_RATE = 3e-3;
/** T5's special tokens in T5's id order. */
const T5_SPECIALS = ["<pad>", "</s>", "<unk>"] as const;

/** The tokenizer: T5's specials, then the grammar's words; `</s>` appended to every text. */
export function tinyEmotionPolicyTokenizerFiles(): {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: Record<string, unknown>;
} {
  const vocab = [...T5_SPECIALS, ...[...SYNTHETIC_EMOTION_WORDS].sort()];
  const json = wordLevelTokenizerJson(vocab, {
    unkToken: "<unk>",
    specialTokens: [...T5_SPECIALS],
  });
  json.post_processor = T5_POST_PROCESSOR;
  return {
    tokenizerJson: json,
    tokenizerConfig: {
      eos_token: "</s>",
      pad_token: "<pad>",
      unk_token: "<unk>",
      model_max_length: 64,
      tokenizer_class: "T5Tokenizer",
    },
  };
}

/** The tiny policy's config.json: flan-T5's shape (gated GELU, untied head), scaled down. */
export function tinyEmotionPolicyConfig(vocabSize: number): Record<string, unknown> {
  return {
    model_type: "t5",
    architectures: ["T5ForConditionalGeneration"],
    vocab_size: vocabSize,
    d_model: 64,
    d_kv: 16,
    d_ff: 128,
    num_layers: 2,
    num_decoder_layers: 2,
    num_heads: 4,
    relative_attention_num_buckets: 16,
    relative_attention_max_distance: 32,
    dropout_rate: 0.1,
    layer_norm_epsilon: 1e-6,
    initializer_factor: 1.0,
    feed_forward_proj: "gated-gelu",
    dense_act_fn: "gelu_new",
    is_gated_act: true,
    tie_word_embeddings: false,
    decoder_start_token_id: 0,
    pad_token_id: 0,
    eos_token_id: 1,
    is_encoder_decoder: true,
    use_cache: true,
  };
}

/** A text as a training pair: its first 4 words → the rest. */
function pair(
  tokenizer: Tokenizer,
  row: SyntheticEmotionText,
): { input: number[]; target: number[] } {
  const prompt = firstWords(row.text, 4);
  const rest = row.text.split(/\s+/).filter(Boolean).slice(4).join(" ");
  return { input: tokenizer.encode(prompt), target: tokenizer.encode(rest) };
}

async function train(dir: string, steps: number) {
  const files = tinyEmotionPolicyTokenizerFiles();
  const tokenizer = await createTokenizer(files.tokenizerJson, files.tokenizerConfig, "t5");
  const config = t5Config(tinyEmotionPolicyConfig(tokenizer.vocabSize));
  const model = new T5ForConditionalGeneration(config, {
    backend: BACKEND,
    generator: new Generator(SEEDS.weights),
  });
  const corpus = generateSyntheticEmotions(TRAIN_TEXTS, { seed: SEEDS.corpus }).toArray();
  const pairs = corpus.map((r) => pair(tokenizer, r));
  const opt = new optim.AdamW(model.parameters(), { lr: LEARNING_RATE, weightDecay: 0.01 });
  const sched = optim.linearScheduleWithWarmup(opt, Math.floor(steps / 20), steps);
  const rng = new Rng(SEEDS.order);
  let order: number[] = [], cursor = 0, running = 0;
  model.train();
  const started = performance.now();
  for (let step = 1; step <= steps; step++) {
    if (cursor + BATCH > order.length) {
      order = rng.shuffleInPlace(Array.from({ length: pairs.length }, (_, i) => i));
      cursor = 0;
    }
    const batch = order.slice(cursor, cursor += BATCH).map((i) => pairs[i]);
    const S = Math.max(...batch.map((p) => p.input.length));
    const T = Math.max(...batch.map((p) => p.target.length));
    const padTo = (row: number[], n: number) => [...row, ...new Array(n - row.length).fill(0)];
    const loss = tidy(() => {
      const inputIds = tensor(batch.flatMap((p) => padTo(p.input, S)), [BATCH, S], {
        backend: BACKEND,
      });
      const attentionMask = tensor(
        batch.flatMap((p) => padTo(p.input.map(() => 1), S)),
        [BATCH, S],
        { backend: BACKEND },
      );
      // Teacher forcing: decoder reads [start] ++ target[:-1] and predicts target.
      const decoderInputIds = tensor(
        batch.flatMap((p) => padTo([0, ...p.target.slice(0, -1)], T)),
        [BATCH, T],
        { backend: BACKEND },
      );
      const labels = tensor(batch.flatMap((p) => padTo(p.target, T)), [BATCH, T], {
        backend: BACKEND,
      });
      const mask = tensor(
        batch.flatMap((p) => padTo(p.target.map(() => 1), T)),
        [BATCH, T],
        { backend: BACKEND },
      );
      const { logits } = model.forward({ inputIds, attentionMask, decoderInputIds });
      const nll = neg(sum(mul(tokenLogProbs(logits, labels), mask)));
      const l = mul(nll, 1 / batch.reduce((a, p) => a + p.target.length, 0));
      l.backward();
      return l.itemSync();
    });
    opt.step();
    opt.zeroGrad();
    sched.step();
    running = step === 1 ? loss : 0.98 * running + 0.02 * loss;
    if (step % 100 === 0 || step === steps) {
      const s = (performance.now() - started) / 1000;
      console.log(`step ${step}/${steps} | loss ${running.toFixed(4)} | ${s.toFixed(0)} s`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  opt.dispose();
  model.eval();

  // What the policy writes for held-out prompts, and how the tiny classifier reads it.
  const heldOut = generateSyntheticEmotions(256, { seed: SEEDS.heldOut }).toArray();
  const prompts = heldOut.map((r) => firstWords(r.text, 4));
  const { tokens } = await model.generate(prompts.map((p) => tokenizer.encode(p)), {
    maxNewTokens: 24,
    doSample: true,
    topK: 10,
    generator: new Generator(SEEDS.sample),
  });
  const outputs = tokens.map((t) => tokenizer.decode(t, { skipSpecialTokens: true }));
  const classifier = await loadTextClassifier(CLASSIFIER);
  const scored = await classifier.classify(
    prompts.map((p, i) => `${p} ${outputs[i]}`),
    { topK: null, functionToApply: "softmax" },
  );
  const joy = scored.map((labels) => labels.find((l) => l.label === "joy")!.score);
  const meanJoy = joy.reduce((a, b) => a + b, 0) / joy.length;
  const ended = tokens.filter((t) => t[t.length - 1] === 1).length / tokens.length;
  const heldOutNll = tidy(() => {
    const ps = heldOut.map((r) => pair(tokenizer, r));
    let total = 0, count = 0;
    for (const p of ps) {
      const { logits } = model.forward({
        inputIds: [p.input],
        decoderInputIds: [[0, ...p.target.slice(0, -1)]],
      });
      const lp = tokenLogProbs(
        logits,
        tensor(p.target, [1, p.target.length], { backend: BACKEND }),
      );
      total -= mean(lp).itemSync() * p.target.length;
      count += p.target.length;
    }
    return total / count;
  });

  await model.save(dir);
  await saveTokenizer(dir, files.tokenizerJson, files.tokenizerConfig);
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  return {
    steps,
    seconds,
    params,
    vocab: tokenizer.vocabSize,
    heldOutNll,
    meanJoy,
    ended,
    examples: prompts.slice(0, 4).map((p, i) => [p, outputs[i]] as const),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) total += (await Deno.stat(join(dir, entry.name))).size;
  }
  return total;
}

function readme(run: Awaited<ReturnType<typeof train>>, bytes: number): string {
  return `# Tiny T5 policy (SYNTHETIC data, not GoEmotions)

This checkpoint stands in for \`google/flan-t5-small\` in the go_emotions tutorial's offline
\`--preset tiny\` (\`examples/emotions_ppo.ts\`). It was trained on the project's SYNTHETIC emotion
corpus (\`data/synthetic/emotions.ts\`): given the first 4 words of a text (the tutorial's
prompts), it writes the rest. The corpus's emotions are uniform over GoEmotions' 28 labels, so the
policy starts with no preference for any one of them. It knows no English beyond that grammar.

Made by \`deno run -A tools/train_tiny_emotions_policy.ts\` (CPU backend, seeded: the same command
writes the same weights). Times are wall-clock on a shared 2-core machine.

## The model (${(bytes / 1024).toFixed(0)} KiB)

A \`T5ForConditionalGeneration\` shaped like flan-T5 (gated GELU feed-forward, untied head), scaled
down: d_model 64, d_ff 128, 2 encoder and 2 decoder blocks, 4 heads of 16, 16 relative-position
buckets, vocab ${run.vocab}, ${run.params} parameters. The tokenizer is word-level
(\`tokenizer.json\`): lowercased words and punctuation marks with T5's specials and ids (\`<pad>\`
0, \`</s>\` 1, \`<unk>\` 2), \`</s>\` appended to every text as T5's tokenizer does.

Trained for ${run.steps} steps of ${BATCH} pairs (AdamW, lr ${LEARNING_RATE}, weight decay 0.01,
linear warmup and decay, dropout 0.1) in ${run.seconds.toFixed(0)} s with teacher-forced
cross-entropy, on ${TRAIN_TEXTS} texts (seed ${SEEDS.corpus}).

## Held out

On 256 held-out texts (seed ${SEEDS.heldOut}): cross-entropy ${
    run.heldOutNll.toFixed(3)
  } nats per target token. Sampled
with the tutorial's settings (top-k 10, at most 24 new tokens here), ${
    (100 * run.ended).toFixed(0)
  }% of completions end
with \`</s>\`, and the tiny classifier (\`../classifier\`) gives prompt + completion a mean softmax
P(joy) of ${run.meanJoy.toFixed(3)} (1/28 = 0.036): the reward PPO starts from.

${run.examples.map(([p, o]) => `- "${p}" ⟶ "${o}"`).join("\n")}
`;
}

/** Parses the command line, trains the policy and writes the README. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: DEFAULT_OUT },
      steps: { type: "string", default: "1200" },
    },
  });
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`--steps must be an integer >= 1, got '${values.steps}'`);
  }
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  console.log(`training the tiny T5 emotion policy into ${out}`);
  const run = await train(out, steps);
  console.log(
    `held-out NLL ${run.heldOutNll.toFixed(3)}, P(joy) ${run.meanJoy.toFixed(3)}, ` +
      `${(100 * run.ended).toFixed(0)}% end with </s> (${run.seconds.toFixed(0)} s)`,
  );
  const bytes = await folderBytes(out);
  const readmePath = join(out, "README.md");
  await writeTextFileAtomic(readmePath, readme(run, bytes));
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "-q", "--no-config", "--line-width", "100", readmePath],
  }).output();
  console.log(`wrote ${out} (${bytes} bytes)`);
}

if (import.meta.main) await main();
