/**
 * The tutorials at their real size, offline: fills a Hugging Face cache folder with random-weight
 * copies of every checkpoint the `--preset full` runs name (the real configs, tensor names,
 * stored dtypes and vocabulary sizes; `tools/scale/`) and small parquet files in the real
 * datasets' schemas, checks each tokenizer's special tokens, then runs every example's full
 * preset against that cache with the Hub switched off (`HF_HUB_OFFLINE=1`, `HF_HOME` pointing at
 * it) for one or two steps: flags cut the step and sample counts, everything else (model sizes,
 * batch and minibatch sizes, sequence lengths, generation lengths) stays the tutorial's. Each run
 * is a child process; the table gives its wall time and peak resident memory (the kernel's
 * high-water mark of the child, from `/usr/bin/time`, else `/proc/<pid>/status` VmHWM).
 *
 *   deno run -A tools/scale_smoke.ts [--work DIR] [--only a,b] [--fill-all] [--refill]
 *                                    [--max-rss-gib 18] [--stand-in a,b]
 *
 * Each stage's resident memory is capped (`--max-rss-gib`, default 18): past it the stage is
 * killed and reported, so the kernel's OOM killer never picks another process on a shared
 * machine. When a stage fails, the stages that read its output (a reward model, an SFT policy)
 * run on a stand-in of it: the same architecture and files, untrained (`scale/stand_ins.ts`);
 * `--stand-in a,b` writes those up front to run later stages alone. The table names each
 * stand-in a stage ran on.
 *
 * Exit status 0 only when every present example passed. A row whose script is not in the tree
 * prints "not present" and counts as neither pass nor failure; tiny-only examples say so. Adding
 * an example is one row in `EXAMPLES`. Minutes long at GPT-2 scale on two cores, so it is not part
 * of `deno task test`; its output goes into `bench/RESULTS.md`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { CHECKPOINTS } from "./scale/checkpoints.ts";
import { DATASETS } from "./scale/datasets.ts";
import { writeRepo } from "./scale/hub_cache.ts";
import { countWeights } from "./scale/safetensors_stream.ts";
import { STAND_INS } from "./scale/stand_ins.ts";
import { checkTokenizers } from "./scale/tokenizer_checks.ts";

/** One example of the smoke run. */
export interface SmokeExample {
  /** Script name under `examples/` (without `.ts`). */
  name: string;
  /** Flags after `--preset full` that cut steps and sample counts but keep the shapes. */
  args: string[];
  /** Hub repos (models and datasets) the full preset reads. */
  needs: string[];
  /** Examples whose outputs this one reads (run first; a failure there skips this). */
  after?: string[];
  /** Set when the script has no full preset: it is listed, not run. */
  tinyOnly?: true;
}

const IMDB = "stanfordnlp/imdb";
const HH = "Anthropic/hh-rlhf";
const TLDR = "CarperAI/openai_summarize_tldr";
const TLDR_PAIRS = "CarperAI/openai_summarize_comparisons";
const EMOTIONS = "google-research-datasets/go_emotions";

/** Every tutorial example, in the order their outputs feed each other. */
export const EXAMPLES: readonly SmokeExample[] = [
  {
    name: "imdb_reward_model",
    args: ["--steps", "1", "--eval-pairs", "8"],
    needs: ["distilbert-base-cased", IMDB],
  },
  {
    name: "imdb_best_of_n",
    args: ["--prompts", "2", "--accuracy-pairs", "8"],
    needs: ["lvwerra/gpt2-imdb", IMDB],
    after: ["imdb_reward_model"],
  },
  {
    name: "imdb_ppo",
    args: ["--steps", "1", "--accuracy-pairs", "8", "--held-out-prompts", "2"],
    needs: ["lvwerra/gpt2-imdb", IMDB],
    after: ["imdb_reward_model"],
  },
  { name: "imdb_demo", args: [], needs: [], tinyOnly: true },
  // The hh-rlhf lesson: the reward model first (every hh example's table scores with it), then
  // SFT, whose policy PPO and GRPO start from.
  {
    name: "hh_reward_model",
    // 80 rows leave a full micro-batch of 64 pairs after the 512-token filter. One step of the
    // script is 16 micro-batches (1024 pairs, hours here); the smoke run takes one.
    args: [
      "--max-steps",
      "1",
      "--gradient-accumulation-steps",
      "1",
      "--train-examples",
      "80",
      "--test-examples",
      "8",
    ],
    needs: ["facebook/opt-350m", HH],
  },
  {
    name: "hh_sft",
    args: ["--max-steps", "1", "--train-examples", "64", "--test-examples", "8", "--samples", "2"],
    needs: ["gpt2", HH],
    after: ["hh_reward_model"],
  },
  {
    name: "hh_dpo",
    args: ["--max-steps", "1", "--train-examples", "32", "--test-examples", "8", "--samples", "2"],
    needs: ["gpt2", HH],
    after: ["hh_reward_model"],
  },
  {
    name: "hh_rest",
    args: ["--grow-prompts", "2", "--improve-steps", "1", "--test-examples", "8", "--samples", "2"],
    needs: ["gpt2", HH],
    after: ["hh_reward_model"],
  },
  {
    name: "hh_ppo",
    args: ["--steps", "1", "--test-examples", "8", "--samples", "2"],
    needs: ["gpt2", HH],
    after: ["hh_sft", "hh_reward_model"],
  },
  {
    name: "hh_grpo",
    args: ["--max-steps", "1", "--test-examples", "8", "--samples", "2"],
    needs: ["gpt2", HH],
    after: ["hh_sft", "hh_reward_model"],
  },
  {
    name: "tldr_sft",
    args: [
      "--max-steps",
      "1",
      "--train-examples",
      "32",
      "--eval-examples",
      "4",
      "--table-posts",
      "2",
    ],
    needs: ["gpt2", TLDR],
  },
  {
    name: "tldr_reward_model",
    args: [
      "--max-steps",
      "2",
      "--train-examples",
      "16",
      "--eval-examples",
      "8",
      "--table-posts",
      "2",
    ],
    needs: [TLDR_PAIRS],
    after: ["tldr_sft"],
  },
  // Arriving later (each row runs once its script exists): the TL;DR PPO stage (trlX's
  // total_steps) and the go_emotions tutorial.
  {
    name: "tldr_ppo",
    args: ["--total-steps", "1", "--eval-examples", "4", "--table-posts", "2"],
    needs: [TLDR, TLDR_PAIRS],
    after: ["tldr_sft", "tldr_reward_model"],
  },
  {
    name: "emotions_ppo",
    args: ["--steps", "1"],
    needs: ["google/flan-t5-small", "SamLowe/roberta-base-go_emotions", EMOTIONS],
  },
  { name: "compare_algorithms", args: [], needs: [], tinyOnly: true },
];

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What happened to one row. */
interface Outcome {
  name: string;
  status: "pass" | "FAIL" | "not present" | "tiny only" | "skipped";
  seconds?: number;
  peakMiB?: number;
  detail?: string;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function loadLine(): string {
  const [one, five, fifteen] = Deno.readTextFileSync("/proc/loadavg").split(" ");
  return `load average ${one} / ${five} / ${fifteen} (1 / 5 / 15 min)`;
}

function machineLine(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ??
    "unknown CPU";
  const mem = Number(Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s+(\d+)/)?.[1] ?? 0);
  return `${navigator.hardwareConcurrency} cores (${cpu}), ${(mem / 1048576).toFixed(0)} GiB RAM`;
}

/** Fill the cache with the repos `names` (models and datasets); skipped when already there. */
async function fill(hubDir: string, names: Set<string>, refill: boolean): Promise<void> {
  for (const id of names) {
    const isModel = Object.hasOwn(CHECKPOINTS, id);
    const marker = join(hubDir, ".filled", id.replaceAll("/", "--"));
    if (!refill && exists(marker)) continue;
    const started = performance.now();
    if (isModel) {
      const repo = CHECKPOINTS[id]();
      const { bytes } = await writeRepo(hubDir, { type: "model", id, files: repo.files });
      console.log(
        `filled ${id}: ${repo.describe}, ${(countWeights(repo.tensors) / 1e6).toFixed(1)}M ` +
          `weights, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s`,
      );
    } else {
      const data = DATASETS[id]();
      await writeRepo(hubDir, { type: "dataset", id, files: data.files });
      console.log(
        `filled ${id}: ${Object.entries(data.rows).map(([s, n]) => `${s} ${n}`).join(", ")} rows`,
      );
    }
    await Deno.mkdir(join(hubDir, ".filled"), { recursive: true });
    await Deno.writeTextFile(marker, new Date().toISOString());
  }
}

/** Peak RSS in MiB of a finished `/usr/bin/time -f %M` run, from its output file. */
function timeOutput(path: string): number | undefined {
  try {
    const kib = Number(Deno.readTextFileSync(path).trim().split("\n").pop());
    return Number.isFinite(kib) && kib > 0 ? kib / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A process and its descendants, from `/proc/<pid>/task/<pid>/children`. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = Deno.readTextFileSync(`/proc/${out[i]}/task/${out[i]}/children`);
      out.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
    } catch { /* exited */ }
  }
  return out;
}

/** `VmRSS` / `VmHWM` of a process in KiB (0 once it has exited). */
function memoryKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** One child process of the smoke run: its status, wall time, peak RSS and output. */
interface ChildRun {
  code: number;
  seconds: number;
  peakMiB?: number;
  /** Set when the run was stopped at the RSS cap. */
  capped: boolean;
  text: string;
}

/**
 * Run `deno <argv>` in `work` with the Hub switched off, its output streamed into `log`, its
 * peak RSS measured (`/usr/bin/time`, else the kernel's VmHWM), and the whole process tree
 * killed if its resident memory passes `capMiB`: the machine is shared, and the kernel's OOM
 * killer may otherwise pick someone else's process.
 */
async function runChild(
  argv: string[],
  o: { work: string; hfHome: string; log: string; capMiB: number },
): Promise<ChildRun> {
  const deno = Deno.execPath();
  const useTime = exists("/usr/bin/time");
  const timeFile = `${o.log}.time`;
  const env = { HF_HOME: o.hfHome, HF_HUB_OFFLINE: "1", NO_COLOR: "1" };
  const cmd = useTime
    ? new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", "-o", timeFile, deno, ...argv],
      cwd: o.work,
      env,
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(deno, { args: argv, cwd: o.work, env, stdout: "piped", stderr: "piped" });
  const started = performance.now();
  const child = cmd.spawn();
  let polledKiB = 0;
  let capped = false;
  const poll = setInterval(() => {
    const tree = processTree(child.pid);
    const rss = tree.reduce((sum, pid) => sum + memoryKiB(pid, "VmRSS"), 0);
    polledKiB = Math.max(polledKiB, ...tree.map((pid) => memoryKiB(pid, "VmHWM")));
    if (!capped && rss > o.capMiB * 1024) {
      capped = true;
      for (const pid of tree.reverse()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* exited */ }
      }
    }
  }, 250);
  // Both streams go to the log as they arrive, so a long stage can be followed with `tail -f`.
  const file = await Deno.open(o.log, { write: true, create: true, truncate: true });
  let text = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      await file.write(chunk);
    }
  };
  const [status] = await Promise.all([child.status, drain(child.stdout), drain(child.stderr)]);
  clearInterval(poll);
  file.close();
  const seconds = (performance.now() - started) / 1000;
  const timed = useTime && !capped ? timeOutput(timeFile) : undefined;
  const peakMiB = timed ?? (polledKiB > 0 ? polledKiB / 1024 : undefined);
  return { code: status.code, seconds, peakMiB, capped, text };
}

async function runExample(
  e: SmokeExample,
  o: { work: string; hfHome: string; capMiB: number; standIns: readonly string[] },
): Promise<Outcome> {
  const script = join(ROOT, "examples", `${e.name}.ts`);
  const argv = [
    "run",
    "-A",
    script,
    "--preset",
    "full",
    ...e.args,
    "--backend",
    "cpu",
    "--overwrite",
  ];
  console.log(`\n== ${e.name}: deno ${argv.slice(2).join(" ").replace(ROOT, "")}`);
  const log = join(o.work, "logs", `${e.name}.log`);
  const run = await runChild(argv, { ...o, log });
  console.log(run.text.trimEnd().split("\n").slice(-12).join("\n"));
  const standIn = o.standIns.length > 0 ? `on a stand-in for ${o.standIns.join(", ")}` : "";
  const base = { name: e.name, seconds: run.seconds, peakMiB: run.peakMiB };
  if (run.capped) {
    return {
      ...base,
      status: "FAIL",
      detail: [
        `stopped at the ${(o.capMiB / 1024).toFixed(0)} GiB RSS cap: ${lastLine(run.text)}`,
        standIn,
      ].filter(Boolean).join("; "),
    };
  }
  if (run.code !== 0) {
    const detail = `exit ${run.code}: ${lastLines(run.text, 3)}`;
    return { ...base, status: "FAIL", detail: [detail, standIn].filter(Boolean).join("; ") };
  }
  return { ...base, status: "pass", detail: standIn || undefined };
}

/** The last line of a run's output that is not a stack frame. */
function lastLine(text: string): string {
  return lastLines(text, 1);
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split("\n").filter((l) => l.trim() && !/^\s*at /.test(l));
  return lines.slice(-n).join(" / ").slice(0, 300);
}

/** Write the stand-in for a failed stage's output, so the stages after it still run. */
async function writeStandIn(
  stage: string,
  o: { work: string; hfHome: string; capMiB: number },
): Promise<boolean> {
  if (!Object.hasOwn(STAND_INS, stage)) return false;
  const script = join(ROOT, "tools", "scale", "stand_ins.ts");
  const log = join(o.work, "logs", `${stage}.stand-in.log`);
  const run = await runChild(["run", "-A", script, stage], { ...o, log });
  console.log(`stand-in for ${stage}: ${run.code === 0 ? STAND_INS[stage].describe : "FAILED"}`);
  return run.code === 0;
}

function table(outcomes: readonly Outcome[]): string {
  const rows = outcomes.map((o) =>
    `| ${o.name} | ${o.status} | ${o.seconds === undefined ? "" : o.seconds.toFixed(0)} | ${
      o.peakMiB === undefined ? "" : (o.peakMiB / 1024).toFixed(2)
    } | ${o.detail ?? ""} |`
  );
  return [
    "| stage | result | wall s | peak RSS GiB | note |",
    "| --- | --- | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      work: {
        type: "string",
        default: join(Deno.env.get("TMPDIR") ?? "/tmp", "tether-scale-smoke"),
      },
      only: { type: "string" },
      "fill-all": { type: "boolean", default: false },
      refill: { type: "boolean", default: false },
      "max-rss-gib": { type: "string", default: "18" },
      "stand-in": { type: "string" },
    },
  });
  const capMiB = Number(values["max-rss-gib"]) * 1024;
  if (!(capMiB > 0)) {
    console.error(`bad --max-rss-gib (${values["max-rss-gib"]}): use a number of GiB > 0`);
    Deno.exit(2);
  }
  const work = resolve(values.work!);
  const hfHome = join(work, "hf_home");
  const hubDir = join(hfHome, "hub");
  await Deno.mkdir(join(work, "logs"), { recursive: true });
  const only = values.only ? new Set(values.only.split(",")) : undefined;
  const selected = EXAMPLES.filter((e) => !only || only.has(e.name));
  const present = (e: SmokeExample) => exists(join(ROOT, "examples", `${e.name}.ts`));

  console.log(`scale smoke run: ${machineLine()}; ${loadLine()} at the start`);
  console.log(`work folder ${work}; HF_HOME=${hfHome} HF_HUB_OFFLINE=1`);
  const needed = new Set<string>(
    values["fill-all"]
      ? [...Object.keys(CHECKPOINTS), ...Object.keys(DATASETS)]
      : selected.filter((e) => present(e) && !e.tinyOnly).flatMap((e) => e.needs),
  );
  const fillStarted = performance.now();
  await fill(hubDir, needed, values.refill!);
  console.log(`cache ready in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);

  const outcomes: Outcome[] = [];
  const tokenizers = await checkTokenizers(hubDir, [...needed]);
  for (const t of tokenizers) {
    console.log(`tokenizer ${t.id}: ${t.ok ? "ok" : "WRONG"} (${t.detail})`);
  }
  const badTokenizers = tokenizers.filter((t) => !t.ok);
  outcomes.push({
    name: "tokenizers (special tokens)",
    status: badTokenizers.length === 0 ? "pass" : "FAIL",
    detail: badTokenizers.map((t) => `${t.id}: ${t.detail}`).join("; ") ||
      `${tokenizers.length} checked`,
  });

  const failed = new Set<string>();
  const stoodIn = new Set<string>();
  const ranHere = new Set<string>();
  // Stand-ins asked for up front: run later stages alone, without the stage that trains their input.
  for (const stage of values["stand-in"]?.split(",") ?? []) {
    if (!(await writeStandIn(stage, { work, hfHome, capMiB }))) {
      console.error(`no stand-in written for '${stage}' (see its log)`);
      Deno.exit(1);
    }
    stoodIn.add(stage);
  }
  for (const e of selected) {
    if (!present(e)) {
      outcomes.push({ name: e.name, status: "not present", detail: "no script on this branch" });
      continue;
    }
    if (e.tinyOnly) {
      outcomes.push({ name: e.name, status: "tiny only", detail: "no full preset" });
      continue;
    }
    // A failed stage's output is written untrained, so the stages after it still run.
    const blocked = [];
    for (const d of (e.after ?? []).filter((d) => failed.has(d))) {
      if (!stoodIn.has(d) && await writeStandIn(d, { work, hfHome, capMiB })) stoodIn.add(d);
      if (!stoodIn.has(d)) blocked.push(d);
    }
    if (blocked.length > 0) {
      failed.add(e.name);
      outcomes.push({ name: e.name, status: "skipped", detail: `needs ${blocked.join(", ")}` });
      continue;
    }
    const standIns = (e.after ?? []).filter((d) => stoodIn.has(d) && !ranHere.has(d));
    const o = await runExample(e, { work, hfHome, capMiB, standIns });
    if (o.status === "pass") ranHere.add(e.name);
    if (o.status !== "pass") failed.add(e.name);
    outcomes.push(o);
  }

  console.log(`\n${table(outcomes)}\n`);
  console.log(`${loadLine()} at the end`);
  const bad = outcomes.filter((o) => o.status === "FAIL" || o.status === "skipped");
  const ran = outcomes.filter((o) => o.status === "pass").length;
  console.log(
    bad.length === 0
      ? `scale smoke run passed: ${ran} stages`
      : `scale smoke run FAILED: ${bad.map((o) => o.name).join(", ")}`,
  );
  Deno.exit(bad.length === 0 ? 0 : 1);
}
