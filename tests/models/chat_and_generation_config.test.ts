/**
 * Instruct-model plumbing: chat templates render through the tokenizer (from
 * tokenizer_config.json or chat_template.jinja) exactly as the Jinja template says, and a
 * checkpoint's generation_config.json becomes the defaults of `generate`, under the caller's
 * options, with unsupported fields reported.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCausalLM } from "../../models/causal_lm.ts";
import { generationDefaults } from "../../models/generation_config.ts";
import { loadTokenizer } from "../../models/tokenizer.ts";
import { expectedOf, fixtureDir, leftPrompts } from "./causal_reference.ts";

const tinyBpe = fileURLToPath(new URL("../fixtures/tokenizers/tiny-bpe/", import.meta.url));

// ChatML, as Qwen2.5 and SmolLM2 instruct models ship it.
const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + " +
  "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}" +
  "{{ '<|im_start|>assistant\\n' }}{% endif %}";

async function tokenizerFolder(extra: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const entry of Deno.readDirSync(tinyBpe)) {
      await Deno.copyFile(join(tinyBpe, entry.name), join(dir, entry.name));
    }
    for (const [name, body] of Object.entries(extra)) {
      await Deno.writeTextFile(join(dir, name), body);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const conversation = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "hello world" },
];

Deno.test("applyChatTemplate renders the tokenizer's Jinja template (config or .jinja file)", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(tinyBpe, "tokenizer_config.json")));
  await tokenizerFolder(
    { "tokenizer_config.json": JSON.stringify({ ...config, chat_template: CHATML }) },
    async (dir) => {
      const tokenizer = await loadTokenizer(dir);
      assert.equal(tokenizer.hasChatTemplate, true);
      assert.equal(
        tokenizer.applyChatTemplate(conversation, { addGenerationPrompt: true }),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n" +
          "<|im_start|>assistant\n",
      );
      assert.equal(
        tokenizer.applyChatTemplate(conversation),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n",
      );
    },
  );
  // Special tokens are template variables; chat_template.jinja is read when the config has none.
  await tokenizerFolder(
    {
      "chat_template.jinja": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
    },
    async (dir) => {
      const tokenizer = await loadTokenizer(dir);
      const text = tokenizer.applyChatTemplate(conversation);
      assert.equal(text, `${tokenizer.bosToken}Be brief.hello world`);
      assert.deepEqual(
        tokenizer.applyChatTemplateIds(conversation),
        tokenizer.encode(text, { addSpecialTokens: false }),
      );
    },
  );
  await tokenizerFolder({}, async (dir) => {
    const tokenizer = await loadTokenizer(dir);
    assert.throws(() => tokenizer.applyChatTemplate(conversation), /has no chat template/);
    assert.equal(
      tokenizer.applyChatTemplate([{ role: "user", content: "hi" }], {
        chatTemplate: "{{ messages[0]['role'] }}:{{ messages[0]['content'] }}",
      }),
      "user:hi",
    );
    assert.throws(
      () => tokenizer.applyChatTemplate([{ role: "user" } as never], { chatTemplate: "x" }),
      /message 0 must be \{ role: string, content: string \}/,
    );
  });
});

Deno.test("generationDefaults maps transformers' fields and reports what generate ignores", () => {
  const { options, notes } = generationDefaults({
    do_sample: true,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    max_new_tokens: 3,
    eos_token_id: [151645, 151643],
    pad_token_id: 151643,
    repetition_penalty: 1.05,
    num_beams: 4,
    length_penalty: 0.5,
    early_stopping: "never",
    bos_token_id: 151643,
    transformers_version: "4.37.0",
  });
  assert.deepEqual(options, {
    doSample: true,
    temperature: 0.7,
    topK: 20,
    topP: 0.8,
    maxNewTokens: 3,
    numBeams: 4,
    lengthPenalty: 0.5,
    earlyStopping: "never",
    eosTokenId: 151645,
    padTokenId: 151643,
  });
  assert.equal(notes.length, 2);
  assert.match(notes[0], /eos_token_id lists 151645, 151643; generate stops on 151645 only/);
  assert.match(notes[1], /repetition_penalty = 1\.05 is not supported; it is ignored/);
  assert.throws(
    () => generationDefaults({ top_k: 2.5 }),
    /top_k must be an integer >= 0, got 2\.5/,
  );
  assert.deepEqual(generationDefaults({ repetition_penalty: 1.0 }).notes, []);
});

Deno.test("generation_config.json sets generate's defaults; the caller's options win", async () => {
  const e = await expectedOf("llama-a");
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["config.json", "model.safetensors"]) {
      await Deno.symlink(join(fixtureDir("llama-a"), name), join(dir, name));
    }
    await Deno.writeTextFile(
      join(dir, "generation_config.json"),
      JSON.stringify({ do_sample: true, top_k: 5, max_new_tokens: 3, repetition_penalty: 1.2 }),
    );
    const notes: string[] = [];
    const model = await loadCausalLM(dir, { backend: "cpu", log: (m) => notes.push(m) });
    assert.match(notes.join("\n"), /repetition_penalty = 1\.2 is not supported/);
    const sampled = await model.generate(leftPrompts(e), { seed: 1 });
    assert.deepEqual(sampled.tokens.map((t) => t.length), [3, 3, 3], "max_new_tokens applies");
    assert.deepEqual(
      (await model.generate(leftPrompts(e), { seed: 1 })).tokens,
      sampled.tokens,
      "sampling is seeded",
    );
    const greedy = await model.generate(leftPrompts(e), { doSample: false, maxNewTokens: 8 });
    assert.deepEqual(greedy.tokens, e.greedy_new_tokens_left, "explicit options override");
    const undefinedKeeps = await model.generate(leftPrompts(e), {
      doSample: undefined,
      seed: 1,
    });
    assert.deepEqual(undefinedKeeps.tokens, sampled.tokens, "undefined keeps the default");
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
