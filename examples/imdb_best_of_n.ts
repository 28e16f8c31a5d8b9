/**
 * Reward-guided generation from the IMDB tutorial: for each neutral prompt, 16 samples of the
 * original policy (`lvwerra/gpt2-imdb`, or the tiny one), ranked by the IMDB reward model; the
 * best one is best-of-16's answer.
 *
 *   deno run -A examples/imdb_best_of_n.ts [--preset full|tiny] [--n 16] [--out DIR] [--seed 0]
 *     [--backend auto|cpu|webgpu]
 *
 * Prints the reward model's pair accuracy, each prompt's samples ranked by reward, and the mean
 * reward of best-of-n against plain sampling (the mean of all n samples of a prompt, i.e. the
 * expected reward of one plain sample), averaged over the prompts. Writes `best_of_n.json`,
 * `best_of_n.md` and `metrics.jsonl` into the run folder.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import { type ExampleArgs, intFlag, parseExampleArgs } from "./common/cli.ts";
import { type ImdbPreset, imdbPreset } from "./imdb/presets.ts";
import { runImdbBestOfN } from "./imdb/best_of_n_run.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "imdb_best_of_n";

/** Parsed command line: the common flags and the preset they select. */
export interface ImdbBestOfNArgs extends ExampleArgs<"n"> {
  /** The preset with `--n` applied. */
  settings: ImdbPreset;
}

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseImdbBestOfNArgs(args: readonly string[]): ImdbBestOfNArgs {
  const parsed = parseExampleArgs<"n">(NAME, args, { n: { type: "string" } });
  const base = imdbPreset(parsed.preset);
  const n = intFlag(NAME, "n", parsed.extra.n, 1, base.bestOfNSamples);
  return { ...parsed, settings: imdbPreset(parsed.preset, { bestOfNSamples: n }) };
}

/**
 * Run the script; returns the exit status.
 *
 * @param args Command-line arguments.
 */
export async function main(args: readonly string[]): Promise<number> {
  let parsed: ImdbBestOfNArgs;
  try {
    parsed = parseImdbBestOfNArgs(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const backend = await selectBackend(parsed.backend);
  const s = parsed.settings;
  console.log(
    `imdb best-of-${s.bestOfNSamples} (${s.name}): ${s.bestOfNPrompts.length} prompts, policy ` +
      `${s.policy}, top_k ${s.sampling.topK}, top_p ${s.sampling.topP}; backend ${backend.name}`,
  );
  try {
    await runImdbBestOfN({
      preset: s,
      out: parsed.out,
      seed: parsed.seed,
      backend: backend.name,
      reportTo: parsed.reportTo,
    });
    console.log(`wrote best_of_n.json, best_of_n.md and metrics.jsonl to ${parsed.out}`);
    await writeRunReport(parsed.out);
    return 0;
  } catch (e) {
    console.error(`${NAME}: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
