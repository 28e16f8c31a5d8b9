/**
 * Trains the tiny emotion classifier of the go_emotions tutorial's offline preset on the
 * SYNTHETIC emotion corpus (data/synthetic/emotions.ts; not GoEmotions), deterministically on the
 * CPU backend: a 2-layer, 64-wide RoBERTa with GoEmotions' 28 labels, trained multi-label
 * (binary cross-entropy on each label, as `SamLowe/roberta-base-go_emotions` was), with a
 * RoBERTa-style word-level tokenizer.
 *
 *   deno run -A tools/train_tiny_emotions.ts [--out examples/assets/tiny-emotions/classifier]
 *     [--steps 1500]
 *
 * Writes the folder (each file atomically) and a README.md there with the measured numbers.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  add,
  full,
  Generator,
  logSigmoid,
  mean,
  mul,
  neg,
  nn,
  optim,
  sub,
  tensor,
  tidy,
} from "../core/mod.ts";
import {
  generateSyntheticEmotions,
  GO_EMOTIONS_LABELS,
  Rng,
  type SyntheticEmotionText,
} from "../data/mod.ts";
import {
  createTokenizer,
  saveTokenizer,
  sequenceClassifierFromConfig,
  TextClassifier,
  type Tokenizer,
} from "../models/mod.ts";
import { writeTextFileAtomic } from "../models/io/atomic.ts";
import { evaluateEmotionClassifier } from "../examples/emotions/evaluate_classifier.ts";
import {
  emotionClassifierTokenizerFiles,
  TINY_EMOTION_MAX_LENGTH,
  tinyEmotionClassifierConfig,
} from "../examples/emotions/classifier_files.ts";

const BACKEND = "cpu";
const DEFAULT_OUT = fileURLToPath(
  new URL("../examples/assets/tiny-emotions/classifier", import.meta.url),
);

/** Seeds of everything the run draws. */
export const TINY_EMOTION_SEEDS = {
  weights: 0,
  dropout: 1,
  corpus: 21,
  heldOut: 22,
  order: 3,
} as const;
const TRAIN_TEXTS = 24_000;
const HELD_OUT_TEXTS = 2_000;
const BATCH = 32;
const LEARNING_RATE = 2e-3;

function encodeAll(tokenizer: Tokenizer, rows: readonly SyntheticEmotionText[]): number[][] {
  return rows.map((r) =>
    tokenizer.encode(r.text, { truncation: true, maxLength: TINY_EMOTION_MAX_LENGTH })
  );
}

async function train(dir: string, steps: number) {
  const files = emotionClassifierTokenizerFiles();
  const tokenizer = await createTokenizer(files.tokenizerJson, files.tokenizerConfig, "roberta");
  const config = tinyEmotionClassifierConfig();
  const model = sequenceClassifierFromConfig(config, {
    backend: BACKEND,
    seed: TINY_EMOTION_SEEDS.weights,
    dropoutGenerator: new Generator(TINY_EMOTION_SEEDS.dropout),
  });
  const corpus = generateSyntheticEmotions(TRAIN_TEXTS, { seed: TINY_EMOTION_SEEDS.corpus })
    .toArray();
  const heldOut = generateSyntheticEmotions(HELD_OUT_TEXTS, { seed: TINY_EMOTION_SEEDS.heldOut })
    .toArray();
  const ids = encodeAll(tokenizer, corpus);
  const pad = tokenizer.padTokenId!;
  const labels = GO_EMOTIONS_LABELS.length;
  // Start the output biases at the labels' base rate (log-odds). From zero, the quickest way
  // down the loss is to push every logit negative through the tanh head, which saturates it
  // and stalls training at the prior.
  const rate = corpus.reduce((n, r) => n + r.labels.length, 0) / (corpus.length * labels);
  const bias = model.namedParameters().find(([name]) => name === "classifier.out_proj.bias")![1];
  const start = full([labels], Math.log(rate / (1 - rate)), { backend: BACKEND });
  nn.assign(bias, start);
  start.dispose();

  const opt = new optim.AdamW(model.parameters(), { lr: LEARNING_RATE, weightDecay: 0.01 });
  const sched = optim.linearScheduleWithWarmup(opt, Math.floor(steps / 20), steps);
  const rng = new Rng(TINY_EMOTION_SEEDS.order);
  let order: number[] = [], cursor = 0;
  model.train();
  const started = performance.now();
  let running = 0;
  for (let step = 1; step <= steps; step++) {
    if (cursor + BATCH > order.length) {
      order = rng.shuffleInPlace(Array.from({ length: corpus.length }, (_, i) => i));
      cursor = 0;
    }
    const batch = order.slice(cursor, cursor += BATCH);
    const width = Math.max(...batch.map((i) => ids[i].length));
    const inputIds = batch.map((i) => [...ids[i], ...new Array(width - ids[i].length).fill(pad)]);
    const attentionMask = batch.map((i) =>
      ids[i].map(() => 1).concat(new Array(width - ids[i].length).fill(0))
    );
    const target = new Float32Array(batch.length * labels);
    batch.forEach((i, b) => corpus[i].labels.forEach((l) => target[b * labels + l] = 1));
    const loss = tidy(() => {
      const { logits } = model.forward({ inputIds, attentionMask });
      const y = tensor(target, [batch.length, labels], { backend: BACKEND });
      // BCEWithLogits, averaged over every (text, label): −[y·log σ(z) + (1 − y)·log σ(−z)].
      const l = neg(mean(add(mul(y, logSigmoid(logits)), mul(sub(1, y), logSigmoid(neg(logits))))));
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
  const classifier = new TextClassifier(model, tokenizer, { batchSize: 64 });
  const report = await evaluateEmotionClassifier(
    classifier,
    heldOut,
    new Set(corpus.map((r) => r.text)),
  );
  const examples = [
    "after the meeting today, i am so happy!",
    "when i read this, that is truly disgusting!",
    "after work this evening, i thought i would feel sad, but what a great day!",
    "when i got home, i will check it later.",
  ];
  const top = await classifier.classify(examples, { topK: 2 });

  await model.save(dir);
  await saveTokenizer(dir, files.tokenizerJson, files.tokenizerConfig);
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  model.dispose();
  return {
    steps,
    seconds,
    report,
    params,
    examples,
    top,
    unique: new Set(corpus.map((r) => r.text)).size,
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
  const c = tinyEmotionClassifierConfig();
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const r = run.report;
  return `# Tiny emotion classifier (SYNTHETIC data, not GoEmotions)

This checkpoint stands in for \`SamLowe/roberta-base-go_emotions\` in the go_emotions tutorial's
offline \`--preset tiny\`. It was trained on the project's SYNTHETIC emotion corpus
(\`data/synthetic/emotions.ts\`: a seeded grammar of short first-person texts, each an
emotion-neutral four-word opening followed by a continuation carrying one or two of GoEmotions'
28 labels). It has never seen GoEmotions and knows no English beyond that grammar.

Made by \`deno run -A tools/train_tiny_emotions.ts\` (CPU backend, seeded: the same command
writes the same weights). Times are wall-clock on a shared 2-core machine.

## The model (${(bytes / 1024).toFixed(0)} KiB)

A RoBERTa (\`RobertaForSequenceClassification\`, \`problem_type: multi_label_classification\`,
\`id2label\` = GoEmotions' 28 labels in GoEmotions' order): ${c.num_hidden_layers} layers,
hidden ${c.hidden_size}, ${c.num_attention_heads} heads, intermediate ${c.intermediate_size},
${TINY_EMOTION_MAX_LENGTH} positions, vocab ${c.vocab_size}, ${run.params} parameters. The
tokenizer is word-level (\`tokenizer.json\`): lowercased words and punctuation marks, with
RoBERTa's specials and ids (\`<s>\` 0, \`<pad>\` 1, \`</s>\` 2, \`<unk>\` 3) around each text.

Trained for ${run.steps} steps of ${BATCH} texts (AdamW, lr ${LEARNING_RATE}, weight decay 0.01,
linear warmup and decay, dropout 0.1, output biases started at the labels' base rate) in
${
    run.seconds.toFixed(0)
  } s, with binary cross-entropy on each label, on ${TRAIN_TEXTS} texts (seed ${TINY_EMOTION_SEEDS.corpus};
${run.unique} distinct; main labels uniform over the 28, 15% turning with "but", 10% with two
labels).

## Held-out accuracy

On ${r.texts} held-out texts (seed ${TINY_EMOTION_SEEDS.heldOut}):

| measure | value |
| --- | --- |
| top-1 (highest logit is one of the text's labels) | ${pct(r.top1)} |
| top-1 on the ${r.novel} held-out texts absent from the training corpus | ${pct(r.novelTop1)} |
| exact label set (labels with sigmoid > 0.5 are exactly the text's) | ${pct(r.exactSet)} |
| mean softmax P(joy), texts whose main label is joy | ${r.joyOnJoy.toFixed(3)} |
| mean softmax P(joy), all other texts | ${r.joyOnOthers.toFixed(3)} |

The last two rows are the tutorial's reward (softmax over the 28 logits, label \`joy\`).

Top two labels (sigmoid) for a few texts:

${
    run.examples.map((text, i) =>
      `- "${text}": ${run.top[i].map((s) => `${s.label} ${s.score.toFixed(3)}`).join(", ")}`
    ).join("\n")
  }

\`\`\`ts
const classifier = await loadTextClassifier("examples/assets/tiny-emotions/classifier");
const reward = labelScoreReward(classifier, { label: "joy", functionToApply: "softmax" });
\`\`\`
`;
}

/** Parses the command line, trains the classifier and writes the README. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: DEFAULT_OUT },
      steps: { type: "string", default: "1500" },
    },
  });
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`--steps must be an integer >= 1, got '${values.steps}'`);
  }
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  console.log(`training the tiny emotion classifier into ${out}`);
  const run = await train(out, steps);
  const r = run.report;
  console.log(
    `held-out top-1 ${r.top1.toFixed(4)} (novel ${r.novelTop1.toFixed(4)} of ${r.novel}), ` +
      `exact set ${r.exactSet.toFixed(4)}, P(joy) ${r.joyOnJoy.toFixed(3)} on joy vs ` +
      `${r.joyOnOthers.toFixed(3)} (${run.seconds.toFixed(0)} s)`,
  );
  const bytes = await folderBytes(out);
  const readmePath = join(out, "README.md");
  await writeTextFileAtomic(readmePath, readme(run, bytes));
  // Wrap the prose at the repository's width (the assets folder is outside deno fmt's reach),
  // so a regenerated README diffs cleanly.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "-q", "--no-config", "--line-width", "100", readmePath],
  }).output();
  console.log(`wrote ${out} (${bytes} bytes)`);
}

if (import.meta.main) await main();
