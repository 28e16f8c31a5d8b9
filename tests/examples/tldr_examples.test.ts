// The TL;DR examples: the full presets hold the tutorial's settings and fail fast offline naming
// the dataset; bad rows fail naming the row; truncation is counted; the tiny presets, shortened,
// raise ROUGE-L of greedy summaries (SFT) and reach a held-out pair accuracy (reward model).

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import { TLDR_COMPARISONS_SOURCE, TLDR_SFT_SOURCE } from "../../data/mod.ts";
import { GPT2TokenRewardModel } from "../../reward/mod.ts";
import { main as sftMain, parseTldrSftArgs, runTldrSft } from "../../examples/tldr_sft.ts";
import {
  main as rewardMain,
  parseTldrRewardArgs,
  runTldrReward,
} from "../../examples/tldr_reward_model.ts";
import {
  checkSftRows,
  comparisonTexts,
  policyPrompt,
  tokenizeComparisons,
  tokenizeSftRows,
} from "../../examples/tldr/data.ts";
import { FULL_SFT_OUTPUT, tldrPreset } from "../../examples/tldr/presets.ts";
import { normalizedReward, postSummaryDict } from "../../examples/tldr/reward.ts";
import { inTempDir, wordTokenizer } from "./tldr_test_helpers.ts";

const QUIET = { log: () => {}, progress: false };

Deno.test("TL;DR full presets hold the tutorial's settings", () => {
  const full = tldrPreset("full");
  assert.equal(full.data, "hub");
  assert.equal(TLDR_SFT_SOURCE.id, "CarperAI/openai_summarize_tldr");
  assert.equal(TLDR_COMPARISONS_SOURCE.id, "CarperAI/openai_summarize_comparisons");
  // SFT: gpt2, max length 550, batch 16, lr 1e-4, loss on the whole text.
  assert.equal(full.sft.model, "gpt2");
  assert.equal(full.sft.maxLength, 550);
  assert.equal(full.sft.batchSize, 16);
  assert.equal(full.sft.learningRate, 1e-4);
  assert.equal(full.sft.completionOnlyLoss, false);
  // trlX's train_gptj_summarize.py: TrainingArguments(gradient_checkpointing=True).
  assert.equal(full.sft.gradientCheckpointing, true);
  // Reward model: from the SFT model, 550 tokens, first 70% of the blocks frozen, lr 1e-5,
  // batch 1, trlX's pair filter and `<|startoftext|>` prefix.
  assert.equal(full.reward.sftModel, FULL_SFT_OUTPUT);
  assert.equal(full.reward.maxLength, 550);
  assert.equal(full.reward.freezeFraction, 0.7);
  assert.equal(full.reward.learningRate, 1e-5);
  assert.equal(full.reward.batchSize, 1);
  assert.equal(full.reward.filter, "trlx");
  assert.equal(full.reward.prefix, "<|startoftext|>");
  // GPT-2 small has 12 blocks: 9 frozen, 3 trained, as trlX's int(0.3 * 12).
  const gpt2 = new GPT2TokenRewardModel({ n_layer: 12, n_embd: 8, n_head: 2, vocab_size: 10 }, {
    backend: "cpu",
  });
  assert.deepEqual(gpt2.freezeFirstBlocks(full.reward.freezeFraction), { frozen: 9, total: 12 });
  gpt2.dispose();
  // Flags reach the stage they name.
  const sft = parseTldrSftArgs(["--max-steps", "7", "--learning-rate", "3e-5"]);
  assert.equal(sft.preset.sft.maxSteps, 7);
  assert.equal(sft.preset.sft.learningRate, 3e-5);
  assert.equal(sft.out, "runs/tldr_sft-full");
  const rm = parseTldrRewardArgs(["--model", "my/sft", "--batch-size", "2"]);
  assert.equal(rm.preset.reward.sftModel, "my/sft");
  assert.equal(rm.preset.reward.batchSize, 2);
  assert.throws(
    () => parseTldrSftArgs(["--max-steps", "0"]),
    /^CliError: tldr_sft: bad --max-steps \(0\): use an integer >= 1/,
  );
});

Deno.test("TL;DR full presets stop at once offline, naming the dataset", async () => {
  const saved = { home: Deno.env.get("HF_HOME"), offline: Deno.env.get("HF_HUB_OFFLINE") };
  await inTempDir("tldr_examples_", async (dir) => {
    Deno.env.set("HF_HOME", dir);
    Deno.env.set("HF_HUB_OFFLINE", "1");
    try {
      for (
        const [main, id] of [
          [sftMain, "CarperAI/openai_summarize_tldr"],
          [rewardMain, "CarperAI/openai_summarize_comparisons"],
        ] as const
      ) {
        const t0 = performance.now();
        const log = console.log, error = console.error;
        const errors: string[] = [];
        console.log = () => {};
        console.error = (line: string) => errors.push(line);
        try {
          assert.equal(await main(["--out", join(dir, "run"), "--backend", "cpu"]), 1);
        } finally {
          console.log = log;
          console.error = error;
        }
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.ok(errors[0].includes(id), errors[0]);
        assert.ok(performance.now() - t0 < 10_000, "it must not hang");
      }
    } finally {
      for (const [key, value] of [["HF_HOME", saved.home], ["HF_HUB_OFFLINE", saved.offline]]) {
        if (value === undefined) Deno.env.delete(key!);
        else Deno.env.set(key!, value);
      }
    }
  });
});

Deno.test("TL;DR bad rows fail naming the row; long posts are cut as the tutorial cuts, and counted", () => {
  assert.throws(
    () =>
      checkSftRows("t", [{ prompt: "POST: a\nTL;DR:", label: " b" }, {
        prompt: "POST: a",
        label: " b",
      }]),
    /SFT row 1 has no 'TL;DR:' in its prompt/,
  );
  assert.throws(
    () => checkSftRows("t", [{ prompt: "POST: a\nTL;DR:", label: "  " }]),
    /SFT row 0 has an empty summary/,
  );
  const rows = [
    { prompt: "POST: a b\n", chosen: "TL;DR: x y", rejected: "TL;DR: x z" },
    { prompt: "POST: c\n", chosen: "TL;DR: same", rejected: "TL;DR: same" },
  ];
  assert.throws(
    () => comparisonTexts("t", rows, "strict"),
    /comparison 1 has the same chosen and rejected/,
  );
  assert.throws(
    () =>
      comparisonTexts(
        "t",
        [{ prompt: "POST: a", chosen: "TL;DR:", rejected: "TL;DR: b" }],
        "strict",
      ),
    /comparison 0 has an empty chosen summary/,
  );
  assert.throws(
    () => comparisonTexts("t", [{ prompt: "POST: a", chosen: "x", rejected: "y" }], "strict"),
    /comparison 0 has no 'TL;DR:'/,
  );
  // trlX's filter skips them (and summaries under five words) and counts.
  const long = "TL;DR: one two three four five";
  const filtered = comparisonTexts("t", [...rows, {
    prompt: "POST: d",
    chosen: long,
    rejected: `${long} six`,
  }], "trlx");
  assert.equal(filtered.skipped, 2);
  assert.equal(filtered.pairs[0].chosen, `POST: d\n${long}`);

  const tok = wordTokenizer();
  // SFT: cut from the left, so the summary survives; counted.
  const sft = tokenizeSftRows(
    [{ prompt: "p1 p2 p3 p4 p5 TL;DR:", label: " s1 s2" }, { prompt: "q TL;DR:", label: " s" }],
    tok,
    6,
  );
  assert.equal(sft.truncated, 1);
  assert.deepEqual(
    tok.decode([...sft.examples[0].prompt, ...sft.examples[0].completion]),
    "p4 p5 TL;DR: s1 s2 <eos>",
  );
  // Policy prompts: the post cut to maxLength − 5 tokens, then "\nTL;DR:".
  const p = policyPrompt("w1 w2 w3 w4 w5 w6 w7 w8 TL;DR:", tok, 8);
  assert.deepEqual(p, { text: "w1 w2 w3\nTL;DR:", truncated: true });
  assert.throws(() => policyPrompt("no cue here", tok, 8), /no 'TL;DR:'/);
  // Reward pairs: cut from the right with room for the EOS; a pair whose difference falls past
  // the cut comes out identical and is counted.
  const pairs = tokenizeComparisons(
    [{ chosen: "a b c d e f x", rejected: "a b c d e f y" }, { chosen: "a b", rejected: "a c" }],
    tok,
    5,
    "",
  );
  assert.equal(pairs.truncated, 2);
  assert.equal(pairs.identical, 1);
  assert.deepEqual(pairs.pairs[0].chosen.length, 5);
});

Deno.test("normalizedReward: RM(sample) − RM(prompt + reference), keyed as trlX's post_summary_dict", async () => {
  const rm = (texts: readonly string[]) => texts.map((t) => t.length);
  const tok = wordTokenizer();
  const rows = [{ prompt: "POST: my cat is sad . TL;DR:", label: " cat sad" }];
  const dict = postSummaryDict(rows, tok, 20);
  const prompt = [...dict.keys()][0];
  assert.equal(prompt, "POST: my cat is sad .\nTL;DR:");
  const reward = normalizedReward(rm, dict);
  const sample = `${prompt} my cat is very sad`;
  const [r] = await reward([sample]);
  assert.equal(r, sample.length - `${prompt}  cat sad`.length);
  await assert.rejects(async () => await reward(["POST: x\nTL;DR: y"]), /has no reference summary/);
});

const tiny = (out: string, steps: number, ...flags: string[]) => [
  "--preset",
  "tiny",
  "--out",
  out,
  "--max-steps",
  String(steps),
  "--train-examples",
  String(16 * steps),
  "--table-posts",
  "2",
  "--backend",
  "cpu",
  ...flags,
];

Deno.test("tldr_sft tiny (40 steps): ROUGE-L of greedy held-out summaries rises by >= 0.4 over the untrained policy (measured 0.135 -> 0.790)", async () => {
  await inTempDir("tldr_examples_", async (out) => {
    const r = await runTldrSft({
      ...parseTldrSftArgs(tiny(out, 40, "--eval-examples", "32")),
      ...QUIET,
    });
    assert.ok(
      r.after.eval_rougeL >= r.before.eval_rougeL + 0.4,
      `ROUGE-L ${r.before.eval_rougeL} -> ${r.after.eval_rougeL}`,
    );
    assert.ok(r.gist!.after > r.gist!.before, `gist ${r.gist!.before} -> ${r.gist!.after}`);
    const lines = await readMetrics(out);
    assert.deepEqual(lines.filter((l) => "eval_rougeL" in l).map((l) => l.step), [0, 40]);
    assert.ok(lines.some((l) => l.step === 40 && "eval_rouge1" in l && "eval_rougeLsum" in l));
    assert.ok((await Deno.stat(join(r.modelDir, "model.safetensors"))).isFile);
    assert.ok((await Deno.readTextFile(join(out, "side_by_side.md"))).includes("| SFT |"));
  });
});

Deno.test("tldr_reward_model tiny (40 steps): held-out pair accuracy >= 0.65 (measured 0.578 -> 0.703)", async () => {
  await inTempDir("tldr_examples_", async (out) => {
    const r = await runTldrReward({
      ...parseTldrRewardArgs(tiny(out, 40, "--eval-examples", "128")),
      ...QUIET,
    });
    assert.deepEqual(r.frozen, { frozen: 3, total: 4 });
    assert.ok(r.after.accuracy >= 0.65, `accuracy ${r.before.accuracy} -> ${r.after.accuracy}`);
    assert.equal(r.after.pairs, 128);
    const saved = JSON.parse(await Deno.readTextFile(join(r.modelDir, "config.json")));
    assert.deepEqual(saved.architectures, ["GPTRewardModel"]);
  });
});
