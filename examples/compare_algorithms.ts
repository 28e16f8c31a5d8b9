/**
 * PPO, GRPO, RLOO, DPO, ReST and best-of-n side by side on the tiny task (tiny preset only: the offline
 * checkpoints in `examples/assets/tiny-imdb/` and SYNTHETIC review prompts), each trained for
 * the same wall-clock budget from the same starting policy:
 *
 *   deno run -A examples/compare_algorithms.ts                    # 60 s per algorithm
 *   deno run -A examples/compare_algorithms.ts --help             # every flag with its defaults
 *
 * - PPO runs through the PPO loop (`trainPPO`) on the training prompts, rewarded by the tiny
 *   reward model; GRPO and RLOO sample 4 completions per training prompt and learn from how each
 *   scores against the others of its prompt; DPO trains on the SYNTHETIC preference pairs of the same prompts (chosen =
 *   positive continuation); ReST runs Grow + Improve rounds scored by the reward model;
 *   best-of-n trains nothing and pays at inference (n = 16 candidates per prompt).
 * - Every result is measured on the same held-out prompts with the same sampling seed: mean
 *   reward before → after, the KL of the tuned samples to the untouched policy
 *   (Σ_t log π(y_t) − log π_ref(y_t), averaged over samples), reward gain per training second
 *   and the sampling cost per prompt.
 *
 * Prints the table and writes it as `compare_algorithms.md` and `compare_algorithms.json` into
 * the output folder (plus each trainer's `metrics.jsonl` under `ppo/`, `grpo/`, `rloo/`, `dpo/`,
 * `rest/`). With the default budget the whole run takes about 5 × 60 s + 30 s on two CPU cores.
 *
 * @module
 */

import { selectBackend } from "../core/mod.ts";
import { defineCli, flag, openRun, runFlags } from "./common/cli.ts";
import { compareAlgorithms, type CompareResult } from "./compare/compare.ts";
import { markdownTable, writeCompareFiles } from "./compare/table.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "compare_algorithms";

/** Default training budget per algorithm, seconds. */
export const DEFAULT_BUDGET_SECONDS = 60;

/** Default output folder. */
export const DEFAULT_OUT = "runs/compare_algorithms";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "PPO, DPO, ReST and best-of-n side by side on the tiny task, each trained for the " +
    "same wall-clock budget from the same starting policy.",
  description: "Every result is measured on the same held-out prompts with the same sampling " +
    "seed: mean reward before and after, the KL of the tuned samples to the untouched policy, " +
    "reward gain per training second and the sampling cost per prompt. Prints the table and " +
    "writes compare_algorithms.md and compare_algorithms.json (plus each trainer's " +
    "metrics.jsonl under ppo/, dpo/, rest/) into --out.",
  flags: {
    preset: flag.choice(["tiny"], {
      help: "only the tiny preset exists here",
      default: "tiny",
      describe: { tiny: "offline: the tiny checkpoints and SYNTHETIC review prompts" },
    }),
    "budget-seconds": flag.number({
      help: "training seconds per algorithm",
      min: 0.001,
      default: DEFAULT_BUDGET_SECONDS,
    }),
    ...runFlags(NAME, { resume: false, withPreset: false }),
  },
  examples: [
    "deno run -A examples/compare_algorithms.ts",
    "deno run -A examples/compare_algorithms.ts --budget-seconds 10 --out runs/cmp10",
  ],
});

/** The parsed command line. */
export interface CompareArgs {
  /** Training seconds per algorithm. */
  budgetSeconds: number;
  /** Seed. */
  seed: number;
  /** Backend name, or undefined for `TETHER_BACKEND`, then `auto`. */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Replace a run already in `out`. */
  overwrite: boolean;
}

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseCompareArgs(args: readonly string[]): CompareArgs {
  const a = CLI.parse(args);
  return {
    budgetSeconds: a.budgetSeconds,
    seed: a.seed,
    backend: a.backend,
    out: a.out,
    overwrite: a.overwrite,
  };
}

/**
 * Run the script; resolves to the exit status (errors are printed, never thrown).
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[]): Promise<number> {
  return CLI.run(args, async (a) => {
    // The run folder first: a clash or an unwritable folder fails before any model loads.
    await using _folder = await openRun(CLI, a, { argv: args });
    const backend = await selectBackend(a.backend, { quiet: true });
    console.log(
      `${NAME} (tiny preset): ${a.budgetSeconds} s of training per algorithm, seed ` +
        `${a.seed}, backend ${backend.name} (${backend.reason}), output ${a.out}`,
    );
    const result: CompareResult = await compareAlgorithms({
      budgetSeconds: a.budgetSeconds,
      seed: a.seed,
      backend: backend.name,
      out: a.out,
      log: (line) => console.log(line),
    });
    console.log("");
    console.log(markdownTable(result));
    const files = await writeCompareFiles(a.out, result);
    console.log(`wrote ${files.markdown} and ${files.json}`);
    // The trainers' folders (ppo/, dpo/, rest/) in one report, their curves overlaid.
    await writeRunReport(a.out);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
