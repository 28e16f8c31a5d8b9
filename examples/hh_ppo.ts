/**
 * PPO on hh-rlhf, the lesson's last stage: the SFT policy learns to write replies the trained
 * reward model scores higher, with TRL 0.7.4's PPO (value head, per-token KL penalty to the
 * starting policy with an adaptive coefficient, clipped objectives). The reference is the
 * policy with its LoRA adapters off, or a frozen copy the trainer keeps for a full fine-tune.
 * Prints one stats line per step, writes `metrics.jsonl` (TRL's names), checkpoints, the tuned
 * policy and a side-by-side table, and ends with `held-out reward <before> -> <after>, KL <kl>`.
 *
 *   deno run -A examples/hh_ppo.ts                 # full: the hh_sft and hh_reward_model outputs
 *   deno run -A examples/hh_ppo.ts --preset tiny   # offline: tiny GPT-2, reward model trained first
 *   deno run -A examples/hh_ppo.ts --help          # every flag with its defaults
 *
 * @module
 */

import { PPOTrainer, trainPPO } from "../algorithms/ppo/mod.ts";
import { defineCli, flag, openRun, type ParsedArgs, perPreset, type Preset } from "./common/cli.ts";
import {
  finishHhOnline,
  type HhOnlineOptions,
  type HhOnlineResult,
  onlineFlags,
  onlineOptions,
  startHhOnline,
} from "./hh/online.ts";
import { type HhPpoSettings, hhPreset } from "./hh/presets.ts";

const NAME = "hh_ppo";
const preset = (p: string) => hhPreset(p as Preset);

/** The command line: the hh flags, PPO's and where the run starts. */
export const CLI = defineCli({
  name: NAME,
  summary: "PPO on hh-rlhf: the SFT policy against the trained reward model (TRL 0.7.4's PPO).",
  description: "The reference is the policy with its LoRA adapters off, or a frozen copy the " +
    "trainer keeps for a full fine-tune. Prints one stats line per step; writes metrics.jsonl, " +
    "checkpoints, the tuned policy and a side-by-side table into --out, and ends with " +
    "'held-out reward <before> -> <after>, KL <kl>'.",
  flags: {
    ...onlineFlags(NAME),
    steps: flag.int({ help: "PPO steps", min: 1, default: perPreset((p) => preset(p).ppo.steps) }),
    "learning-rate": flag.number({
      help: "Adam learning rate",
      above: 0,
      default: perPreset((p) => preset(p).ppo.learningRate),
    }),
    "batch-size": flag.int({
      help: "rollouts per PPO step (a multiple of the minibatch size)",
      min: 1,
      default: perPreset((p) => preset(p).ppo.batchSize),
    }),
    "generation-batch-size": flag.int({
      help: "rollouts sampled together (TRL's generate batch_size): fewer hold less memory",
      min: 1,
      default: perPreset((p) => preset(p).ppo.generationBatchSize),
    }),
    "init-kl-coef": flag.number({
      help: "initial KL coefficient β of the adaptive controller",
      min: 0,
      default: perPreset((p) => preset(p).ppo.initKlCoef),
    }),
  },
  examples: [
    "deno run -A examples/hh_ppo.ts --preset tiny",
    "deno run -A examples/hh_ppo.ts --sft runs/hh_sft-full/model --reward-model runs/rm/model",
  ],
});

/** A parsed run of the PPO example. */
export interface HhPpoOptions extends HhOnlineOptions {
  /** PPO settings, with flag overrides applied. */
  ppo: HhPpoSettings;
}

/** What a run measured. */
export interface HhPpoResult extends HhOnlineResult {
  /** PPO steps completed (those before a resume included). */
  steps: number;
  /** The `metrics.jsonl` line of each step this call ran. */
  history: Record<string, number>[];
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function hhPpoOptions(a: ParsedArgs<typeof CLI.flags>): HhPpoOptions {
  const base = hhPreset(a.preset).ppo;
  const miniBatchSize = Math.min(base.miniBatchSize, a.batchSize);
  if (a.batchSize % miniBatchSize !== 0) {
    throw new Error(
      `${NAME}: --batch-size ${a.batchSize} must be a multiple of the minibatch size ` +
        `${miniBatchSize}`,
    );
  }
  return {
    ...onlineOptions(a),
    ppo: {
      ...base,
      steps: a.steps,
      learningRate: a.learningRate,
      batchSize: a.batchSize,
      miniBatchSize,
      generationBatchSize: a.generationBatchSize,
      initKlCoef: a.initKlCoef,
    },
  };
}

/**
 * Parse the command line into run options.
 *
 * @param argv Arguments.
 */
export function parseHhPpoArgs(argv: readonly string[]): HhPpoOptions {
  return hhPpoOptions(CLI.parse(argv));
}

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runHhPpo(o: HhPpoOptions): Promise<HhPpoResult> {
  const started = performance.now();
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, { checkpoints: ["checkpoint"], log: o.log });
  const sampling = { maxNewTokens: o.ppo.maxNewTokens, topK: 0, topP: 1, temperature: 1 };
  const run = await startHhOnline(NAME, o, sampling, true);
  const { policy, reward, log } = run;
  if (o.ppo.gradientCheckpointing) policy.model.gradientCheckpointingEnable();
  const trainer = new PPOTrainer({
    learningRate: o.ppo.learningRate,
    batchSize: o.ppo.batchSize,
    miniBatchSize: o.ppo.miniBatchSize,
    ppoEpochs: o.ppo.ppoEpochs,
    initKlCoef: o.ppo.initKlCoef,
    seed: o.seed,
  }, {
    model: policy.model,
    // The SFT run's adapters are the starting policy: the trainer keeps a frozen copy of them.
    adapters: policy.loraFromSft ? undefined : policy.lora ?? undefined,
    tokenizer: policy.tokenizer,
    warn: (m) => log(`ppo: ${m}`),
  });
  try {
    log(
      `PPO: ${o.ppo.steps} steps of ${o.ppo.batchSize} rollouts, lr ${o.ppo.learningRate}, ` +
        `KL coefficient from ${o.ppo.initKlCoef} (adaptive); reference: ${
          trainer.reference.kind === "adapters"
            ? "the policy with its adapters off"
            : "a frozen copy"
        }`,
    );
    const decode = (ids: number[]) => policy.tokenizer.decode(ids, { skipSpecialTokens: true });
    const loop = await trainPPO({
      trainer,
      queries: run.trainPrompts,
      steps: o.ppo.steps,
      outputDir: o.out,
      checkpointEvery: o.ppo.checkpointEvery,
      resume: o.resume,
      seed: o.seed,
      log: o.stepLog,
      progress: o.progress,
      reportTo: o.reportTo,
      decode,
      generate: async (queries, { generator }) => {
        policy.model.eval();
        const { tokens } = await policy.model.generate(queries, {
          doSample: true,
          ...sampling,
          batchSize: o.ppo.generationBatchSize,
          generator,
        });
        return tokens;
      },
      reward: async (queries, responses) =>
        await reward.fn(queries.map((q, i) => decode([...q, ...responses[i]]))),
    });
    if (loop.resumedFrom !== null) log(`resumed from the step-${loop.resumedFrom} checkpoint`);
    const result = await finishHhOnline(run, o, "PPO", trainer.reference, started);
    return { ...result, steps: loop.steps, history: loop.history };
  } finally {
    trainer.dispose();
    run.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runHhPpo(hhPpoOptions(a));
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
