/**
 * Step 3 of the TL;DR summarization tutorial: PPO on the SFT policy against the trained reward
 * model, as trlX's `summarize_rlhf` recipe runs it. Prompts are the posts cut to leave room for
 * the summary, then `\nTL;DR:`; the reward of a summary is RM(post + summary) minus RM(post + the
 * human summary), so the policy is paid for beating the reference; the training is trlX's PPO
 * through one call, `train({ rewardFn, prompts, evalPrompts, config })`, with the tutorial's
 * config. Before and after, the held-out posts are summarized greedily (ROUGE against the
 * references, reward) and by sampling (reward, and the KL of the tuned policy to the SFT one).
 *
 *   deno run -A examples/tldr_ppo.ts                 # full: the tldr_sft / tldr_reward_model outputs
 *   deno run -A examples/tldr_ppo.ts --preset tiny   # offline: tiny SFT GPT-2 and reward model
 *   deno run -A examples/tldr_ppo.ts --help          # every flag with its defaults
 *
 * Writes metrics.jsonl (trlX's statistic names, and the held-out measurements before and after),
 * checkpoints, the tuned policy (`<out>/model`), a side-by-side table of held-out posts and
 * `report.html`, and ends with `rougeL <sft> -> <ppo>; reward <sft> -> <ppo>`: the ROUGE-L of
 * greedy summaries and the mean normalized reward of sampled ones (what PPO maximizes, and what
 * trlX's evaluation reports), on the held-out posts.
 *
 * @module
 */

import { join } from "node:path";
import {
  ONLINE_CHECKPOINT_DIR,
  readMetrics,
  Reference,
  sequenceKl,
} from "../algorithms/common/mod.ts";
import { parseTrlxConfig, train, type TrlxConfig } from "../algorithms/ppo_trlx/mod.ts";
import { selectBackend } from "../core/mod.ts";
import { gistScore } from "../data/mod.ts";
import { computeRouge } from "../eval/mod.ts";
import { type CausalLM, loadTokenizer } from "../models/mod.ts";
import { type ReportTarget, RunWriter, writeRunConfig } from "../report/run_files.ts";
import { defineCli, openRun, type ParsedArgs, reportTargets } from "./common/cli.ts";
import { writeRunReport } from "./common/report.ts";
import { tldrPpoFlags, tldrPpoPreset } from "./tldr/args.ts";
import { checkSftRows } from "./tldr/data.ts";
import { type HeldOutSummaries, heldOutSummaries, mean, tldrPrompts } from "./tldr/held_out.ts";
import { loadPpoSplits } from "./tldr/load.ts";
import { loadTldrPolicy, loadTldrScorer, type TldrPolicy, type TldrScorer } from "./tldr/models.ts";
import type { TldrPreset } from "./tldr/presets.ts";
import { normalizedReward } from "./tldr/reward.ts";
import { columnSamples, type TableRow, writeTable } from "./tldr/table.ts";

const NAME = "tldr_ppo";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "step 3 of the TL;DR summarization tutorial: trlX's PPO on the SFT policy against " +
    "the trained reward model, paid for beating the human summary.",
  description: "Prints the ROUGE and normalized reward of greedy summaries of held-out posts, " +
    "and the reward and KL of sampled ones, before and after PPO; writes metrics.jsonl " +
    "(trlX's statistic names), checkpoints, the tuned policy (<out>/model), a side-by-side " +
    "table and report.html into --out. The last line reads " +
    "'rougeL <sft> -> <ppo>; reward <sft> -> <ppo>' (ROUGE-L of the greedy summaries, mean " +
    "reward of the sampled ones).",
  flags: tldrPpoFlags(NAME),
  examples: [
    "deno run -A examples/tldr_ppo.ts --preset tiny",
    "deno run -A examples/tldr_ppo.ts --preset tiny --total-steps 8 --out runs/tldr-ppo-short",
    "deno run -A examples/tldr_ppo.ts --total-steps 2000 --out runs/tldr-ppo-2k",
  ],
});

/** A parsed run of the PPO example. */
export interface TldrPpoOptions {
  /** The preset with flag overrides applied. */
  preset: TldrPreset;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from the run's last checkpoint. */
  resume: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of the data order, sampling and the value head. */
  seed: number;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /** The command line, recorded in the run folder's `run.json`. */
  argv?: readonly string[];
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the trainer's progress bar (default true). */
  progress?: boolean;
}

/** The held-out measurements of one policy. */
export interface TldrPolicyScores {
  /** ROUGE F of its greedy summaries. */
  rouge: HeldOutSummaries["rouge"];
  /** Mean normalized reward of its greedy summaries. */
  reward: number;
  /** Mean normalized reward of its sampled summaries. */
  sampledReward: number;
  /** Mean share of the gist its greedy summaries state (SYNTHETIC only). */
  gist: number | null;
  /** Mean share of the gist its sampled summaries state (SYNTHETIC only). */
  sampledGist: number | null;
}

/** What a run measured. */
export interface TldrPpoResult {
  /** The SFT policy. */
  sft: TldrPolicyScores;
  /** The tuned policy. */
  ppo: TldrPolicyScores;
  /** Mean KL of the tuned policy's sampled summaries to the SFT policy (nats, Σ over tokens). */
  kl: number;
  /** Training and held-out posts cut to fit the prompt length. */
  truncated: { train: number; eval: number };
  /** Prompts trained on and evaluated. */
  prompts: { train: number; eval: number };
  /** PPO optimizer steps taken. */
  steps: number;
  /** The resolved trlX config. */
  config: TrlxConfig;
  /** Where the tuned policy went. */
  modelDir: string;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function tldrPpoOptions(a: ParsedArgs<typeof CLI.flags>): TldrPpoOptions {
  return {
    preset: tldrPpoPreset(a),
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
  };
}

/**
 * Parse the command line into run options; a bad flag or value throws, naming it.
 *
 * @param argv Arguments.
 */
export function parseTldrPpoArgs(argv: readonly string[]): TldrPpoOptions {
  return tldrPpoOptions(CLI.parse(argv));
}

/**
 * The stage's trlX config: the preset's, validated, with the run's seed and folder.
 *
 * @param o Parsed options.
 */
export function tldrPpoConfig(o: TldrPpoOptions): TrlxConfig {
  const c = o.preset.ppo.config;
  return parseTrlxConfig({
    ...c,
    train: {
      ...c.train,
      seed: o.seed,
      // train() writes metrics.jsonl, sample tables and checkpoints into the run folder.
      checkpoint_dir: o.out,
      resume_from_checkpoint: o.resume ? o.out : null,
      // No W&B here: metrics.jsonl always, TensorBoard with --report-to tensorboard.
      tracker: null,
    },
  });
}

const fmt = (x: number) => x.toFixed(4);

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runTldrPpo(o: TldrPpoOptions): Promise<TldrPpoResult> {
  const t0 = performance.now();
  const log = o.log ?? ((line: string) => console.log(line));
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, {
    checkpoints: [ONLINE_CHECKPOINT_DIR],
    log: o.log,
    argv: o.argv,
  });
  const { preset } = o;
  const p = preset.ppo;
  // trlX's config, checked before anything loads: a bad field is an error naming it.
  const config = tldrPpoConfig(o);
  const { train: t, method: m } = config;
  const maxNewTokens = m.gen_kwargs.max_new_tokens ?? 50;
  // trlX's max_length_input: the prompt leaves room for the summary.
  const promptLength = t.seq_length - maxNewTokens;
  // Why auto chose what it did goes into this line, not onto standard error.
  const backend = await selectBackend(o.backend, { quiet: true });
  log(
    `${NAME} (${preset.name}): PPO on ${config.model.model_path} (${config.model.num_layers_unfrozen} ` +
      `layers unfrozen) against ${p.rewardModel}, prompts from ${
        preset.data === "hub" ? "CarperAI/openai_summarize_tldr" : "SYNTHETIC posts"
      }; seq_length ${t.seq_length}, batch ${t.batch_size}, lr ${config.optimizer.kwargs.lr}, ` +
      `${m.num_rollouts} rollouts in chunks of ${m.chunk_size}, ${m.ppo_epochs} PPO epochs, ` +
      `init_kl_coef ${m.init_kl_coef}${m.target === null ? "" : ` (target ${m.target})`}, ` +
      `${t.total_steps} steps; backend ${backend.name} (${backend.reason})`,
  );
  // The data first: offline, an uncached dataset stops the run here, naming it.
  const data = await loadPpoSplits(preset);
  checkSftRows(NAME, data.train);
  checkSftRows(NAME, data.eval);
  const tokenizer = await loadTokenizer(config.tokenizer.tokenizer_path);
  const trainPrompts = tldrPrompts(data.train, tokenizer, promptLength);
  const heldOut = tldrPrompts(data.eval, tokenizer, promptLength);
  log(
    `${trainPrompts.texts.length} training prompts and ${heldOut.texts.length} held out; ` +
      `${trainPrompts.truncated} and ${heldOut.truncated} posts were longer than ` +
      `${promptLength - 5} tokens and cut to leave room for the summary (as the tutorial cuts)`,
  );
  // trlX's post_summary_dict: the reference summary of each prompt, the reward's baseline.
  const references = new Map<string, string>();
  trainPrompts.texts.forEach((text, i) => references.set(text.trim(), data.train[i].label));
  heldOut.texts.forEach((text, i) => references.set(text.trim(), data.eval[i].label));

  let scorer: TldrScorer | null = null, sft: TldrPolicy | null = null;
  let disposeTrainer = () => {};
  try {
    scorer = await loadTldrScorer(p.rewardModel, tokenizer, {
      maxLength: t.seq_length,
      prefix: preset.reward.prefix,
    }, backend.name);
    const reward = normalizedReward(scorer.fn, references);
    sft = await loadTldrPolicy(config.model.model_path, backend.name, o.seed);
    const settings = { maxNewTokens, seed: o.seed + 7919 };
    const gists = data.evalGists;
    const score = (s: HeldOutSummaries): TldrPolicyScores => ({
      rouge: s.rouge,
      reward: mean(s.greedyRewards),
      sampledReward: mean(s.sampledRewards),
      gist: gists ? mean(s.greedy.map((x, i) => gistScore(x, gists[i]))) : null,
      sampledGist: gists ? mean(s.sampled.map((x, i) => gistScore(x, gists[i]))) : null,
    });
    const describe = (s: TldrPolicyScores) =>
      `rouge1 ${fmt(s.rouge.rouge1)}, rouge2 ${fmt(s.rouge.rouge2)}, rougeL ${
        fmt(s.rouge.rougeL)
      }, rougeLsum ${fmt(s.rouge.rougeLsum)}, reward ${fmt(s.reward)} (greedy); reward ${
        fmt(s.sampledReward)
      } (sampled)` + (s.gist === null || s.sampledGist === null
        ? ""
        : `; gist stated ${s.gist.toFixed(3)} (greedy), ${s.sampledGist.toFixed(3)} (sampled)`);
    const before = await heldOutSummaries(sft.model, tokenizer, heldOut, reward, settings);
    const sftScores = score(before);
    log(`SFT policy on ${heldOut.texts.length} held-out posts: ${describe(sftScores)}`);
    await writeRunConfig(o.out, { preset, trlx: config });

    // The tutorial's one call.
    const trainer = await train({
      rewardFn: (samples) => reward(samples),
      prompts: trainPrompts.texts,
      evalPrompts: heldOut.texts,
      config,
      backend: backend.name,
      log: o.progress === false ? false : log,
      progress: o.progress,
      reportTo: o.reportTo,
    });
    disposeTrainer = () => trainer.dispose();
    const modelDir = join(o.out, "model");
    await trainer.save(modelDir);
    const steps = trainer.metrics.reduce((n, r) => Math.max(n, r.step ?? 0), 0);
    const evals = trainer.evaluations;
    if (evals.length > 1) {
      log(
        `trlX's evaluation (sampled, ${heldOut.texts.length} prompts): reward/mean ${
          evals.map((e) => `${fmt(e.rewardMean)} (step ${e.step})`).join(", ")
        }`,
      );
    }

    const tuned = trainer.policy.base as CausalLM;
    const after = await heldOutSummaries(tuned, tokenizer, heldOut, reward, settings);
    const ppoScores = score(after);
    log(`PPO policy after ${steps} steps: ${describe(ppoScores)}`);
    const kl = mean(
      await sequenceKl(tuned, Reference.model(sft.model), heldOut.ids, after.sampledIds, {
        padTokenId: tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0,
        backend: backend.name,
      }),
    );
    log(
      `sampled summaries: reward ${fmt(sftScores.sampledReward)} -> ${
        fmt(ppoScores.sampledReward)
      } at a KL of ${fmt(kl)} nats to the SFT policy` + (
        sftScores.sampledGist === null || ppoScores.sampledGist === null
          ? ""
          : `; gist stated ${sftScores.sampledGist.toFixed(3)} -> ${
            ppoScores.sampledGist.toFixed(3)
          }`
      ),
    );
    // The held-out measurements join train()'s metrics.jsonl at its first and last lines' steps.
    const lastStep = (await readMetrics(o.out)).reduce((n, l) => Math.max(n, l.step ?? 0), 0);
    const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
    try {
      const record = (s: TldrPolicyScores) => ({
        "eval/rouge1": s.rouge.rouge1,
        "eval/rouge2": s.rouge.rouge2,
        "eval/rougeL": s.rouge.rougeL,
        "eval/rougeLsum": s.rouge.rougeLsum,
        "eval/reward_greedy": s.reward,
        "eval/reward_sampled": s.sampledReward,
      });
      await writer.write(0, record(sftScores));
      await writer.write(lastStep, { ...record(ppoScores), "eval/kl": kl });
    } finally {
      writer.close();
    }

    const shown = data.eval.slice(0, preset.tablePosts);
    const rows: TableRow[] = shown.map((r, i) => {
      const column = (text: string, rewardValue: number) => ({
        text,
        reward: rewardValue,
        rougeL: computeRouge([text], [heldOut.references[i]], { useAggregator: false })[0].rougeL
          .fmeasure,
        gist: gists ? gistScore(text, gists[i]) : null,
      });
      return {
        post: r.prompt,
        reference: heldOut.references[i],
        summaries: {
          SFT: column(before.greedy[i], before.greedyRewards[i]),
          PPO: column(after.greedy[i], after.greedyRewards[i]),
        },
      };
    });
    log(`rewards: RM(post + summary) − RM(post + reference) with ${scorer.source}`);
    const table = await writeTable(o.out, rows, log, { before: "SFT", after: "PPO" });
    const samples = await RunWriter.open(o.out, { reportTo: o.reportTo });
    try {
      for (const c of ["SFT", "PPO"]) {
        await samples.writeSamples(lastStep, columnSamples(rows, c), `eval/${c}`);
      }
    } finally {
      samples.close();
    }
    log(`saved the tuned policy and its tokenizer in ${modelDir}`);
    log(`metrics: ${join(o.out, "metrics.jsonl")}; table: ${table}`);
    const seconds = (performance.now() - t0) / 1000;
    log(`${NAME} (${preset.name}) finished in ${seconds.toFixed(0)} s`);
    await writeRunReport(o.out, log);
    log(
      `rougeL ${fmt(sftScores.rouge.rougeL)} -> ${fmt(ppoScores.rouge.rougeL)}; reward ${
        fmt(sftScores.sampledReward)
      } -> ${fmt(ppoScores.sampledReward)}`,
    );
    return {
      sft: sftScores,
      ppo: ppoScores,
      kl,
      truncated: { train: trainPrompts.truncated, eval: heldOut.truncated },
      prompts: { train: trainPrompts.texts.length, eval: heldOut.texts.length },
      steps,
      config,
      modelDir,
      seconds,
    };
  } finally {
    disposeTrainer();
    sft?.model.dispose();
    scorer?.model.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runTldrPpo({ ...tldrPpoOptions(a), argv });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
