/**
 * TRL's gpt2-sentiment tutorial: tune `lvwerra/gpt2-imdb` with PPO and LoRA to write positive
 * movie reviews, rewarded by the IMDB reward model of `examples/imdb_reward_model.ts`.
 *
 *   deno run -A examples/imdb_ppo.ts --preset tiny    # offline, a few minutes on two cores
 *   deno run -A examples/imdb_ppo.ts --help           # every flag with its defaults
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
import { runImdbPpo } from "./imdb/ppo_run.ts";
import { TARGET_LABELS } from "./imdb/reward_model.ts";
import { writeRunReport } from "./common/report.ts";

const NAME = "imdb_ppo";

/** The IMDB examples' presets, for `--help`. */
export const IMDB_PRESET_HELP: Record<Preset, string> = {
  full: "TRL's gpt2-sentiment tutorial: lvwerra/gpt2-imdb and IMDB from the Hub (or the " +
    "cache), rewarded by the model examples/imdb_reward_model.ts --preset full trains",
  tiny: "offline: the tiny checkpoints in examples/assets/tiny-imdb and SYNTHETIC reviews",
};

/**
 * The flags the stages after the reward model share: which reviews it prefers and how many
 * pairs its accuracy is checked on.
 */
export function imdbStageFlags() {
  return {
    "target-label": flag.choice(TARGET_LABELS, {
      help: "the reviews the reward model was trained to prefer (imdb_reward_model " +
        "--target-label); its accuracy is checked on such pairs",
      default: perPreset((p) => imdbPreset(p as Preset).targetLabel),
    }),
    "accuracy-pairs": flag.int({
      help: "train and test pairs each on which the reward model's accuracy is checked first",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).accuracyPairs),
    }),
  };
}

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "TRL's gpt2-sentiment tutorial: PPO with LoRA tunes lvwerra/gpt2-imdb to write " +
    "positive movie reviews.",
  description: "Prints the reward model's pair accuracy, one stats line per PPO step " +
    "(rewards/mean, ppo/returns/mean, objective/kl), then the side-by-side table of original " +
    "and tuned samples on held-out prompts; writes metrics.jsonl, checkpoint/, side_by_side.md " +
    "and the LoRA adapter (adapter/, PEFT layout) into --out.",
  flags: {
    preset: presetFlag(IMDB_PRESET_HELP),
    steps: flag.int({
      help: "PPO steps, each on a fresh batch of rollouts",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).steps),
    }),
    ...imdbStageFlags(),
    "held-out-prompts": flag.int({
      help: "held-out prompts in the side-by-side table of original and tuned samples",
      min: 1,
      default: perPreset((p) => imdbPreset(p as Preset).heldOutPrompts),
    }),
    "lora-targets": flag.list({
      help: "modules that get LoRA adapters",
      default: perPreset((p) => {
        const targets = imdbPreset(p as Preset).lora?.targetModules ?? [];
        return typeof targets === "string" ? [targets] : [...targets];
      }),
      example: "c_attn,c_proj",
    }),
    ...runFlags(NAME),
  },
  examples: [
    "deno run -A examples/imdb_ppo.ts --preset tiny",
    "deno run -A examples/imdb_ppo.ts --preset tiny --steps 10 --out runs/ppo-short",
    "deno run -A examples/imdb_ppo.ts --preset tiny --steps 20 --out runs/ppo-short --resume",
  ],
});

/** Parsed command line: the flags and the preset they select. */
export type ImdbPpoArgs = ParsedArgs<typeof CLI.flags> & {
  /** The preset with `--steps` and `--lora-targets` applied. */
  settings: ImdbPreset;
};

/**
 * Parse the command line; a bad flag or value throws, naming it.
 *
 * @param args Command-line arguments.
 */
export function parseImdbPpoArgs(args: readonly string[]): ImdbPpoArgs {
  return withSettings(CLI.parse(args));
}

function withSettings(a: ParsedArgs<typeof CLI.flags>): ImdbPpoArgs {
  const base = imdbPreset(a.preset);
  if (a.given.has("lora-targets") && !base.lora) {
    throw CLI.usageError(
      "--lora-targets needs a preset with LoRA",
      a.loraTargets.join(","),
      `the '${base.name}' preset has none`,
    );
  }
  const lora = base.lora ? { ...base.lora, targetModules: a.loraTargets } : base.lora;
  return Object.assign(a, {
    settings: imdbPreset(a.preset, {
      steps: a.steps,
      lora,
      targetLabel: a.targetLabel,
      accuracyPairs: a.accuracyPairs,
      heldOutPrompts: a.heldOutPrompts,
    }),
  });
}

/** "up to 128" for a fixed cap, "6–12" for a drawn one. */
function newTokens(r: { min: number; max: number }): string {
  return r.max - r.min === 1 ? `up to ${r.min}` : `${r.min}–${r.max - 1}`;
}

/**
 * Run the script; resolves to the exit status (errors are printed, never thrown).
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[]): Promise<number> {
  return CLI.run(args, async (parsed) => {
    const a = withSettings(parsed);
    // The run folder first: a clash or an unwritable folder fails before any model loads.
    await using _folder = await openRun(CLI, a, { checkpoints: ["checkpoint"], argv: args });
    const backend = await selectBackend(a.backend, { quiet: true });
    const s = a.settings;
    console.log(
      `imdb ppo (${s.name}): ${s.steps} steps × batch ${s.ppo.batchSize} (minibatch ` +
        `${s.ppo.miniBatchSize}), lr ${s.ppo.learningRate.toExponential()}, ` +
        `${s.ppo.ppoEpochs} PPO epochs, top_k ${s.sampling.topK}, top_p ${s.sampling.topP}, ` +
        `${newTokens(s.sampling.responseLength)} new tokens; ` +
        `backend ${backend.name} (${backend.reason}); run folder ${a.out}`,
    );
    const r = await runImdbPpo({
      preset: s,
      out: a.out,
      resume: a.resume,
      seed: a.seed,
      backend: backend.name,
      reportTo: reportTargets(a.reportTo),
    });
    console.log(`done in ${r.seconds.toFixed(1)} s`);
    await writeRunReport(a.out);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
