/**
 * GPT-2-scale bench: Tether against PyTorch 1.13 eager on the four workloads of a real IMDB PPO
 * run (bench/gpt2_scale_workloads.ts and tools/bench_gpt2_scale_torch.py build the same models
 * with random weights). Every measurement runs in its own process, so each side's peak RSS is
 * its own; the sides take turns (Tether, PyTorch 2 threads, PyTorch 1 thread, rotating the order
 * each round), so a change in the machine's load hits all of them.
 *
 *   deno run -A bench/gpt2_scale.ts                      # every workload, 3 rounds
 *   deno run -A bench/gpt2_scale.ts --workloads distilbert,forward --rounds 5
 *
 * Prints, per workload, the median time of each side, tokens/s, the ratio of Tether's speed to
 * the better PyTorch setting (> 1: Tether is faster), peak RSS per side (during the workload:
 * each side restarts the kernel's peak counter after building its model), and the machine's load
 * average during the runs, and the CPU seconds each side used (user + system, all threads: on a
 * loaded machine a steadier measure of work than wall time, though spinning thread pools inflate
 * it); `--json FILE` also writes every raw measurement. Needs Debian's
 * Python with torch (`--python` to point elsewhere).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const WORKLOADS = ["generate", "forward", "lora_step", "distilbert"] as const;
const SIDES = ["tether", "torch-2t", "torch-1t"] as const;
type Side = (typeof SIDES)[number];

const LABELS: Record<string, string> = {
  generate: "sampled generation, 64 rows × 64 new tokens",
  forward: "no-grad forward + log-probs, 64 × 136 tokens",
  lora_step: "LoRA r=32 minibatch 16 × 136: forward + backward + Adam",
  distilbert: "DistilBERT-base classifier forward, 64 × 160",
};

/**
 * Multiply-adds ×2 of one run of each workload, counted from the shapes (matmuls only):
 * GPT-2 124M has 85.0M weights in its blocks and a 38.6M-weight LM head.
 */
function workloadFlops(name: string): number {
  const d = 768, v = 50257, layers = 12;
  const blockW = layers * 12 * d * d; // c_attn 3d², c_proj d², c_fc 4d², mlp c_proj 4d²
  const attn = (t: number, tk: number) => layers * 2 * 2 * t * tk * d; // q·kᵀ and p·v
  if (name === "lora_step") {
    // Forward, then backward through every matmul for the input gradient only (frozen weights):
    // about 2× the forward; LoRA's own products are < 1% and left out.
    const rows = 16 * 136;
    const fwd = 2 * rows * (blockW + v * d) + 16 * attn(136, 136) / 2;
    return 2 * fwd;
  }
  if (name === "forward") return 2 * 64 * 136 * (blockW + v * d) + 64 * attn(136, 136) / 2;
  if (name === "distilbert") {
    const rows = 64 * 160, bl = 6 * 12 * d * d;
    return 2 * rows * bl + 64 * (6 * 2 * 2 * 160 * 160 * d) / 2;
  }
  return NaN;
}

interface Measurement {
  side: Side;
  workload: string;
  times_s?: number[];
  cpu_s?: number[];
  tokens?: number;
  peak_rss_bytes: number;
  load: number[];
  matmul?: { m: number; k: number; n: number; gflops: number }[];
}

const { values } = parseArgs({
  options: {
    workloads: { type: "string", default: WORKLOADS.join(",") },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    iters: { type: "string", default: "1" },
    python: { type: "string", default: "/usr/bin/python3" },
    sides: { type: "string", default: SIDES.join(",") },
    json: { type: "string" },
    "no-matmul": { type: "boolean", default: false },
  },
});

const workloads = values.workloads.split(",");
for (const w of workloads) {
  if (!(WORKLOADS as readonly string[]).includes(w)) {
    throw new Error(`--workloads: unknown '${w}'; choose from ${WORKLOADS.join(", ")}`);
  }
}
const sides = values.sides.split(",") as Side[];
for (const s of sides) {
  if (!(SIDES as readonly string[]).includes(s)) {
    throw new Error(`--sides: unknown '${s}'; choose from ${SIDES.join(", ")}`);
  }
}
const rounds = Number(values.rounds);
const worker = fileURLToPath(new URL("./gpt2_scale_workloads.ts", import.meta.url));
const torchScript = fileURLToPath(
  new URL("../tools/bench_gpt2_scale_torch.py", import.meta.url),
);

async function measure(side: Side, workload: string): Promise<Measurement> {
  const common = ["--workload", workload, "--warmup", values.warmup, "--iters", values.iters];
  const cmd = side === "tether"
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", worker, ...common],
    })
    : new Deno.Command(values.python, {
      args: [torchScript, ...common, "--threads", side === "torch-2t" ? "2" : "1"],
    });
  const out = await cmd.output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    throw new Error(
      `${side} ${workload} failed (exit ${out.code}):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const m = JSON.parse(text) as Measurement;
  m.side = side;
  return m;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

const all: Measurement[] = [];
const t0 = performance.now();
if (!values["no-matmul"]) {
  for (const side of sides.filter((s) => s !== "torch-1t")) {
    all.push(await measure(side, "matmul"));
  }
}
for (let r = 0; r < rounds; r++) {
  for (const w of workloads) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]);
    for (const side of order) {
      const m = await measure(side, w);
      all.push(m);
      console.error(
        `round ${r + 1}/${rounds} ${w} ${side}: ${
          m.times_s!.map((t) => t.toFixed(2)).join(", ")
        } s ` +
          `(CPU ${m.cpu_s!.map((t) => t.toFixed(2)).join(", ")} s), ` +
          `peak RSS ${gb(m.peak_rss_bytes)}, load ${m.load.join("→")}`,
      );
    }
  }
}
const wallMin = (performance.now() - t0) / 60e3;

const loads = all.flatMap((m) => m.load);
console.log(
  `\nGPT-2-scale bench, ${new Date().toISOString()}, ${rounds} round(s) of ${values.iters} ` +
    `timed run(s) after ${values.warmup} warm-up; ${wallMin.toFixed(1)} min in all`,
);
console.log(
  `load average (1 min) during the runs: ${Math.min(...loads).toFixed(1)}–` +
    `${Math.max(...loads).toFixed(1)} on ${navigator.hardwareConcurrency} cores\n`,
);

let bestRate = 0;
const matmuls = all.filter((m) => m.matmul);
for (const m of matmuls) {
  const best = m.matmul!.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  bestRate = Math.max(bestRate, best.gflops);
  console.log(
    `best matmul rate, ${m.side}: ${
      best.gflops.toFixed(0)
    } GFLOP/s (${best.m}×${best.k}×${best.n}); ` +
      m.matmul!.map((x) => `${x.m}×${x.k}×${x.n} ${x.gflops.toFixed(0)}`).join(", "),
  );
}

console.log(
  "\n| workload | Tether | PyTorch 2 threads / 1 thread | speed vs better PyTorch | " +
    "peak RSS Tether / PyTorch 2t / 1t | Tether GFLOP/s (share of best matmul) | " +
    "CPU s Tether / 2t / 1t |",
);
console.log("|---|---|---|---|---|---|---|");
for (const w of workloads) {
  const of = (side: Side) => all.filter((m) => m.workload === w && m.side === side);
  const time = (side: Side) => {
    const ms = of(side);
    return ms.length ? median(ms.flatMap((m) => m.times_s!)) : NaN;
  };
  const rss = (side: Side) => {
    const ms = of(side);
    return ms.length ? Math.max(...ms.map((m) => m.peak_rss_bytes)) : NaN;
  };
  const cpu = (side: Side) => {
    const ms = of(side);
    return ms.length ? median(ms.flatMap((m) => m.cpu_s!)).toFixed(1) : "—";
  };
  const tokens = of(sides[0])[0]?.tokens ?? NaN;
  const fmt = (s: number) =>
    w === "lora_step" || w === "distilbert"
      ? `${s.toFixed(2)} s`
      : `${(tokens / s).toFixed(0)} tok/s (${s.toFixed(2)} s)`;
  const tt = time("tether"), t2 = time("torch-2t"), t1 = time("torch-1t");
  const better = Math.min(...[t2, t1].filter((x) => !Number.isNaN(x)));
  const flops = workloadFlops(w);
  const rate = flops / tt / 1e9;
  console.log(
    `| ${LABELS[w]} | ${fmt(tt)} | ${fmt(t2)} / ${fmt(t1)} | ${(better / tt).toFixed(2)}× | ` +
      `${gb(rss("tether"))} / ${gb(rss("torch-2t"))} / ${gb(rss("torch-1t"))} | ` +
      (Number.isNaN(rate)
        ? "— |"
        : `${rate.toFixed(0)} (${bestRate ? ((100 * rate) / bestRate).toFixed(0) : "?"}%) |`) +
      ` ${cpu("tether")} / ${cpu("torch-2t")} / ${cpu("torch-1t")} |`,
  );
}
if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(all, null, 1));
