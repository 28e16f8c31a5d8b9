/**
 * PPO, GRPO, RLOO, DPO, ReST and best-of-n side by side on the tiny task (tiny preset only: the offline
 * checkpoints in `examples/assets/tiny-imdb/` and SYNTHETIC review prompts), each trained for
 * the same wall-clock budget from the same starting policy:
 *
 *   deno run -A examples/compare_algorithms.ts [--budget-seconds 60] [--seed 0]
 *     [--backend auto|cpu|webgpu] [--out runs/compare_algorithms]
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
import { numberFlag, parseExampleArgs } from "./common/cli.ts";
import { compareAlgorithms, type CompareResult } from "./compare/compare.ts";
import { markdownTable, writeCompareFiles } from "./compare/table.ts";

const NAME = "compare_algorithms";

/** Default training budget per algorithm, seconds. */
export const DEFAULT_BUDGET_SECONDS = 60;

/** Default output folder. */
export const DEFAULT_OUT = "runs/compare_algorithms";

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
}

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseCompareArgs(args: readonly string[]): CompareArgs {
  // Only the tiny preset exists here; `--preset tiny` is accepted, anything else is an error.
  const parsed = parseExampleArgs<"budget-seconds">(NAME, ["--preset", "tiny", ...args], {
    "budget-seconds": { type: "string" },
  });
  if (parsed.preset !== "tiny") {
    throw new Error(`${NAME}: only the tiny preset exists, got --preset ${parsed.preset}`);
  }
  if (parsed.resume) {
    throw new Error(`${NAME}: --resume is not supported; each run trains from the start`);
  }
  const budgetSeconds = numberFlag(
    NAME,
    "budget-seconds",
    parsed.extra["budget-seconds"],
    0.001,
    DEFAULT_BUDGET_SECONDS,
  );
  const outGiven = args.some((a) => a === "--out" || a.startsWith("--out="));
  return {
    budgetSeconds,
    seed: parsed.seed,
    backend: parsed.backend,
    out: outGiven ? parsed.out : DEFAULT_OUT,
  };
}

/**
 * Run the script; returns the exit status.
 *
 * @param args Command-line arguments.
 */
export async function main(args: readonly string[]): Promise<number> {
  let parsed: CompareArgs;
  let backend;
  try {
    parsed = parseCompareArgs(args);
    backend = await selectBackend(parsed.backend);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  console.log(
    `${NAME} (tiny preset): ${parsed.budgetSeconds} s of training per algorithm, seed ` +
      `${parsed.seed}, backend ${backend.name}, output ${parsed.out}`,
  );
  const result: CompareResult = await compareAlgorithms({
    budgetSeconds: parsed.budgetSeconds,
    seed: parsed.seed,
    backend: backend.name,
    out: parsed.out,
    log: (line) => console.log(line),
  });
  console.log("");
  console.log(markdownTable(result));
  const files = await writeCompareFiles(parsed.out, result);
  console.log(`wrote ${files.markdown} and ${files.json}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
