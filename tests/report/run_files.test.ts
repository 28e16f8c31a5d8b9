// The run folder's files: RunWriter's samples, distributions and config (resume drops later
// lines, non-finite numbers survive the trip), reportTo errors, bestOfN's sample tables, and a
// supervised trainer that writes its settings and TensorBoard scalars under its logged names.

import assert from "node:assert/strict";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { bestOfN } from "../../algorithms/best_of_n/mod.ts";
import { SFTTrainer } from "../../algorithms/sft/mod.ts";
import { SyntheticWordTokenizer } from "../../data/mod.ts";
import { keywordReward } from "../../reward/mod.ts";
import {
  readDistributions,
  readRunConfig,
  readSamples,
  resolveReportTo,
  RunWriter,
} from "../../report/run_files.ts";
import type { SampleRow } from "../../report/samples.ts";
import { eventFiles, readEventFile } from "../../report/tensorboard/events.ts";
import { BigramLM } from "../algorithms/tiny_lms.ts";

Deno.test("RunWriter: samples, distributions and config round-trip; a resume drops later lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await RunWriter.open(dir, { config: { ppo: { batchSize: 8 } } });
    for (const step of [1, 2, 3]) {
      await first.write(step, { "env/reward_mean": step });
      await first.writeSamples(step, [{ prompt: "p", completion: "NaN", reward: NaN, kl: 0.5 }]);
      await first.writeDistribution(step, "env/reward_dist", [step, -Infinity]);
    }
    first.close();
    const samples = await readSamples(dir);
    assert.equal(samples.length, 3);
    assert.equal(samples[0].completion, "NaN"); // text stays text
    assert.ok(Number.isNaN(samples[0].reward));
    assert.deepEqual((await readDistributions(dir))[2].values, [3, -Infinity]);

    const resumed = await RunWriter.open(dir, { resumeStep: 1, config: { example: { n: 1 } } });
    resumed.close();
    assert.deepEqual((await readSamples(dir)).map((s) => s.step), [1]);
    assert.deepEqual((await readDistributions(dir)).map((d) => d.step), [1]);
    assert.deepEqual((await readMetrics(dir)).map((m) => m.step), [1]);
    assert.deepEqual(await readRunConfig(dir), { ppo: { batchSize: 8 }, example: { n: 1 } });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reportTo: a bad target is named with what is accepted", () => {
  assert.deepEqual(resolveReportTo("x", "tensorboard"), ["tensorboard"]);
  assert.deepEqual(resolveReportTo("x", "none"), []);
  assert.deepEqual(resolveReportTo("x", undefined), []);
  assert.throws(
    () => resolveReportTo("trainPPO", ["tensorboard", "wandb"]),
    /trainPPO: reportTo must be "tensorboard" or "none" \(or a list of them\); got "wandb"/,
  );
  assert.throws(() =>
    new SFTTrainer({ reportTo: "wandb" as "none" }, {
      model: new BigramLM(0),
      trainDataset: [{ prompt: [1], completion: [2] }],
    }), /SFTTrainer: reportTo must be/);
});

Deno.test("bestOfN hands each query's candidates, best to worst, to logSamples", async () => {
  // Row i gets i % 4 tokens "c" and the call number; the reward counts the c's.
  let call = 0;
  const generate = (rows: number[][], _maxNew: number) => {
    call++;
    return rows.map((r, i) => [...r, ...Array(i % 4).fill(2), call]);
  };
  const tables: [number, SampleRow[]][] = [];
  await bestOfN([[0], [1], [0, 1]], {
    generate,
    decode: (ids) => ids.map((t) => "abcdefg"[t]).join(""),
    reward: (texts: readonly string[]) =>
      texts.map((t) => [...t].filter((ch) => ch === "c").length),
    sampleSize: 8,
    maxNewTokens: 4,
    logSamplesCount: 3,
    logSamples: (step, rows) => void tables.push([step, rows]),
  });
  assert.deepEqual(tables.map(([s]) => s), [1, 2, 3]);
  const [, rows] = tables[0];
  assert.deepEqual(rows.map((r) => r.reward), [3, 1, 0]); // best, middle, worst of 8
  assert.ok(rows.every((r) => r.prompt === "a"));
  assert.equal(rows[0].completion, "cccb"); // the new tokens only
  await assert.rejects(
    () =>
      bestOfN([[0]], {
        generate,
        decode: String,
        reward: keywordReward({}),
        maxNewTokens: 1,
        logSamplesEvery: -1,
      }),
    /bestOfN: logSamplesEvery must be an integer >= 0/,
  );
});

Deno.test("SFTTrainer with reportTo tensorboard: its settings in config.json, its train/ scalars in the event file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenizer = new SyntheticWordTokenizer();
    const rows = Array.from({ length: 16 }, (_, i) => ({
      prompt: tokenizer.encode("the movie was"),
      completion: tokenizer.encode(i % 2 ? "great" : "fine"),
    }));
    const trainer = new SFTTrainer({
      maxSteps: 4,
      batchSize: 4,
      loggingSteps: 2,
      outputDir: dir,
      reportTo: "tensorboard",
    }, { model: new BigramLM(0), trainDataset: rows, tokenizer });
    await trainer.train();
    const config = await readRunConfig(dir);
    assert.equal((config.SFTTrainer as { maxSteps: number }).maxSteps, 4);
    const lines = await readMetrics(dir);
    assert.deepEqual(lines.map((l) => l.step), [2, 4]);
    const events = (await Promise.all((await eventFiles(dir)).map(readEventFile))).flat();
    for (const line of lines) {
      for (const [tag, value] of Object.entries(line)) {
        if (tag === "step") continue;
        const found = events.find((e) =>
          e.step === line.step && e.values.some((v) => v.tag === tag)
        );
        assert.ok(found, `${tag} at step ${line.step}`);
        const scalar = found.values.find((v) => v.tag === tag)!.scalar;
        assert.equal(scalar, Math.fround(value as number), tag);
      }
    }
    assert.ok(events.some((e) => e.values.some((v) => v.tag === "config/SFTTrainer")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
