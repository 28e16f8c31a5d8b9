// The tiny T5 policy of the go_emotions tutorial's offline preset: under 5 MB, flan-T5's shape,
// a tokenizer that appends </s> as T5's does, and completions of the corpus's prompts that read as
// the corpus does (they end with </s> and the classifier finds emotions in them).

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Generator } from "../../core/mod.ts";
import { loadSeq2SeqLM, loadTextClassifier, loadTokenizer } from "../../models/mod.ts";

const DIR = fileURLToPath(new URL("../../examples/assets/tiny-emotions/policy", import.meta.url));
const CLASSIFIER = join(DIR, "..", "classifier");

Deno.test("tiny emotion policy: under 5 MB, a T5 with flan-T5's feed-forward and head", async () => {
  let bytes = 0;
  for await (const e of Deno.readDir(DIR)) bytes += (await Deno.stat(join(DIR, e.name))).size;
  assert.ok(bytes < 5 * 1024 * 1024, `${bytes} bytes`);
  const config = JSON.parse(await Deno.readTextFile(join(DIR, "config.json")));
  assert.equal(config.model_type, "t5");
  assert.equal(config.feed_forward_proj, "gated-gelu");
  assert.equal(config.tie_word_embeddings, false);
  const tokenizer = await loadTokenizer(DIR);
  const ids = tokenizer.encode("after work this evening,");
  assert.equal(ids.at(-1), 1, "</s> appended");
  assert.equal(tokenizer.padTokenId, 0);
  assert.ok(!ids.includes(tokenizer.unkTokenId!), "every word of the prompt is known");
});

Deno.test("tiny emotion policy: sampled completions end with </s> and carry emotions", async () => {
  const model = await loadSeq2SeqLM(DIR, { backend: "cpu" });
  const tokenizer = await loadTokenizer(DIR);
  const prompts = ["after work this evening,", "when i got home,", "after the long trip,"];
  const rows = Array.from({ length: 8 }, (_, i) => prompts[i % prompts.length]);
  const { tokens } = await model.generate(rows.map((p) => tokenizer.encode(p)), {
    maxNewTokens: 24,
    doSample: true,
    topK: 10,
    generator: new Generator(0),
  });
  assert.ok(tokens.every((t) => t.at(-1) === 1), "every completion ends with </s>");
  const texts = tokens.map((t, i) =>
    `${rows[i]} ${tokenizer.decode(t, { skipSpecialTokens: true })}`
  );
  const classifier = await loadTextClassifier(CLASSIFIER);
  const top = await classifier.classify(texts, { topK: 1, functionToApply: "softmax" });
  // The classifier is confident on the corpus's texts (held-out top-1 99.8%): completions that
  // read as the corpus does get a clear top label.
  const confident = top.filter((t) => t[0].score > 0.5).length;
  assert.ok(confident >= 6, `${confident} of 8 completions have a top label above 0.5: ${texts}`);
  model.dispose();
});
