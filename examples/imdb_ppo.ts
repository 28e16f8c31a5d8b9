/**
 * TRL's gpt2-sentiment tutorial: tune `lvwerra/gpt2-imdb` with PPO and LoRA to write positive
 * movie reviews, rewarded by the IMDB reward model of `examples/imdb_reward_model.ts`.
 *
 *   deno run -A examples/imdb_ppo.ts [--preset full|tiny] [--steps N] [--out DIR] [--resume]
 *     [--seed 0] [--backend auto|cpu|webgpu] [--lora-targets c_attn,...]
 *
 * Prints the reward model's pair accuracy, one stats line per PPO step (`rewards/mean`,
 * `ppo/returns/mean`, `objective/kl`), then the side-by-side table of original and tuned samples
 * on held-out prompts; writes `metrics.jsonl`, `checkpoint/`, `side_by_side.md` and the LoRA
 * adapter (`adapter/`, PEFT layout) into the run folder. `--resume` continues from its
 * checkpoint. The full preset (the default) needs the Hub or a filled cache; `--preset tiny`
 * runs offline on the checkpoints in `examples/assets/tiny-imdb/`.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import { NonFiniteLossError } from "../algorithms/ppo/mod.ts";
import { type ExampleArgs, intFlag, parseExampleArgs } from "./common/cli.ts";
import { type ImdbPreset, imdbPreset } from "./imdb/presets.ts";
import { runImdbPpo } from "./imdb/ppo_run.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "imdb_ppo";

/** This script's flags beyond the common ones. */
export type ImdbPpoFlag = "steps" | "lora-targets";

/** Parsed command line: the common flags and the preset they select. */
export interface ImdbPpoArgs extends ExampleArgs<ImdbPpoFlag> {
  /** The preset with `--steps` and `--lora-targets` applied. */
  settings: ImdbPreset;
}

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseImdbPpoArgs(args: readonly string[]): ImdbPpoArgs {
  const parsed = parseExampleArgs<ImdbPpoFlag>(NAME, args, {
    steps: { type: "string" },
    "lora-targets": { type: "string" },
  });
  const base = imdbPreset(parsed.preset);
  const steps = intFlag(NAME, "steps", parsed.extra.steps, 1, base.steps);
  const targets = parsed.extra["lora-targets"];
  if (targets !== undefined && !base.lora) {
    throw new Error(`${NAME}: --lora-targets needs a preset with LoRA; '${base.name}' has none`);
  }
  const lora = typeof targets === "string" && base.lora
    ? { ...base.lora, targetModules: targets.split(",").map((t) => t.trim()).filter(Boolean) }
    : base.lora;
  return { ...parsed, settings: imdbPreset(parsed.preset, { steps, lora }) };
}

/**
 * Run the script; returns the exit status.
 *
 * @param args Command-line arguments.
 */
export async function main(args: readonly string[]): Promise<number> {
  let parsed: ImdbPpoArgs;
  try {
    parsed = parseImdbPpoArgs(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const backend = await selectBackend(parsed.backend);
  const s = parsed.settings;
  console.log(
    `imdb ppo (${s.name}): ${s.steps} steps × batch ${s.ppo.batchSize}, lr ${s.ppo.learningRate.toExponential()}, ` +
      `${s.ppo.ppoEpochs} PPO epochs, top_k ${s.sampling.topK}, top_p ${s.sampling.topP}, ` +
      `${s.sampling.responseLength.min}–${s.sampling.responseLength.max - 1} new tokens; ` +
      `backend ${backend.name}; run folder ${parsed.out}`,
  );
  try {
    const r = await runImdbPpo({
      preset: s,
      out: parsed.out,
      resume: parsed.resume,
      seed: parsed.seed,
      backend: backend.name,
      reportTo: parsed.reportTo,
    });
    console.log(`done in ${r.seconds.toFixed(1)} s`);
    await writeRunReport(parsed.out);
    return 0;
  } catch (e) {
    if (e instanceof NonFiniteLossError) {
      console.error(`${e.message}\nResume from the last checkpoint with --resume.`);
      return 1;
    }
    console.error(`${NAME}: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
