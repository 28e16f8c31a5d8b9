/**
 * A SmolLM2-135M-shaped Llama (hidden 576, 30 layers, 9 query / 3 key-value heads, MLP 1536,
 * vocab 49152, tied head, rope_theta 100000; random weights) side by side with PyTorch: one
 * forward pass over a batch without gradients, and greedy generation with the KV cache, in
 * tokens per second, with each process's peak RSS. Both sides load the same random-weight
 * checkpoint (written once, F32 safetensors) tensor by tensor, and must generate the same
 * tokens.
 *
 *   deno run -A bench/llama_generation.ts [--forward-batch 1] [--tokens 128] [--gen-batch 1]
 *     [--prompt 16] [--new 32] [--iters 3] [--rounds 1] [--torch-threads 2,1]
 *     [--python /usr/bin/python3]
 *
 * Each round runs ours, then PyTorch once per thread count, each in a fresh process (so each
 * peak RSS is its own); ratios are against every PyTorch run. PyTorch is the plain-PyTorch
 * Llama of tools/torch_causal.py (tools/bench_torch_llama.py), float32, 2 threads as the other
 * benches, and 1 thread too: on a loaded machine OpenBLAS's two threads can fall far behind one.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

/** SmolLM2-135M's config.json (the Hub's values). */
export const SMOLLM2_135M = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  tie_word_embeddings: true,
  bos_token_id: 0,
  eos_token_id: 0,
};

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    "forward-batch": { type: "string", default: "1" },
    tokens: { type: "string", default: "128" },
    "gen-batch": { type: "string", default: "1" },
    prompt: { type: "string", default: "16" },
    new: { type: "string", default: "32" },
    iters: { type: "string", default: "3" },
    rounds: { type: "string", default: "1" },
    "torch-threads": { type: "string", default: "2,1" },
    python: { type: "string", default: "/usr/bin/python3" },
    child: { type: "string" },
  },
});
const n = (k: keyof typeof args) => Number(args[k]);

interface Result {
  impl: string;
  load_s: number;
  forward_tokens_per_s: number;
  generate_tokens_per_s: number;
  tokens: number[][];
  peak_rss_mb: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function child(dir: string): Promise<void> {
  const { tidy, noGrad, tensor } = await import("../core/mod.ts");
  const { loadCausalLM } = await import("../models/causal_lm.ts");
  const t0 = performance.now();
  const model = await loadCausalLM(dir, { backend: "cpu", log: () => {} });
  const loadS = (performance.now() - t0) / 1000;
  const vocab = SMOLLM2_135M.vocab_size;
  const [fb, t] = [n("forward-batch"), n("tokens")];
  const ids = Array.from(
    { length: fb },
    (_, r) => Array.from({ length: t }, (_, i) => (i * 7919 + r * 104729) % vocab),
  );
  const times: number[] = [];
  for (let i = 0; i <= n("iters"); i++) {
    const start = performance.now();
    noGrad(() => tidy(() => void model.forward({ inputIds: tensor(ids) }).logits.toArraySync()));
    if (i > 0) times.push((performance.now() - start) / 1000);
  }
  const [gb, p, k] = [n("gen-batch"), n("prompt"), n("new")];
  const prompts = Array.from(
    { length: gb },
    (_, r) => Array.from({ length: p }, (_, i) => (i * 31 + r * 17) % vocab),
  );
  const genTimes: number[] = [];
  let tokens: number[][] | null = null;
  for (let i = 0; i <= n("iters"); i++) {
    const start = performance.now();
    const out = await model.generate(prompts, { maxNewTokens: k, eosTokenId: null });
    if (i > 0) genTimes.push((performance.now() - start) / 1000);
    tokens ??= out.tokens;
  }
  const status = Deno.readTextFileSync("/proc/self/status");
  const hwm = Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) / 1024;
  const result: Result = {
    impl: `Tether cpu backend, Deno ${Deno.version.deno}`,
    load_s: loadS,
    forward_tokens_per_s: (fb * t) / median(times),
    generate_tokens_per_s: (gb * k) / median(genTimes),
    tokens: tokens!,
    peak_rss_mb: hwm,
  };
  console.log(JSON.stringify(result));
}

async function run(cmd: string, cmdArgs: string[]): Promise<Result> {
  const out = await new Deno.Command(cmd, { args: cmdArgs, stdout: "piped", stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${cmd} ${cmdArgs.join(" ")} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const { writeRandomCheckpoint, llamaSpec } = await import("../tools/measure_load_memory.ts");
    await writeRandomCheckpoint(dir, llamaSpec(SMOLLM2_135M, "F32"));
    const common = [
      "--forward-batch",
      args["forward-batch"]!,
      "--tokens",
      args.tokens!,
      "--gen-batch",
      args["gen-batch"]!,
      "--prompt",
      args.prompt!,
      "--new",
      args.new!,
      "--iters",
      args.iters!,
    ];
    const script = fileURLToPath(import.meta.url);
    const torchScript = fileURLToPath(new URL("../tools/bench_torch_llama.py", import.meta.url));
    const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
    console.log(`SmolLM2-135M-shaped Llama, random weights; load average at start ${load}`);
    console.log(
      `forward: ${args["forward-batch"]} × ${args.tokens} tokens; generate: ${args["gen-batch"]} ` +
        `× (${args.prompt} prompt + ${args.new} new), greedy, KV cache; median of ${args.iters} ` +
        `timed iterations after one warm-up`,
    );
    console.log(
      "| round | impl | forward tok/s | generate tok/s | peak RSS MiB | load s |\n" +
        "| ----- | ---- | ------------- | -------------- | ------------ | ------ |",
    );
    const row = (round: number, r: Result) =>
      console.log(
        `| ${round} | ${r.impl} | ${r.forward_tokens_per_s.toFixed(1)} | ` +
          `${r.generate_tokens_per_s.toFixed(2)} | ${r.peak_rss_mb.toFixed(0)} | ` +
          `${r.load_s.toFixed(1)} |`,
      );
    const threads = args["torch-threads"]!.split(",").map(Number);
    for (let round = 1; round <= n("rounds"); round++) {
      const ours = await run(Deno.execPath(), ["run", "-A", script, "--child", dir, ...common]);
      row(round, ours);
      for (const t of threads) {
        const torch = await run(args.python!, [torchScript, dir, ...common, "--threads", `${t}`]);
        row(round, torch);
        console.log(
          `| ${round} | ours ÷ PyTorch (${t} thread${t > 1 ? "s" : ""}) | ${
            (ours.forward_tokens_per_s / torch.forward_tokens_per_s).toFixed(2)
          }× | ${(ours.generate_tokens_per_s / torch.generate_tokens_per_s).toFixed(2)}× | ${
            (ours.peak_rss_mb / torch.peak_rss_mb).toFixed(2)
          }× | |`,
        );
        if (JSON.stringify(ours.tokens) !== JSON.stringify(torch.tokens)) {
          console.log(
            `  note: generated tokens differ (ours ${JSON.stringify(ours.tokens[0].slice(0, 8))}` +
              `, PyTorch ${JSON.stringify(torch.tokens[0].slice(0, 8))})`,
          );
        }
      }
    }
    const after = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
    console.log(`load average at the end ${after}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (args.child) await child(args.child);
  else await main();
}
