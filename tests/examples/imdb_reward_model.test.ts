// examples/imdb_reward_model.ts: the tiny preset, shortened, trains a reward model that ranks
// held-out SYNTHETIC pairs, writes metrics, a resumable checkpoint and a loadable model.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../../algorithms/common/mod.ts";
import { memory } from "../../core/mod.ts";
import { main, run } from "../../examples/imdb_reward_model.ts";
import {
  evaluateRewardModel,
  loadRewardModel,
  tinyRewardPairs,
} from "../../examples/imdb/reward_model.ts";

Deno.test("the tiny reward-model preset, cut to 40 steps, lifts held-out accuracy to 0.85", async () => {
  const out = await Deno.makeTempDir();
  try {
    const before = memory();
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const first = await run({
      preset: "tiny",
      steps: 40,
      out,
      backend: "cpu",
      tinyTrainPairs: 1024,
      evalPairs: 256,
      log,
      progressSink: null,
    });
    console.log(
      `held-out accuracy ${first.initialTestAccuracy.toFixed(3)} -> ${
        first.testAccuracy.toFixed(3)
      } (train ${first.trainAccuracy.toFixed(3)}) in ${first.seconds.toFixed(1)} s`,
    );
    // A fresh model is near chance (measured 0.504); 40 steps of 16 pairs reached 0.891 held out.
    assert.ok(first.initialTestAccuracy < 0.7, `before: ${first.initialTestAccuracy}`);
    assert.ok(first.testAccuracy >= 0.85, `after: ${first.testAccuracy}`);
    assert.ok(lines.some((l) => /^reward model accuracy: train 0\.\d{3}, test 0\.\d{3}/.test(l)));
    assert.deepEqual(memory(), before, "the run frees everything it allocated");

    const metrics = await readMetrics(out);
    assert.ok(metrics.some((m) => "train/loss" in m));
    assert.equal(metrics.find((m) => "eval/accuracy" in m)?.step, 40);

    // The saved model, loaded back, scores the held-out pairs as the run did.
    const saved = await loadRewardModel(join(out, "model"), { backend: "cpu" });
    try {
      const pairs = tinyRewardPairs({ testPairs: 256 }).test;
      const accuracy = await evaluateRewardModel(saved.model, saved.tokenizer, pairs);
      assert.equal(accuracy, first.testAccuracy);
    } finally {
      saved.model.dispose();
    }

    // --resume continues from the step-40 checkpoint to the new step count.
    const resumed = await run({
      preset: "tiny",
      steps: 50,
      out,
      backend: "cpu",
      tinyTrainPairs: 1024,
      evalPairs: 256,
      resume: true,
      log,
      progressSink: null,
    });
    assert.equal(resumed.globalStep, 50);
    assert.ok(lines.includes(`resumed from ${join(out, "checkpoint")}`), lines.join("\n"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("imdb_reward_model rejects a bad preset, flag or number (exit 2), naming it and the fix", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await main(["--preset", "huge"]), 2);
    assert.equal(await main(["--preset", "tiny", "--epochs", "3"]), 2);
    assert.equal(await main(["--preset", "tiny", "--steps", "0"]), 2);
    assert.equal(await main(["--preset", "tiny", "--steps", "-5"]), 2);
  } finally {
    console.error = error;
  }
  assert.equal(errors[0], "imdb_reward_model: unknown preset (huge): use one of full, tiny");
  assert.match(
    errors[1],
    /^imdb_reward_model: unknown flag \(--epochs\): the flags are --preset, --steps, --target-label, --eval-pairs, --backend, --out, --resume, --overwrite, --seed/,
  );
  assert.equal(
    errors[2],
    "imdb_reward_model: bad --steps (0): use an integer >= 1, e.g. --steps 100",
  );
  assert.equal(
    errors[3],
    "imdb_reward_model: bad --steps (-5): use an integer >= 1, e.g. --steps 100",
  );
});

Deno.test("imdb_reward_model --resume without a checkpoint is an error (exit 2) and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    const missing = join(dir, "never-ran");
    assert.equal(await main(["--preset", "tiny", "--out", missing, "--resume"]), 2);
    assert.equal(
      errors[0],
      `imdb_reward_model: no run to resume (${missing}): the folder does not exist; drop ` +
        "--resume to start a new run, or check --out",
    );
    // A run that stopped before its first checkpoint: there is a run, but nothing to resume.
    const early = join(dir, "early");
    await Deno.mkdir(early);
    await Deno.writeTextFile(join(early, "metrics.jsonl"), '{"step":0,"eval/accuracy":0.5}\n');
    assert.equal(await main(["--preset", "tiny", "--out", early, "--resume"]), 2);
    assert.match(
      errors[1],
      /^imdb_reward_model: no checkpoint to resume from \(.*early\): the run has no complete checkpoint .*start it again with --overwrite$/,
    );
    assert.deepEqual([...Deno.readDirSync(early)].map((e) => e.name), ["metrics.jsonl"]);
  } finally {
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});
