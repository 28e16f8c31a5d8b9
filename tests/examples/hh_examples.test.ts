// The hh-rlhf examples' tiny presets, shortened, run in-process on the tiny checkpoints and the
// SYNTHETIC preference set (seed 0): SFT lowers the held-out loss, DPO lifts held-out
// implicit-reward accuracy, ReST's held-out reward rises from one Improve step to the next. The
// full presets fail fast offline, naming the model; bad flags are named with their values.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import { main as sftMain, parseHhSftArgs, runHhSft } from "../../examples/hh_sft.ts";
import { main as dpoMain, parseHhDpoArgs, runHhDpo } from "../../examples/hh_dpo.ts";
import { main as restMain, parseHhRestArgs, runHhRest } from "../../examples/hh_rest.ts";
import { describeKept, tokenizePairs, truncatePairTrl074 } from "../../examples/hh/data.ts";
import { loadTokenizer } from "../../models/mod.ts";

const TINY_POLICY = new URL("../../examples/assets/tiny-imdb/policy", import.meta.url).pathname;

const QUIET = { log: () => {}, progress: false };

/** Runs `fn` in a fresh folder with console.log silenced (the examples print their tables). */
async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "hh_examples_" });
  const log = console.log;
  console.log = () => {};
  try {
    return await fn(dir);
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
}

const tiny = (out: string, ...flags: string[]) => ["--preset", "tiny", "--out", out, ...flags];

Deno.test("hh_sft tiny (80 steps): the held-out loss falls by >= 12% (measured 15.2%)", async () => {
  await inTempDir(async (out) => {
    const flags = ["--max-steps", "80", "--train-examples", "512", "--test-examples", "64"];
    const r = await runHhSft({
      ...parseHhSftArgs(tiny(out, ...flags, "--samples", "8")),
      ...QUIET,
    });
    assert.ok(r.lossDrop >= 0.12, `held-out loss ${r.before.loss} -> ${r.after.loss}`);
    assert.ok(Math.abs(r.after.perplexity - Math.exp(r.after.loss)) < 1e-9);
    assert.equal(r.sideBySide.rows, 8);
    const lines = await readMetrics(out);
    assert.equal(lines[0].step, 0);
    assert.equal(lines[0]["eval/loss"], r.before.loss);
    assert.ok(lines.some((l) => l.step === 80 && "train/loss" in l));
    assert.ok(lines.some((l) => l.step === 80 && l["eval/loss"] === r.after.loss));
    const table = await Deno.readTextFile(join(out, "side_by_side.md"));
    assert.match(table, /\| # \| prompt \| original \| reward \| SFT \| reward \|/);
    await Deno.stat(join(out, "model", "model.safetensors"));
    await Deno.stat(join(out, "model", "tokenizer.json"));
    await Deno.stat(join(out, "checkpoint"));
  });
});

Deno.test("hh_dpo tiny (40 steps): held-out implicit-reward accuracy reaches >= 0.8 (measured 0.92)", async () => {
  await inTempDir(async (out) => {
    const flags = ["--max-steps", "40", "--train-examples", "512", "--test-examples", "64"];
    const r = await runHhDpo({
      ...parseHhDpoArgs(tiny(out, ...flags, "--samples", "8")),
      ...QUIET,
    });
    // The policy starts as its own reference: every implicit reward is 0, the loss ln 2.
    assert.ok(Math.abs(r.before.loss - Math.log(2)) < 1e-6, `${r.before.loss}`);
    assert.equal(r.before["rewards/accuracies"], 0);
    assert.ok(r.after["rewards/accuracies"] >= 0.8, `accuracy ${r.after["rewards/accuracies"]}`);
    assert.ok(r.after["rewards/margins"] > 0, `margin ${r.after["rewards/margins"]}`);
    const lines = await readMetrics(out);
    const train = lines.find((l) => "train/loss" in l)!;
    for (
      const name of ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen"]
    ) {
      assert.ok(`train/${name}` in train, name);
    }
    assert.ok(lines.some((l) => "samples/reward_mean_tuned" in l));
  });
});

Deno.test("hh_dpo with the full preset's DPO recipe on the tiny checkpoints: RMSprop, over-long rows cut, a frozen reference copy", async () => {
  await inTempDir(async (out) => {
    const flags = ["--max-steps", "6", "--train-examples", "64", "--test-examples", "16"];
    const o = parseHhDpoArgs(tiny(out, ...flags, "--samples", "2"));
    const full = parseHhDpoArgs([]);
    const lines: string[] = [];
    const r = await runHhDpo({
      ...o,
      // The full DPO stage's rules at tiny lengths: rows over 20 tokens get prompts of 8.
      preset: {
        ...o.preset,
        overLength: full.preset.overLength,
        maxLength: 20,
        maxPromptLength: 8,
      },
      dpo: { ...o.dpo, optim: full.dpo.optim, warmupSteps: 2, evalSteps: 3, saveSteps: 3 },
      ...QUIET,
      log: (line) => lines.push(line),
    });
    assert.ok(
      lines.some((l) => /optim rmsprop; reference: a frozen copy of the policy/.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => /^train: \d+ pairs, \d+ cut to fit/.test(l)), lines.join("\n"));
    assert.ok(Math.abs(r.before.loss - Math.log(2)) < 1e-6, `${r.before.loss}`);
    // Six steps only show the wiring: the policy moved away from its frozen copy.
    assert.ok(Number.isFinite(r.after.loss) && r.after["rewards/chosen"] !== 0, `${r.after.loss}`);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(out, "checkpoint", "checkpoint.json")),
    );
    assert.equal(manifest.step, 6);
    assert.equal(manifest.optimizer.paramGroups[0].alpha, 0.99);
    assert.equal(manifest.optimizer.paramGroups[0].lr, 0);
    const metrics = await readMetrics(out);
    assert.ok(metrics.some((l) => l.step === 3 && "eval/loss" in l));
  });
});

Deno.test("hh_rest tiny (2 Improve steps): held-out mean reward after step 2 exceeds step 1 by >= 0.25 (measured 1.00 -> 4.32)", async () => {
  await inTempDir(async (out) => {
    const flags = [
      "--grow-prompts",
      "48",
      "--samples-per-prompt",
      "8",
      "--improve-steps",
      "2",
      "--train-examples",
      "256",
      "--test-examples",
      "64",
      "--samples",
      "16",
    ];
    const r = await runHhRest({ ...parseHhRestArgs(tiny(out, ...flags)), ...QUIET });
    assert.equal(r.improveRewardMeans.length, 2);
    const [first, second] = r.improveRewardMeans;
    assert.ok(second >= first + 0.25, `Improve step 1: ${first}, step 2: ${second}`);
    assert.ok(first > r.initialRewardMean!, `before: ${r.initialRewardMean}, step 1: ${first}`);
    // Percentile thresholds rise, so step 2 keeps fewer, better samples.
    assert.ok(r.improveSteps[1].kept < r.improveSteps[0].kept);
    assert.ok(r.improveSteps[1].keptRewardMean > r.improveSteps[0].keptRewardMean);
    const lines = await readMetrics(out);
    assert.ok(lines.some((l) => l["rest/improve_step"] === 2 && "rest/eval_reward_mean" in l));
  });
});

Deno.test("the full presets fail fast offline, naming the model", async () => {
  const saved = { home: Deno.env.get("HF_HOME"), offline: Deno.env.get("HF_HUB_OFFLINE") };
  await inTempDir(async (dir) => {
    Deno.env.set("HF_HOME", dir);
    Deno.env.set("HF_HUB_OFFLINE", "1");
    try {
      for (
        const [name, main] of [["hh_sft", sftMain], ["hh_dpo", dpoMain], [
          "hh_rest",
          restMain,
        ]] as const
      ) {
        const t0 = performance.now();
        const errors: string[] = [];
        const error = console.error;
        console.error = (line: string) => errors.push(line);
        try {
          // One folder for all three: a run that failed while loading leaves nothing to refuse.
          assert.equal(await main(["--out", join(dir, "run"), "--backend", "cpu"]), 1);
        } finally {
          console.error = error;
        }
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(errors[0], new RegExp(`^${name}: .*model "gpt2"`));
        assert.ok(performance.now() - t0 < 10_000, "it must not hang");
      }
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [], "nothing left behind");
    } finally {
      for (const [key, value] of [["HF_HOME", saved.home], ["HF_HUB_OFFLINE", saved.offline]]) {
        if (value === undefined) Deno.env.delete(key!);
        else Deno.env.set(key!, value);
      }
    }
  });
});

Deno.test("bad flags are named with their values", () => {
  assert.throws(
    () => parseHhDpoArgs(["--loss-type", "sigmoidal"]),
    /^CliError: hh_dpo: unknown loss-type \(sigmoidal\): use one of sigmoid, hinge, /,
  );
  assert.throws(
    () => parseHhDpoArgs(["--beta", "0"]),
    /hh_dpo: bad --beta \(0\): use a number > 0, e.g. --beta 0.1$/,
  );
  assert.throws(
    () => parseHhSftArgs(["--max-steps", "1.5"]),
    /hh_sft: bad --max-steps \(1.5\): use an integer >= 1, e.g. --max-steps 2000/,
  );
  assert.throws(
    () => parseHhSftArgs(["--lora-r=-2"]),
    /hh_sft: bad --lora-r \(-2\): use an integer >= 0, e.g. --lora-r 16/,
  );
  // A negative number after a flag is that flag's value, checked like any other.
  assert.throws(
    () => parseHhSftArgs(["--preset", "tiny", "--lora-r", "-2"]),
    /hh_sft: bad --lora-r \(-2\): use an integer >= 0, e.g. --lora-r 0/,
  );
  assert.throws(
    () => parseHhSftArgs(["--preset", "small"]),
    /hh_sft: unknown preset \(small\): use one of full, tiny/,
  );
  assert.throws(
    () => parseHhRestArgs(["--thresholds", "1,0.5"]),
    /hh_rest: bad --thresholds \(1,0.5\): use comma-separated rising numbers, e.g. --thresholds 0,1,2/,
  );
  assert.throws(
    () => parseHhRestArgs(["--thresholds", "0,1", "--improve-steps", "3"]),
    /hh_rest: --thresholds has 2 values but --improve-steps is 3 \(0,1\): give one threshold/,
  );
  assert.throws(
    () => parseHhRestArgs(["--nope"]),
    /hh_rest: unknown flag \(--nope\): the flags are --preset, /,
  );
  assert.throws(
    () => parseHhRestArgs(["--sample", "3"]),
    /hh_rest: unknown flag \(--sample\): did you mean --samples\?/,
  );
  // Defaults: sigmoid, beta 0.1, LoRA off in tiny. The full preset's DPO stage holds its own
  // sizes, lengths and no LoRA (TRL 0.7.4's dpo.py); SFT keeps the preset-wide ones.
  const dpo = parseHhDpoArgs(["--preset", "tiny"]);
  assert.equal(dpo.lossType, "sigmoid");
  assert.equal(dpo.dpo.beta, 0.1);
  assert.equal(dpo.dpo.optim, "adamw_torch");
  assert.equal(dpo.preset.lora, null);
  assert.equal(dpo.preset.overLength, "skip");
  const fullDpo = parseHhDpoArgs([]);
  assert.equal(fullDpo.preset.lora, null);
  assert.deepEqual(
    [fullDpo.preset.trainExamples, fullDpo.preset.testExamples, fullDpo.preset.maxPromptLength],
    [1000, 1000, 128],
  );
  assert.equal(fullDpo.preset.overLength, "truncate");
  assert.equal(fullDpo.dpo.optim, "rmsprop");
  assert.equal(parseHhDpoArgs(["--lora-r", "16"]).preset.lora?.r, 16);
  assert.equal(parseHhDpoArgs(["--train-examples", "64"]).preset.trainExamples, 64);
  const fullSft = parseHhSftArgs([]);
  assert.equal(fullSft.preset.lora?.r, 16);
  assert.deepEqual(
    [fullSft.preset.trainExamples, fullSft.preset.maxPromptLength, fullSft.preset.overLength],
    [20_000, 384, "skip"],
  );
  const rest = parseHhRestArgs(["--thresholds", "0,1.5"]);
  assert.deepEqual(rest.rest.thresholds, [0, 1.5]);
  assert.equal(rest.rest.improveSteps, 2);
});

Deno.test("truncatePairTrl074 cuts as TRL 0.7.4's DPO collator: the prompt's start first, then the replies' ends", () => {
  const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
  const limits = { maxLength: 512, maxPromptLength: 128 };
  // A row that fits stays whole, however long its prompt.
  assert.equal(
    truncatePairTrl074({ prompt: ids(300), chosen: ids(100), rejected: ids(50) }, limits),
    null,
  );
  // Too long: the prompt keeps its last 128 tokens; that is enough here.
  const a = truncatePairTrl074({ prompt: ids(500), chosen: ids(100), rejected: ids(50) }, limits)!;
  assert.deepEqual(a.prompt, ids(128, 372));
  assert.deepEqual([a.chosen.length, a.rejected.length], [100, 50]);
  // Still too long: each reply keeps its first 512 - 128 = 384 tokens.
  const b = truncatePairTrl074({ prompt: ids(40), chosen: ids(600), rejected: ids(30) }, limits)!;
  assert.deepEqual(b.prompt, ids(40));
  assert.deepEqual(b.chosen, ids(384));
  assert.deepEqual(b.rejected, ids(30));
  assert.throws(
    () =>
      truncatePairTrl074({ prompt: [1], chosen: [2], rejected: [3] }, {
        maxLength: 8,
        maxPromptLength: 8,
      }),
    /maxPromptLength \(8\) must be below maxLength \(8\)/,
  );
});

Deno.test("tokenizePairs skips rows over the limits, or cuts them with overLength truncate", async () => {
  const tokenizer = await loadTokenizer(TINY_POLICY);
  const long = "the plot was great and the acting was fine but the ending ".repeat(4);
  const pairs = [
    { prompt: long, chosen: " good.", rejected: " bad." },
    { prompt: "the plot", chosen: " good.", rejected: " bad." },
    { prompt: "same", chosen: " x", rejected: " x" },
  ];
  const limits = { maxLength: 24, maxPromptLength: 8 };
  const skipped = tokenizePairs(pairs, tokenizer, limits);
  assert.deepEqual([skipped.triples.length, skipped.skipped, skipped.truncated], [1, 1, 0]);
  assert.equal(skipped.identical, 1);
  const cut = tokenizePairs(pairs, tokenizer, { ...limits, overLength: "truncate" });
  assert.deepEqual([cut.triples.length, cut.skipped, cut.truncated], [2, 0, 1]);
  assert.equal(cut.triples[0].prompt.length, 8);
  assert.match(
    describeKept("train", cut),
    /^train: 2 pairs, 1 cut to fit \(skipped 1 with identical replies\)$/,
  );
});
