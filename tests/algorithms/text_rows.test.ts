// DPO, reward and SFT trainers take text as TRL 0.28 does: the rows they build from text equal
// the rows of TRL's tokenization rules, conversations go through the chat template, and every
// truncated or dropped row is counted.

import assert from "node:assert/strict";
import type { ChatMessage, TextTokenizer } from "../../algorithms/common/mod.ts";
import {
  type DpoPairRows,
  DPOTrainer,
  preferencePairs,
  tokenizePreferenceRow,
} from "../../algorithms/dpo/mod.ts";
import { type LmRow, sftRows, SFTTrainer } from "../../algorithms/sft/mod.ts";
import { rewardPairs, RewardTrainer } from "../../reward/mod.ts";
import { loadTokenizer } from "../../models/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";
import { BigramLM } from "./tiny_lms.ts";

const EOS = 3;
/** One token per character (its code); EOS 3; "th" is one token (999), so merges can be seen. */
const chars: TextTokenizer = {
  encode: (text) => {
    const ids: number[] = [];
    for (let i = 0; i < text.length; i++) {
      if (text.startsWith("th", i)) {
        ids.push(999);
        i++;
      } else ids.push(text.charCodeAt(i));
    }
    return ids;
  },
  eosTokenId: EOS,
};
const text = (ids: number[]) =>
  ids.map((c) => (c === EOS ? "⟨eos⟩" : String.fromCharCode(c))).join("");
/** A chat template that writes `<role>content|` per turn. */
const chat: TextTokenizer = {
  ...chars,
  applyChatTemplate: (messages, options) =>
    messages.map((m) => `<${m.role}>${m.content}|`).join("") +
    (options?.addGenerationPrompt ? "<assistant>" : ""),
};
const quiet = { isTerminal: () => false, write: () => {} };
const limits = {
  maxLength: null,
  maxPromptLength: null,
  maxCompletionLength: null,
  truncationMode: "keep_end" as const,
};

Deno.test("DPO text rows: TRL's tokenize_row (no special tokens, EOS after completions) and implicit prompts", () => {
  const t = tokenizePreferenceRow("t", {
    prompt: "The sky is",
    chosen: " blue",
    rejected: " green",
  }, chars);
  assert.deepEqual([text(t.prompt), text(t.chosen), text(t.rejected)], [
    "The sky is",
    " blue⟨eos⟩",
    " green⟨eos⟩",
  ]);
  // No prompt: the shared start is the prompt, and the space before the split goes with the
  // completions (TRL's extract_prompt).
  const implicit = tokenizePreferenceRow("t", {
    chosen: "The sky is blue",
    rejected: "The sky is green",
  }, chars);
  assert.deepEqual([text(implicit.prompt), text(implicit.chosen)], ["The sky is", " blue⟨eos⟩"]);
  const conv = (content: string): ChatMessage[] => [
    { role: "user", content: "Colour of sky?" },
    { role: "assistant", content },
  ];
  const fromChat = tokenizePreferenceRow(
    "t",
    { chosen: conv("Blue."), rejected: conv("Green.") },
    chat,
  );
  assert.deepEqual([text(fromChat.prompt), text(fromChat.chosen), text(fromChat.rejected)], [
    "<user>Colour of sky?|<assistant>",
    "Blue.|",
    "Green.|",
  ]);
  const explicit = tokenizePreferenceRow("t", {
    prompt: [{ role: "user", content: "Hi" }],
    chosen: [{ role: "assistant", content: "Hello!" }],
    rejected: [{ role: "assistant", content: "Go away." }],
  }, chat);
  assert.deepEqual([text(explicit.prompt), text(explicit.chosen)], [
    "<user>Hi|<assistant>",
    "Hello!|",
  ]);
  assert.throws(
    () =>
      tokenizePreferenceRow("DPOTrainer: trainDataset pair 0", {
        chosen: conv("a"),
        rejected: conv("b"),
      }, chars),
    /pair 0: the row is a conversation .* but the tokenizer has no applyChatTemplate; use a tokenizer that has one/,
  );
});

Deno.test("DPO text rows train on the same rows as their token ids; limits are TRL's, counted", () => {
  const tok = new SyntheticWordTokenizer();
  const textRows = [
    { prompt: "the plot was", chosen: " great !", rejected: " awful ." },
    { prompt: "the acting was", chosen: " superb", rejected: " dull and flat" },
  ];
  const idRows = textRows.map((r) => ({
    prompt: tok.encode(r.prompt),
    chosen: [...tok.encode(r.chosen), tok.eosTokenId],
    rejected: [...tok.encode(r.rejected), tok.eosTokenId],
  }));
  const rowsOf = (trainDataset: unknown[], config = {}) => {
    const trainer = new DPOTrainer(config, {
      model: new BigramLM(0),
      refModel: new BigramLM(0),
      trainDataset: trainDataset as never,
      tokenizer: tok,
      progressSink: quiet,
    });
    return { trainer, rows: (trainer as unknown as { trainRows: DpoPairRows[] }).trainRows };
  };
  assert.deepEqual(rowsOf(textRows).rows, rowsOf(idRows).rows);
  assert.equal(rowsOf(textRows).trainer.dataReports[0].format, "text");
  // max_prompt_length keeps the prompt's end, max_length (keep_end) the row's end.
  const lines: string[] = [];
  const trainer = new DPOTrainer({ max_prompt_length: 2, max_length: 4 }, {
    model: new BigramLM(0),
    refModel: new BigramLM(0),
    trainDataset: textRows,
    tokenizer: tok,
    progressSink: { isTerminal: () => false, write: (t) => void lines.push(t) },
  });
  const first = (trainer as unknown as { trainRows: DpoPairRows[] }).trainRows[0];
  assert.deepEqual(
    tok.decode(first.chosen.ids, { skipSpecialTokens: false }),
    "was great! <|endoftext|>",
  );
  assert.deepEqual(trainer.dataReports[0].causes, {
    "truncated: prompt cut to maxPromptLength 2": 2,
    "truncated: row cut to maxLength 4 (keep_end)": 2,
  });
  assert.deepEqual(lines, [
    "DPOTrainer: trainDataset: 2 rows (text): 2 truncated (prompt cut to maxPromptLength 2: 2; " +
    "row cut to maxLength 4 (keep_end): 2), none dropped\n",
  ]);
  assert.throws(
    () =>
      new DPOTrainer({}, {
        model: new BigramLM(0),
        refModel: new BigramLM(0),
        trainDataset: textRows,
      }),
    /DPOTrainer: trainDataset: the rows are text, so the trainer needs a tokenizer: pass parts.tokenizer/,
  );
  // evaluate() takes text rows too.
  const direct = preferencePairs("x", "pairs", textRows, limits, tok).pairs;
  assert.equal(direct.length, 2);
});

Deno.test("reward text rows: prompt in front, EOS after, conversations through the template, long pairs filtered", () => {
  const { pairs, report } = rewardPairs(
    "RewardTrainer",
    "trainDataset",
    [
      { prompt: "Q: ", chosen: "yes", rejected: "no" },
      { chosen: "fine", rejected: "bad", margin: 1 },
    ].map((r) => ({ ...r, margin: 1 })),
    null,
    chars,
  );
  assert.deepEqual(pairs.map((p) => [text(p.chosen), text(p.rejected), p.margin]), [
    ["Q: yes⟨eos⟩", "Q: no⟨eos⟩", 1],
    ["fine⟨eos⟩", "bad⟨eos⟩", 1],
  ]);
  assert.deepEqual(report, {
    dataset: "trainDataset",
    format: "text",
    rows: 2,
    kept: 2,
    truncated: 0,
    dropped: 0,
    causes: {},
  });
  const filtered = rewardPairs(
    "RewardTrainer",
    "trainDataset",
    [
      { chosen: "short", rejected: "much longer text" },
      { chosen: "ok", rejected: "no" },
    ],
    6,
    chars,
  );
  assert.deepEqual([filtered.pairs.length, filtered.report.causes], [1, {
    "dropped: a side longer than maxLength 6": 1,
  }]);
  const conv = rewardPairs(
    "RewardTrainer",
    "trainDataset",
    [{
      prompt: [{ role: "user", content: "Hi" }],
      chosen: [{ role: "assistant", content: "Hello" }],
      rejected: [{ role: "assistant", content: "No" }],
    }],
    null,
    chat,
  );
  assert.deepEqual(text(conv.pairs[0].chosen), "<user>Hi|<assistant>Hello|");
  assert.equal(conv.report.format, "chat");
  const trainer = new RewardTrainer({ max_length: 32 }, {
    model: new BigramLM(0) as never,
    trainDataset: [{ chosen: "a", rejected: "b" }],
    tokenizer: chars,
  });
  assert.equal(trainer.dataReports[0].kept, 1);
});

Deno.test("SFT text rows: TRL's tokenization of text, prompt-completion and messages; cuts counted", () => {
  const build = (rows: unknown[], maxLength: number | null = null, tok = chat) =>
    sftRows(
      "SFTTrainer",
      "trainDataset",
      rows as never,
      { maxLength, completionOnlyLoss: true },
      tok,
    );
  const plain = build([{ text: "hi there" }]);
  assert.deepEqual(plain.rows[0].ids, [...chars.encode("hi there"), EOS]);
  assert.deepEqual(plain.rows[0].labels, plain.rows[0].ids);
  // Prompt-completion: encode(prompt + completion) + EOS, the first encode(prompt).length tokens
  // masked. "t" + "he cat" merges across the boundary ("th"): kept, and noted, as TRL warns.
  const pc = build([{ prompt: "Say: ", completion: "cat" }, { prompt: "t", completion: "he cat" }]);
  const masked = (r: LmRow) => r.labels.map((l, k) => (l === -100 ? -100 : r.ids[k]));
  assert.deepEqual(text(pc.rows[0].ids), "Say: cat⟨eos⟩");
  assert.deepEqual(masked(pc.rows[0]).slice(0, 5), [-100, -100, -100, -100, -100]);
  assert.deepEqual(pc.rows[1].labels[0], -100);
  assert.deepEqual(pc.report.causes, {
    "note: prompt tokenized differently inside prompt + completion": 1,
  });
  const messages = build([{
    messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }],
  }]);
  assert.equal(text(messages.rows[0].ids), "<user>Hi|<assistant>Hello|");
  assert.equal(messages.report.format, "chat");
  const convPc = build([{
    prompt: [{ role: "user", content: "Hi" }],
    completion: [{ role: "assistant", content: "Yo" }],
  }]);
  const promptLen = chat.encode("<user>Hi|<assistant>").length;
  assert.equal(convPc.rows[0].labels.filter((l) => l === -100).length, promptLen);
  // The text field can be renamed (TRL's dataset_text_field); long rows keep their start.
  const cut = sftRows("SFTTrainer", "trainDataset", [{ body: "abcdef" }, { body: "ab" }], {
    maxLength: 4,
    completionOnlyLoss: true,
    datasetTextField: "body",
  }, chars);
  assert.deepEqual(text(cut.rows[0].ids), "abcd");
  assert.deepEqual(cut.report.causes, { "truncated: cut to maxLength 4": 1 });
  assert.throws(
    () => build([{ messages: [{ role: "user", content: "Hi" }] }], null, chars),
    /trainDataset example 0: the row is a conversation .* no applyChatTemplate/,
  );
  const trainer = new SFTTrainer({ max_length: 5 }, {
    model: new BigramLM(0),
    trainDataset: [{ text: "hello world" }],
    tokenizer: { ...chars, encode: (t) => chars.encode(t).map((c) => c % 50) },
    progressSink: quiet,
  });
  assert.deepEqual([trainer.trainingRows[0].ids.length, trainer.dataReports[0].truncated], [5, 1]);
});

Deno.test("the models Tokenizer is a TextTokenizer: a DPO text row through a real BPE tokenizer", async () => {
  const tokenizer = await loadTokenizer(
    new URL("../../examples/assets/tiny-imdb/policy", import.meta.url).pathname,
  );
  const row = { prompt: "The movie was", chosen: " great", rejected: " dull" };
  const t = tokenizePreferenceRow("t", row, tokenizer);
  assert.deepEqual(t, {
    prompt: tokenizer.encode(row.prompt, { addSpecialTokens: false }),
    chosen: [...tokenizer.encode(row.chosen, { addSpecialTokens: false }), tokenizer.eosTokenId],
    rejected: [
      ...tokenizer.encode(row.rejected, { addSpecialTokens: false }),
      tokenizer.eosTokenId,
    ],
  });
  assert.ok(t.prompt.length > 0 && t.chosen.length > 1);
});
