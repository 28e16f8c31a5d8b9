/**
 * Step 1 of the TL;DR summarization tutorial (OpenAI's "Learning to summarize from human
 * feedback" as trlX's `summarize_rlhf` recipe runs it): supervised fine-tuning of GPT-2 on Reddit
 * posts and their human summaries, evaluated with ROUGE as `evaluate.load("rouge")` computes it
 * on summaries the model writes for held-out posts.
 *
 *   deno run -A examples/tldr_sft.ts                 # full: gpt2 + CarperAI/openai_summarize_tldr
 *   deno run -A examples/tldr_sft.ts --preset tiny   # offline: tiny GPT-2, SYNTHETIC posts
 *   deno run -A examples/tldr_sft.ts --help          # every flag with its defaults
 *
 * Prints eval_rouge1/2/L/Lsum of the untrained and the tuned policy, writes metrics.jsonl (the
 * ROUGE of every evaluation under the Hugging Face Trainer's names), checkpoints, the tuned
 * model (`<out>/model`), a side-by-side table of held-out posts and `report.html`.
 *
 * @module
 */

import { join } from "node:path";
import { type SftEvalMetrics, SFTTrainer } from "../algorithms/sft/mod.ts";
import { selectBackend } from "../core/mod.ts";
import { gistScore } from "../data/mod.ts";
import { computeRouge } from "../eval/mod.ts";
import { type ReportTarget, RunWriter, writeRunConfig } from "../report/run_files.ts";
import { scoreTexts } from "../reward/mod.ts";
import { defineCli, openRun, type ParsedArgs, reportTargets } from "./common/cli.ts";
import { writeRunReport } from "./common/report.ts";
import { tldrSftFlags, tldrSftPreset } from "./tldr/args.ts";
import { checkSftRows, tokenizeSftRows } from "./tldr/data.ts";
import { loadSftSplits } from "./tldr/load.ts";
import {
  loadTldrPolicy,
  loadTldrScorer,
  saveWithTokenizer,
  type TldrScorer,
} from "./tldr/models.ts";
import { TINY_TLDR_ASSETS, type TldrPreset } from "./tldr/presets.ts";
import { summaryPrompts } from "./tldr/summaries.ts";
import { type TableRow, writeTable } from "./tldr/table.ts";

const NAME = "tldr_sft";

/** The command line. */
export const CLI = defineCli({
  name: NAME,
  summary: "step 1 of the TL;DR summarization tutorial: supervised fine-tuning of GPT-2 on " +
    "Reddit posts and their summaries, scored by the ROUGE of the summaries it writes.",
  description: "Prints eval_rouge1/2/L/Lsum of greedy summaries of held-out posts before and " +
    "after training; writes metrics.jsonl (the ROUGE of every evaluation under the Hugging " +
    "Face Trainer's names), checkpoints, the tuned model (<out>/model), a side-by-side table " +
    "of held-out posts and report.html into --out.",
  flags: tldrSftFlags(NAME),
  examples: [
    "deno run -A examples/tldr_sft.ts --preset tiny",
    "deno run -A examples/tldr_sft.ts --preset tiny --max-steps 40 --out runs/tldr-sft-short",
    "deno run -A examples/tldr_sft.ts --preset tiny --max-steps 80 --out runs/tldr-sft-short " +
    "--resume",
  ],
});

/** A parsed run of the SFT example. */
export interface TldrSftOptions {
  /** The preset with flag overrides applied. */
  preset: TldrPreset;
  /** Backend choice (undefined: `TETHER_BACKEND`, then auto). */
  backend?: string;
  /** Output folder. */
  out: string;
  /** Resume from `<out>/checkpoint`. */
  resume: boolean;
  /** Replace a run already in `out`. */
  overwrite?: boolean;
  /** Seed of the data order. */
  seed: number;
  /** Also write TensorBoard event files (`--report-to tensorboard`). */
  reportTo?: readonly ReportTarget[];
  /** A reward model to score the table (null: the tiny preset's own, else none). */
  rewardModel: string | null;
  /** The command line, recorded in the run folder's `run.json`. */
  argv?: readonly string[];
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the trainer's progress bar (default true). */
  progress?: boolean;
}

/** The ROUGE of generated summaries, as the Trainer names it. */
export interface TldrRouge {
  /** ROUGE-1 F (bootstrap mid, as `evaluate`). */
  eval_rouge1: number;
  /** ROUGE-2 F. */
  eval_rouge2: number;
  /** ROUGE-L F. */
  eval_rougeL: number;
  /** ROUGE-Lsum F. */
  eval_rougeLsum: number;
}

/** What a run measured. */
export interface TldrSftResult {
  /** Held-out ROUGE of the untrained policy's summaries. */
  before: TldrRouge;
  /** Held-out ROUGE of the tuned policy's summaries. */
  after: TldrRouge;
  /** Held-out loss before and after. */
  loss: { before: number; after: number };
  /** Mean share of the gist stated by the summaries (SYNTHETIC only). */
  gist: { before: number; after: number } | null;
  /** Training examples cut to `maxLength`. */
  truncated: number;
  /** Held-out posts cut to fit the prompt length. */
  promptsTruncated: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Where the tuned model went. */
  modelDir: string;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/**
 * Run options from parsed flags.
 *
 * @param a Parsed flags.
 */
export function tldrSftOptions(a: ParsedArgs<typeof CLI.flags>): TldrSftOptions {
  return {
    preset: tldrSftPreset(a),
    backend: a.backend,
    out: a.out,
    resume: a.resume,
    overwrite: a.overwrite,
    seed: a.seed,
    reportTo: reportTargets(a.reportTo),
    rewardModel: a.rewardModel ?? null,
  };
}

/**
 * Parse the command line into run options; a bad flag or value throws, naming it.
 *
 * @param argv Arguments.
 */
export function parseTldrSftArgs(argv: readonly string[]): TldrSftOptions {
  return tldrSftOptions(CLI.parse(argv));
}

const rougeOf = (m: Record<string, number>): TldrRouge => ({
  eval_rouge1: m.eval_rouge1,
  eval_rouge2: m.eval_rouge2,
  eval_rougeL: m.eval_rougeL,
  eval_rougeLsum: m.eval_rougeLsum,
});

const describe = (r: TldrRouge) =>
  Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ");

/**
 * Run the example.
 *
 * @param o Parsed options.
 */
export async function runTldrSft(o: TldrSftOptions): Promise<TldrSftResult> {
  const t0 = performance.now();
  const log = o.log ?? ((line: string) => console.log(line));
  // The run folder first: a clash or an unwritable folder fails before any model loads.
  await using _folder = await openRun(CLI, o, {
    checkpoints: ["checkpoint"],
    log: o.log,
    argv: o.argv,
  });
  const { preset } = o;
  const s = preset.sft;
  // Why auto chose what it did goes into this line, not onto standard error.
  const backend = await selectBackend(o.backend, { quiet: true });
  log(
    `${NAME} (${preset.name}): ${s.model} on ${
      preset.data === "hub" ? "CarperAI/openai_summarize_tldr" : "SYNTHETIC posts"
    }, max length ${s.maxLength}, batch ${s.batchSize}, lr ${s.learningRate}, backend ` +
      `${backend.name} (${backend.reason})`,
  );
  // The data first: offline, an uncached dataset stops the run here, naming it.
  const data = await loadSftSplits(preset);
  checkSftRows(NAME, data.train);
  checkSftRows(NAME, data.test);
  const policy = await loadTldrPolicy(s.model, backend.name, o.seed);
  let scorer: TldrScorer | null = null;
  try {
    const { model, tokenizer } = policy;
    const train = tokenizeSftRows(data.train, tokenizer, s.maxLength);
    const test = tokenizeSftRows(data.test, tokenizer, s.maxLength);
    const prompts = summaryPrompts(data.test, tokenizer, s);
    log(
      `${data.train.length} training posts (${train.truncated} longer than ${s.maxLength} ` +
        `tokens, cut from the left as the tutorial does), ${data.test.length} held out ` +
        `(${prompts.truncated} cut to fit the prompt)`,
    );
    const rewardSource = o.rewardModel ??
      (preset.data === "synthetic" ? join(TINY_TLDR_ASSETS, "reward") : null);
    if (rewardSource) {
      scorer = await loadTldrScorer(rewardSource, tokenizer, preset.reward, backend.name);
    }
    const trainer = new SFTTrainer({
      learningRate: s.learningRate,
      adamBetas: s.adamBetas,
      batchSize: s.batchSize,
      numTrainEpochs: s.numTrainEpochs,
      maxSteps: s.maxSteps,
      warmupSteps: s.warmupSteps,
      evalSteps: s.maxSteps === null ? s.evalSteps : Math.min(s.evalSteps, s.maxSteps),
      saveSteps: s.maxSteps === null ? s.saveSteps : Math.min(s.saveSteps, s.maxSteps),
      loggingSteps: Math.max(1, Math.min(50, Math.floor((s.maxSteps ?? 500) / 10))),
      maxLength: s.maxLength,
      completionOnlyLoss: s.completionOnlyLoss,
      gradientCheckpointing: s.gradientCheckpointing,
      outputDir: o.out,
      seed: o.seed,
      progress: o.progress ?? true,
      reportTo: o.reportTo,
    }, {
      model,
      trainDataset: train.examples,
      evalDataset: test.examples,
      tokenizer,
      generationEval: {
        prompts: prompts.ids,
        references: data.test.map((r) => r.label.trim()),
        decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }).trim(),
        maxNewTokens: s.maxNewTokens,
      },
    });
    await writeRunConfig(o.out, { preset });

    // The table's posts, each summary scored by the reward model when there is one.
    const gists = data.testGists;
    const shown = data.test.slice(0, preset.tablePosts);
    const posts = shown.map((r) => r.prompt);
    const score = async (summaries: string[]) =>
      scorer
        ? await scoreTexts(scorer.fn, posts.map((p, i) => `${p} ${summaries[i]}`))
        : posts.map(() => null);
    // Held-out samples for the report: the post, the summary and its reward (NaN: none).
    const samples = (summaries: string[], rewards: (number | null)[]) =>
      posts.map((prompt, i) => ({ prompt, completion: summaries[i], reward: rewards[i] ?? NaN }));

    const before: SftEvalMetrics = await trainer.evaluate();
    const beforeSummaries = trainer.lastPredictions;
    const rewardsBefore = await score(beforeSummaries);
    log(`untrained policy: ${describe(rougeOf(before))}, eval/loss ${before.loss.toFixed(4)}`);
    if (!o.resume) {
      const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
      await writer.write(0, { ...rougeOf(before), "eval/loss": before.loss });
      await writer.writeSamples(0, samples(beforeSummaries, rewardsBefore), "eval/completions");
      writer.close();
    }
    trainer.lastEvalMetrics = null;
    const out = await trainer.train({
      resumeFrom: o.resume ? join(o.out, "checkpoint") : undefined,
    });
    // train() evaluated at its last step (unless a resumed run had nothing left to do).
    const after = trainer.lastEvalMetrics ?? await trainer.evaluate();
    const afterSummaries = trainer.lastPredictions;
    log(
      `after ${out.globalStep} steps: ${describe(rougeOf(after))}, eval/loss ${
        after.loss.toFixed(4)
      }`,
    );
    trainer.optimizer.dispose();

    const meanGist = (summaries: string[]) =>
      gists ? summaries.reduce((a, x, i) => a + gistScore(x, gists[i]), 0) / gists.length : NaN;
    const gist = gists
      ? { before: meanGist(beforeSummaries), after: meanGist(afterSummaries) }
      : null;
    if (gist) {
      log(`gist stated: ${gist.before.toFixed(3)} -> ${gist.after.toFixed(3)} (SYNTHETIC posts)`);
    }

    const rewardsAfter = await score(afterSummaries);
    const writer = await RunWriter.open(o.out, { reportTo: o.reportTo });
    try {
      await writer.writeSamples(
        out.globalStep,
        samples(afterSummaries, rewardsAfter),
        "eval/completions",
      );
    } finally {
      writer.close();
    }
    const rows: TableRow[] = shown.map((r, i) => {
      const reference = r.label.trim();
      const column = (text: string, reward: number | null) => ({
        text,
        reward,
        rougeL: computeRouge([text], [reference], { useAggregator: false })[0].rougeL.fmeasure,
        gist: gists ? gistScore(text, gists[i]) : null,
      });
      return {
        post: r.prompt,
        reference,
        summaries: {
          untrained: column(beforeSummaries[i], rewardsBefore[i]),
          SFT: column(afterSummaries[i], rewardsAfter[i]),
        },
      };
    });
    if (scorer) log(`rewards: ${scorer.source}`);
    const table = await writeTable(o.out, rows, log, { before: "untrained", after: "SFT" });
    const modelDir = join(o.out, "model");
    await saveWithTokenizer(model, s.model, modelDir);
    log(`saved the tuned policy and its tokenizer in ${modelDir}`);
    log(`metrics: ${join(o.out, "metrics.jsonl")}; table: ${table}`);
    log(`${NAME} (${preset.name}) finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await writeRunReport(o.out, log);
    return {
      before: rougeOf(before),
      after: rougeOf(after),
      loss: { before: before.loss, after: after.loss },
      gist,
      truncated: train.truncated,
      promptsTruncated: prompts.truncated,
      steps: out.globalStep,
      modelDir,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    scorer?.model.dispose();
    policy.model.dispose();
  }
}

/**
 * Parse and run; resolves to the exit status (errors are printed, never thrown).
 *
 * @param argv Command-line arguments.
 */
export function main(argv: readonly string[]): Promise<number> {
  return CLI.run(argv, async (a) => {
    await runTldrSft({ ...tldrSftOptions(a), argv });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
