/**
 * Reward-guided generation from the IMDB tutorial: for each neutral prompt, 16 samples of the
 * original policy (`lvwerra/gpt2-imdb`, or the tiny one), ranked by the IMDB reward model; the
 * best one is best-of-16's answer.
 *
 *   deno run -A examples/imdb_best_of_n.ts --preset tiny    # offline, seconds
 *   deno run -A examples/imdb_best_of_n.ts --help           # every flag with its defaults
 *
 * Prints the reward model's pair accuracy, each prompt's samples ranked by reward, and the mean
 * reward of best-of-n against plain sampling (the mean of all n samples of a prompt, i.e. the
 * expected reward of one plain sample), averaged over the prompts. Writes `best_of_n.json`,
 * `best_of_n.md` and `metrics.jsonl` into the run folder.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import {
  defineCli,
  flag,
  openRun,
  type ParsedArgs,
  perPreset,
  type Preset,
  presetFlag,
  reportTargets,
  runFlags,
} from "./common/cli.ts";
import { type ImdbPreset, imdbPreset } from "./imdb/presets.ts";
import { runImdbBestOfN } from "./imdb/best_of_n_run.ts";
import { IMDB_PRESET_HELP, imdbStageFlags } from "./imdb_ppo.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "imdb_best_of_n";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "best-of-n from the IMDB tutorial: n samples per neutral prompt, ranked by the " +
    "IMDB reward model.",
  description: "Prints the reward model's pair accuracy, each prompt's samples ranked by " +
    "reward, and the mean reward of best-of-n against plain sampling (the mean of all n " +
    "samples of a prompt); writes best_of_n.json, best_of_n.md and metrics.jsonl into --out.",
  flags: {
    preset: presetFlag(IMDB_PRESET_HELP),
    n: flag.int({
      help: "samples per prompt",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).bestOfNSamples),
    }),
    prompts: flag.int({
      help: "neutral prompts sampled from (the first N of the preset's)",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).bestOfNPrompts.length),
    }),
    ...imdbStageFlags(),
    ...runFlags(NAME, { resume: false }),
  },
  examples: [
    "deno run -A examples/imdb_best_of_n.ts --preset tiny",
    "deno run -A examples/imdb_best_of_n.ts --preset tiny --n 4 --out runs/bon4 --overwrite",
  ],
});

/** Parsed command line: the flags and the preset they select. */
export type ImdbBestOfNArgs = ParsedArgs<typeof CLI.flags> & {
  /** The preset with `--n` applied. */
  settings: ImdbPreset;
};

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseImdbBestOfNArgs(args: readonly string[]): ImdbBestOfNArgs {
  const a = CLI.parse(args);
  return Object.assign(a, { settings: settingsOf(a) });
}

function settingsOf(a: ParsedArgs<typeof CLI.flags>): ImdbPreset {
  const base = imdbPreset(a.preset);
  return imdbPreset(a.preset, {
    bestOfNSamples: a.n,
    bestOfNPrompts: base.bestOfNPrompts.slice(0, a.prompts),
    targetLabel: a.targetLabel,
    accuracyPairs: a.accuracyPairs,
  });
}

/**
 * Run the script; resolves to the exit status (errors are printed, never thrown).
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[]): Promise<number> {
  return CLI.run(args, async (a) => {
    const s = settingsOf(a);
    // The run folder first: a clash or an unwritable folder fails before any model loads.
    await using _folder = await openRun(CLI, a, { argv: args });
    const backend = await selectBackend(a.backend, { quiet: true });
    console.log(
      `imdb best-of-${s.bestOfNSamples} (${s.name}): ${s.bestOfNPrompts.length} prompts, policy ` +
        `${s.policy}, top_k ${s.bestOfNSampling.topK}, top_p ${s.bestOfNSampling.topP}, up to ` +
        `${s.bestOfNSampling.responseLength.max - 1} new tokens; backend ` +
        `${backend.name} (${backend.reason})`,
    );
    await runImdbBestOfN({
      preset: s,
      out: a.out,
      seed: a.seed,
      backend: backend.name,
      reportTo: reportTargets(a.reportTo),
    });
    console.log(`wrote best_of_n.json, best_of_n.md and metrics.jsonl to ${a.out}`);
    await writeRunReport(a.out);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
