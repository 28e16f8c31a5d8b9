import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  cleanImdbText,
  DataValidationError,
  extractHhPrompt,
  GO_EMOTIONS_LABELS,
  goEmotionNames,
  HhRlhfSplitError,
  loadGoEmotions,
  loadHhRlhf,
  loadImdb,
  loadTldrComparisons,
  loadTldrSft,
  splitHhPair,
} from "../../data/mod.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tether-tutorials-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join("\n") + "\n";

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof Error, "expected a rejection");
  return error;
}

Deno.test("IMDB: parquet, JSONL and CSV sources validate to { text, label }", async () => {
  await withTempDir(async (dir) => {
    const parquet = join(dir, "train.parquet");
    await Deno.writeFile(
      parquet,
      new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: "text", data: ["Great film.<br /><br />Loved it", "Dull."], type: "STRING" },
          { name: "label", data: [1n, 0n], type: "INT64" },
        ],
      })),
    );
    const fromParquet = await loadImdb({ path: parquet });
    assert.deepEqual(fromParquet.toArray(), [
      { text: "Great film.<br /><br />Loved it", label: 1 },
      { text: "Dull.", label: 0 },
    ]);
    assert.equal(cleanImdbText(fromParquet.get(0).text), "Great film.  Loved it");

    const csv = join(dir, "imdb.csv");
    await Deno.writeTextFile(csv, 'text,label\n"Fine, ""really""",1\nBad,0\n');
    assert.deepEqual((await loadImdb({ path: csv })).toArray(), [
      { text: 'Fine, "really"', label: 1 },
      { text: "Bad", label: 0 },
    ]);

    const bad = join(dir, "imdb.jsonl");
    await Deno.writeTextFile(bad, jsonl([{ text: "ok", label: 1 }, { text: "odd", label: 2 }]));
    const error = await rejection(loadImdb({ path: bad }));
    assert.ok(error instanceof DataValidationError);
    assert.match(error.message, /imdb\.jsonl, line 2, field "label": .*0\|1.*got 2/);
    const missing = join(dir, "missing.jsonl");
    await Deno.writeTextFile(missing, jsonl([{ review: "no text field", label: 1 }]));
    assert.match(
      (await rejection(loadImdb({ path: missing }))).message,
      /missing\.jsonl, line 1, field "text": .*expected string.*got nothing \(missing\)/,
    );
    assert.equal((await loadImdb({ path: parquet, limit: 1 })).length, 1);
  });
});

Deno.test("GoEmotions: 28 labels in order, label lists validated, TSV lists parsed", async () => {
  assert.equal(GO_EMOTIONS_LABELS.length, 28);
  assert.equal(GO_EMOTIONS_LABELS[0], "admiration");
  assert.equal(GO_EMOTIONS_LABELS[17], "joy");
  assert.equal(GO_EMOTIONS_LABELS[27], "neutral");
  assert.deepEqual(goEmotionNames([3, 27]), ["annoyance", "neutral"]);
  assert.throws(() => goEmotionNames([28]), /no GoEmotions label with id 28/);
  await withTempDir(async (dir) => {
    const path = join(dir, "go.jsonl.gz");
    await Deno.writeFile(
      path,
      gzipSync(jsonl([
        { text: "thanks!", labels: [15], id: "a1" },
        { text: "wow ok", labels: [26, 27], id: "a2" },
      ])),
    );
    assert.deepEqual((await loadGoEmotions({ path })).toArray(), [
      { text: "thanks!", labels: [15], id: "a1" },
      { text: "wow ok", labels: [26, 27], id: "a2" },
    ]);
    const tsv = join(dir, "go.tsv");
    await Deno.writeTextFile(tsv, "text\tlabels\tid\nyay\t17,13\tb1\n");
    assert.deepEqual((await loadGoEmotions({ path: tsv })).toArray(), [
      { text: "yay", labels: [17, 13], id: "b1" },
    ]);
    const bad = join(dir, "bad.jsonl");
    await Deno.writeTextFile(
      bad,
      jsonl([{ text: "a", labels: [1] }, { text: "b", labels: [2, 28] }]),
    );
    const error = await rejection(loadGoEmotions({ path: bad }));
    assert.ok(error instanceof DataValidationError);
    assert.equal(error.field, "labels[1]");
    assert.match(error.message, /bad\.jsonl, line 2, field "labels\[1\]": .*<=27.*got 28/);
  });
});

Deno.test("TL;DR: SFT and comparison rows, with field-level errors", async () => {
  await withTempDir(async (dir) => {
    const sft = join(dir, "sft.jsonl");
    await Deno.writeTextFile(
      sft,
      jsonl([{ prompt: "SUBREDDIT: r/x\nPOST: long story\nTL;DR:", label: " short story" }]),
    );
    assert.deepEqual((await loadTldrSft({ path: sft })).toArray(), [
      { prompt: "SUBREDDIT: r/x\nPOST: long story\nTL;DR:", label: " short story" },
    ]);
    const comparisons = join(dir, "cmp.parquet");
    await Deno.writeFile(
      comparisons,
      new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: "prompt", data: ["POST: a\nTL;DR:", "POST: b\nTL;DR:"], type: "STRING" },
          { name: "chosen", data: [" good", " fine"], type: "STRING" },
          { name: "rejected", data: [" bad", " worse"], type: "STRING" },
        ],
      })),
    );
    assert.deepEqual((await loadTldrComparisons({ path: comparisons })).get(1), {
      prompt: "POST: b\nTL;DR:",
      chosen: " fine",
      rejected: " worse",
    });
    const bad = join(dir, "cmp.json");
    await Deno.writeTextFile(bad, JSON.stringify([{ prompt: "p", chosen: "c" }]));
    assert.match(
      (await rejection(loadTldrComparisons({ path: bad }))).message,
      /cmp\.json, row 1, field "rejected"/,
    );
  });
});

// Written by hand in the real hh-rlhf format: the shared sample must not be copied into the repo.
const SINGLE_TURN = {
  chosen: "\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water for 9 minutes.",
  rejected: "\n\nHuman: How do I boil an egg?\n\nAssistant: Eggs are overrated.",
};

const MULTI_TURN_PROMPT = "\n\nHuman: what are some pranks with a pen i can do?" +
  "\n\nAssistant: Are you looking for practical joke ideas?" +
  "\n\nHuman: yep\n\nAssistant: Ok, here are a couple.\n\n1. Draw on a hand.\n\n2. Hide a note." +
  "\n\nHuman: okay some of these do not have anything to do with pens\n\nAssistant:";

const MULTI_TURN = {
  chosen: MULTI_TURN_PROMPT + " No, sorry!  All of these involve a pen.",
  rejected: MULTI_TURN_PROMPT + " There are lots of funny things you can do with pens.",
};

Deno.test("hh-rlhf: single-turn split keeps the marker in the prompt and replies verbatim", () => {
  assert.deepEqual(splitHhPair(SINGLE_TURN.chosen, SINGLE_TURN.rejected), {
    prompt: "\n\nHuman: How do I boil an egg?\n\nAssistant:",
    chosen: " Put it in boiling water for 9 minutes.",
    rejected: " Eggs are overrated.",
  });
});

Deno.test("hh-rlhf: multi-turn transcripts split at the LAST assistant marker", () => {
  const pair = splitHhPair(MULTI_TURN.chosen, MULTI_TURN.rejected);
  assert.equal(pair.prompt, MULTI_TURN_PROMPT);
  assert.ok(pair.prompt.endsWith("\n\nAssistant:"));
  assert.equal(pair.prompt.split("\n\nAssistant:").length - 1, 3);
  assert.equal(pair.chosen, " No, sorry!  All of these involve a pen.");
  assert.equal(pair.rejected, " There are lots of funny things you can do with pens.");
  assert.equal(pair.prompt + pair.chosen, MULTI_TURN.chosen);
  assert.equal(pair.prompt + pair.rejected, MULTI_TURN.rejected);
});

Deno.test("hh-rlhf: odd whitespace is preserved exactly", () => {
  const prompt = "\n\nHuman:   spaces  and\ttabs\n\n\nand blank lines \n\nAssistant:";
  const pair = splitHhPair(`${prompt}no leading space\n`, `${prompt}   \n\n  trailing   `);
  assert.equal(pair.prompt, prompt);
  assert.equal(pair.chosen, "no leading space\n");
  assert.equal(pair.rejected, "   \n\n  trailing   ");
  const empty = splitHhPair(`${prompt}`, `${prompt} something`);
  assert.equal(empty.chosen, "");
  assert.equal(extractHhPrompt("\n\nHuman: hi"), undefined);
});

Deno.test("hh-rlhf: a pair whose prompts differ fails clearly", () => {
  // In the real data a reply sometimes contains its own "\n\nAssistant:", shifting the cut.
  const chosen = "\n\nHuman: Are drag queens men?\n\nAssistant: Mostly.  Human: And kings?" +
    "\n\nAssistant: Women, usually.";
  const rejected = "\n\nHuman: Are drag queens men?\n\nAssistant: No idea.";
  assert.throws(() => splitHhPair(chosen, rejected), (error: Error) => {
    assert.ok(error instanceof HhRlhfSplitError);
    assert.equal(error.field, "rejected");
    assert.match(error.message, /differs from the chosen transcript's/);
    assert.match(error.message, /first difference at character 41/);
    assert.match(error.message, /no shared prompt/);
    return true;
  });
  assert.throws(
    () => splitHhPair("\n\nHuman: hi", SINGLE_TURN.rejected),
    (error: Error) =>
      error instanceof HhRlhfSplitError && error.field === "chosen" &&
      /no "\\n\\nAssistant:" turn found/.test(error.message),
  );
});

Deno.test("hh-rlhf: loading names the file, line and field of a bad pair; skip is opt-in", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "harmless-base-train.jsonl.gz");
    const mismatched = {
      chosen: "\n\nHuman: A?\n\nAssistant: B\n\nHuman: C?\n\nAssistant: D",
      rejected: "\n\nHuman: A?\n\nAssistant: X",
    };
    await Deno.writeFile(path, gzipSync(jsonl([SINGLE_TURN, MULTI_TURN, mismatched])));
    const error = await rejection(loadHhRlhf({ path }));
    assert.ok(error instanceof DataValidationError);
    assert.equal(error.row, 3);
    assert.equal(error.field, "rejected");
    assert.match(
      error.message,
      /harmless-base-train\.jsonl\.gz, line 3, field "rejected": its prompt .* differs/,
    );

    const skipped: DataValidationError[] = [];
    const pairs = await loadHhRlhf({ path, invalidRows: "skip", onSkip: (e) => skipped.push(e) });
    assert.equal(pairs.length, 2);
    assert.equal(pairs.get(1).prompt, MULTI_TURN_PROMPT);
    assert.deepEqual(skipped.map((e) => e.row), [3]);

    const notText = join(dir, "bad.jsonl");
    await Deno.writeTextFile(notText, jsonl([{ chosen: "x", rejected: 3 }]));
    assert.match(
      (await rejection(loadHhRlhf({ path: notText }))).message,
      /bad\.jsonl, line 1, field "rejected": .*expected string/,
    );
  });
});
