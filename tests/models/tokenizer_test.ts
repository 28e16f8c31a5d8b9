import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTokenizer, loadTokenizer } from "../../models/tokenizer.ts";
import {
  saveTokenizer,
  wordLevelTokenizerJson,
  wordPieceTokenizerJson,
} from "../../models/io/tokenizer_files.ts";
import { layOutCache } from "./hub/fake_hub.ts";

const fixture = (path: string) =>
  fileURLToPath(new URL(`../fixtures/tokenizers/${path}`, import.meta.url));

// tiny-bpe uses GPT-2's byte symbols with GPT-2's ids (h=71, e=68, l=75, o=78, Ġ=220, H=39,
// !=0, Ã=127, ©=102) and nine merges appended from id 256:
// he=256 ll=257 hell=258 hello=259 Ġw=260 or=261 Ġwor=262 ld=263 Ġworld=264; <|endoftext|>=265.
const HELLO = 259;
const SPACE_WORLD = 264;
const EOS = 265;

Deno.test("byte-level BPE: encodings derived by hand from the merge ranks", async () => {
  const tokenizer = await loadTokenizer(fixture("tiny-bpe"));
  assert.deepEqual(tokenizer.encode("hello world"), [HELLO, SPACE_WORLD]);
  assert.deepEqual(tokenizer.encode("hello!"), [HELLO, 0]);
  // "Hello": no merge starts with H; (l,l) is the only applicable pair.
  assert.deepEqual(tokenizer.encode("Hello"), [39, 68, 257, 78]);
  // "é" is the two bytes C3 A9, each its own byte symbol.
  assert.deepEqual(tokenizer.encode("héllo"), [71, 127, 102, 257, 78]);
  assert.deepEqual(tokenizer.encode("hello<|endoftext|>"), [HELLO, EOS]);
  assert.deepEqual(tokenizer.tokenize("hello world"), ["hello", "Ġworld"]);
  assert.equal(tokenizer.decode([71, 127, 102, 257, 78]), "héllo");
  assert.equal(tokenizer.decode([HELLO, SPACE_WORLD, EOS]), "hello world<|endoftext|>");
  assert.equal(
    tokenizer.decode([HELLO, SPACE_WORLD, EOS], { skipSpecialTokens: true }),
    "hello world",
  );
  assert.equal(tokenizer.decode(new Float32Array([HELLO])), "hello");
  assert.equal(tokenizer.decode([]), "");
  assert.throws(() => tokenizer.decode([266]), /266 is not a token id \(vocabulary size 266\)/);
  assert.deepEqual(tokenizer.batchDecode([[HELLO], [SPACE_WORLD]]), ["hello", " world"]);
});

Deno.test("GPT-2 family: eos/bos/unk default to <|endoftext|> and pad = eos, as TRL sets it", async () => {
  const tokenizer = await loadTokenizer(fixture("tiny-bpe"));
  assert.equal(tokenizer.eosToken, "<|endoftext|>");
  assert.equal(tokenizer.eosTokenId, EOS);
  assert.equal(tokenizer.bosTokenId, EOS);
  assert.equal(tokenizer.padTokenId, EOS);
  assert.equal(tokenizer.vocabSize, 266);
  assert.equal(tokenizer.modelMaxLength, 8);
  assert.deepEqual(tokenizer.specialTokenIds, [EOS]);
});

Deno.test("batchEncode pads left or right with the pad id and a 0/1 attention mask", async () => {
  const tokenizer = await loadTokenizer(fixture("tiny-bpe"));
  const texts = ["hello world", "hello", "!"];
  assert.deepEqual(tokenizer.batchEncode(texts, { padding: "right" }), {
    inputIds: [[HELLO, SPACE_WORLD], [HELLO, EOS], [0, EOS]],
    attentionMask: [[1, 1], [1, 0], [1, 0]],
  });
  assert.deepEqual(tokenizer.batchEncode(texts, { padding: "left" }), {
    inputIds: [[HELLO, SPACE_WORLD], [EOS, HELLO], [EOS, 0]],
    attentionMask: [[1, 1], [0, 1], [0, 1]],
  });
  assert.deepEqual(tokenizer.batchEncode(texts, { padding: false }).inputIds, [
    [HELLO, SPACE_WORLD],
    [HELLO],
    [0],
  ]);
  assert.deepEqual(
    tokenizer.batchEncode(["hello"], { padding: "left", padToMaxLength: true, maxLength: 3 }),
    {
      inputIds: [[EOS, EOS, HELLO]],
      attentionMask: [[0, 0, 1]],
    },
  );
  // The default side comes from the tokenizer (right unless configured), overridable at load.
  const left = await loadTokenizer(fixture("tiny-bpe"), { paddingSide: "left" });
  assert.deepEqual(left.batchEncode(["hello", "hello world"]).attentionMask, [[0, 1], [1, 1]]);
});

Deno.test("truncation keeps maxLength tokens from the chosen side; maxLength defaults to model_max_length", async () => {
  const tokenizer = await loadTokenizer(fixture("tiny-bpe"));
  assert.deepEqual(tokenizer.encode("hello world hello", { truncation: true, maxLength: 2 }), [
    HELLO,
    SPACE_WORLD,
  ]);
  assert.deepEqual(
    tokenizer.encode("hello world!", { truncation: true, maxLength: 2, truncationSide: "left" }),
    [SPACE_WORLD, 0],
  );
  const long = "!".repeat(10); // one pre-token, no merges: 10 tokens; model_max_length is 8
  assert.equal(tokenizer.encode(long).length, 10);
  assert.equal(tokenizer.encode(long, { truncation: true }).length, 8);
  const batch = tokenizer.batchEncode(["hello world hello", "hello"], {
    truncation: true,
    maxLength: 2,
  });
  assert.deepEqual(batch.inputIds, [[HELLO, SPACE_WORLD], [HELLO, EOS]]);
  assert.throws(
    () => tokenizer.encode("x", { truncation: true, maxLength: -1 }),
    /needs maxLength/,
  );
});

Deno.test("legacy vocab.json + merges.txt give the same tokenizer as tokenizer.json", async () => {
  const fast = await loadTokenizer(fixture("tiny-bpe"));
  const slow = await loadTokenizer(fixture("tiny-bpe-slow"));
  for (
    const text of ["hello world", "Hello, héllo world!", "hello<|endoftext|>", " world  world\n"]
  ) {
    assert.deepEqual(slow.encode(text), fast.encode(text), text);
    assert.equal(slow.decode(slow.encode(text)), text);
  }
  assert.equal(slow.padTokenId, EOS);
});

Deno.test("legacy files with add_bos_token (OPT): BOS before every text, the config's specials special", async () => {
  // facebook/opt-350m ships only vocab.json + merges.txt; its tokenizer_config sets
  // add_bos_token, and transformers' converter then puts `</s>` before each text.
  const dir = await Deno.makeTempDir();
  try {
    const vocab = JSON.parse(await Deno.readTextFile(fixture("tiny-bpe-slow/vocab.json")));
    const [pad, bos] = [Object.keys(vocab).length, Object.keys(vocab).length + 1];
    vocab["<pad>"] = pad;
    vocab["</s>"] = bos;
    await Deno.writeTextFile(join(dir, "vocab.json"), JSON.stringify(vocab));
    await Deno.copyFile(fixture("tiny-bpe-slow/merges.txt"), join(dir, "merges.txt"));
    const config = { bos_token: "</s>", eos_token: "</s>", pad_token: "<pad>" };
    await Deno.writeTextFile(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({ ...config, add_bos_token: true, tokenizer_class: "GPT2Tokenizer" }),
    );
    const opt = await loadTokenizer(dir);
    assert.deepEqual(opt.encode("hello world"), [bos, HELLO, SPACE_WORLD]);
    assert.deepEqual(opt.encode("hello</s>"), [bos, HELLO, bos], "</s> in a text is one token");
    assert.equal(opt.decode(opt.encode("hello world"), { skipSpecialTokens: true }), "hello world");
    assert.deepEqual([opt.eosTokenId, opt.padTokenId], [bos, pad]);
    // Without add_bos_token the same files add nothing.
    await Deno.writeTextFile(join(dir, "tokenizer_config.json"), JSON.stringify(config));
    assert.deepEqual((await loadTokenizer(dir)).encode("hello world"), [HELLO, SPACE_WORLD]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("word-level tokenizer.json: whole words or [UNK], lower-cased, punctuation split", async () => {
  // vocab: [PAD]=0 [UNK]=1 [EOS]=2 the=3 movie=4 was=5 great=6 terrible=7 .=8 !=9
  const tokenizer = await loadTokenizer(fixture("tiny-wordlevel"));
  assert.deepEqual(tokenizer.encode("The movie was GREAT."), [3, 4, 5, 6, 8]);
  assert.deepEqual(tokenizer.encode("the film was terrible!"), [3, 1, 5, 7, 9]);
  // A known word as prefix does not help: word-level has no sub-words.
  assert.deepEqual(tokenizer.encode("greatness"), [1]);
  assert.deepEqual(tokenizer.encode("the [EOS]"), [3, 2]);
  assert.equal(tokenizer.decode([3, 4, 5, 6, 8]), "the movie was great.");
  assert.equal(tokenizer.decode([3, 4, 2, 0], { skipSpecialTokens: true }), "the movie");
  assert.equal(tokenizer.padTokenId, 0);
  assert.equal(tokenizer.eosTokenId, 2);
  assert.equal(tokenizer.unkTokenId, 1);
  assert.equal(tokenizer.vocabSize, 10);
  assert.deepEqual(tokenizer.batchEncode(["great", "the movie"], { padding: "right" }), {
    inputIds: [[6, 0], [3, 4]],
    attentionMask: [[1, 0], [1, 1]],
  });
});

Deno.test("a word-level tokenizer built in code and saved to a folder loads the same way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = wordLevelTokenizerJson(["[PAD]", "[UNK]", "good", "bad", "film"], {
      unkToken: "[UNK]",
    });
    await saveTokenizer(dir, json, { pad_token: "[PAD]", unk_token: "[UNK]" });
    const tokenizer = await loadTokenizer(dir);
    assert.deepEqual(tokenizer.encode("Good film, bad"), [2, 4, 1, 3]);
    assert.equal(tokenizer.padTokenId, 0);
    assert.equal(tokenizer.eosTokenId, undefined);
    const direct = await createTokenizer(json, { pad_token: "[PAD]" });
    assert.deepEqual(direct.encode("bad film"), [3, 4]);
    assert.throws(() => wordLevelTokenizerJson(["a", "a", "[UNK]"]), /token "a" appears twice/);
    assert.throws(
      () => wordLevelTokenizerJson(["a"]),
      /unknown token "\[UNK\]" is not in the vocabulary/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BERT vocab.txt: WordPiece with [CLS] … [SEP], kept through truncation", async () => {
  // [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 the=5 movie=6 ##s=7 great=8 !=9 good=10 ##ness=11
  // un=12 ##believ=13 ##able=14
  const tokenizer = await loadTokenizer(fixture("tiny-bert-vocab"));
  assert.deepEqual(tokenizer.encode("The movies were GREAT!"), [2, 5, 6, 7, 1, 8, 9, 3]);
  assert.deepEqual(tokenizer.encode("goodness unbelievable"), [2, 10, 11, 12, 13, 14, 3]);
  assert.deepEqual(tokenizer.encode("The movies", { addSpecialTokens: false }), [5, 6, 7]);
  assert.deepEqual(tokenizer.encode("The movies were GREAT!", { truncation: true, maxLength: 4 }), [
    2,
    5,
    6,
    3,
  ]);
  assert.throws(
    () => tokenizer.encode("the", { truncation: true, maxLength: 1 }),
    /leaves no room for the 2 special tokens/,
  );
  assert.equal(
    tokenizer.decode([2, 5, 6, 7, 8, 9, 3], { skipSpecialTokens: true }),
    "the movies great!",
  );
  // BERT's classes default the special tokens its config files omit.
  assert.equal(tokenizer.padTokenId, 0);
  assert.equal(tokenizer.unkTokenId, 1);
  assert.equal(tokenizer.eosTokenId, undefined);
  assert.deepEqual(tokenizer.batchEncode(["the", "the movies"]).inputIds, [
    [2, 5, 3, 0, 0],
    [2, 5, 6, 7, 3],
  ]);
});

Deno.test("tokenizers load offline from the Hugging Face cache layout", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const commit = "b".repeat(40);
    const files: Record<string, Uint8Array> = {};
    for (const name of ["tokenizer.json", "tokenizer_config.json"]) {
      files[name] = await Deno.readFile(join(fixture("tiny-bpe"), name));
    }
    files["config.json"] = new TextEncoder().encode(JSON.stringify({ model_type: "gpt2" }));
    await layOutCache(cacheDir, "tiny-org/tiny-bpe", { main: commit }, { [commit]: files });
    const tokenizer = await loadTokenizer("tiny-org/tiny-bpe", { cacheDir, offline: true });
    assert.deepEqual(tokenizer.encode("hello world"), [HELLO, SPACE_WORLD]);
    assert.equal(tokenizer.padTokenId, EOS);
    await assert.rejects(
      loadTokenizer("tiny-org/absent", { cacheDir, offline: true }),
      /no tokenizer: looked for tokenizer\.json/,
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("without truncation our encode path gives transformers' own encode", async () => {
  const { AutoTokenizer } = await import("@huggingface/transformers");
  const classes = AutoTokenizer.TOKENIZER_CLASS_MAPPING;
  const bpeDir = fixture("tiny-bpe");
  const bpeOurs = await loadTokenizer(bpeDir);
  const bpeTheirs = new classes.GPT2Tokenizer(
    JSON.parse(await Deno.readTextFile(join(bpeDir, "tokenizer.json"))),
    JSON.parse(await Deno.readTextFile(join(bpeDir, "tokenizer_config.json"))),
  );
  for (
    const text of ["hello world", "Hello, héllo world!", "hello<|endoftext|>!", "  two  spaces "]
  ) {
    assert.deepEqual(bpeOurs.encode(text), bpeTheirs.encode(text), text);
  }
  const bertDir = fixture("tiny-bert-vocab");
  const bertOurs = await loadTokenizer(bertDir);
  const bertTheirs = new classes.DistilBertTokenizer(
    wordPieceTokenizerJson(await Deno.readTextFile(join(bertDir, "vocab.txt"))),
    {},
  );
  for (const text of ["The movies were GREAT!", "goodness, unbelievable movies"]) {
    assert.deepEqual(bertOurs.encode(text), bertTheirs.encode(text), text);
  }
});
