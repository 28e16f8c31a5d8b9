/**
 * A flan-t5-small-shaped T5 (random weights: d_model 512, d_kv 64, 6 heads, d_ff 1024, 8+8
 * blocks, vocab 32128, gated-gelu, untied head) on Tether's CPU backend beside the same model in
 * plain PyTorch (tools/bench_torch_t5.py, 2 threads), each in its own process so each peak RSS
 * is its own:
 * - forward: encoder over B × S tokens, then the teacher-forced decoder over B × T tokens;
 *   tokens/s = B · (S + T) / seconds;
 * - generation: encoder once, then T' greedy decoder steps with the self-attention KV cache and
 *   cross-attention keys/values computed once; tokens/s = B · T' / seconds (encoder included).
 *
 *   deno run -A bench/t5_vs_torch.ts [--batch 4 --src 64 --tgt 32 --new 32 --iters 3]
 *                                    [--torch-threads 2]
 *
 * Prints both sides' JSON lines, then a table with the ratios (Tether / PyTorch throughput).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Generator, noGrad, tensor, tidy } from "../core/mod.ts";
import { T5ForConditionalGeneration } from "../models/t5/model.ts";

const { values: args } = parseArgs({
  options: {
    side: { type: "string" },
    batch: { type: "string", default: "4" },
    src: { type: "string", default: "64" },
    tgt: { type: "string", default: "32" },
    new: { type: "string", default: "32" },
    iters: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    python: { type: "string", default: "/usr/bin/python3" },
    "torch-threads": { type: "string", default: "2" },
  },
});
const shape = {
  batch: Number(args.batch),
  src: Number(args.src),
  tgt: Number(args.tgt),
  new: Number(args.new),
  iters: Number(args.iters),
  warmup: Number(args.warmup),
};

/** flan-t5-small's shape. */
const CONFIG = {
  vocab_size: 32128,
  d_model: 512,
  d_kv: 64,
  num_heads: 6,
  d_ff: 1024,
  num_layers: 8,
  num_decoder_layers: 8,
  feed_forward_proj: "gated-gelu",
  tie_word_embeddings: false,
  decoder_start_token_id: 0,
};

async function timed(fn: () => Promise<void> | void): Promise<{ median: number; best: number }> {
  for (let i = 0; i < shape.warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < shape.iters; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], best: times[0] };
}

/** VmHWM (peak resident set) of this process, in MB. */
function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function tetherSide(): Promise<Record<string, unknown>> {
  const g = new Generator(0);
  const model = new T5ForConditionalGeneration(CONFIG, { backend: "cpu", generator: g }).eval();
  const { batch: b, src: s, tgt: t } = shape;
  const draw = (n: number) => Array.from({ length: n }, () => 2 + g.int(CONFIG.vocab_size - 2));
  const src = Array.from({ length: b }, () => draw(s));
  const tgt = Array.from({ length: b }, () => [0, ...draw(t - 1)]);
  const srcT = tensor(src), tgtT = tensor(tgt);
  const forward = await timed(() =>
    noGrad(() => tidy(() => void model.forward({ inputIds: srcT, decoderInputIds: tgtT })))
  );
  const generate = await timed(async () => {
    await model.generate(src, { maxNewTokens: shape.new, eosTokenId: null });
  });
  return {
    side: "tether",
    version: `Deno ${Deno.version.deno}, cpu backend`,
    params: model.numParameters(),
    forward_s: forward,
    forward_tokens_per_s: (b * (s + t)) / forward.median,
    generate_s: generate,
    generate_tokens_per_s: (b * shape.new) / generate.median,
    peak_rss_mb: peakRssMb(),
  };
}

async function run(cmd: string, argv: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(cmd, { args: argv, stderr: "inherit" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`${cmd} ${argv.join(" ")} failed: ${text}`);
  const line = text.split("\n").at(-1)!;
  console.log(line);
  return JSON.parse(line);
}

if (args.side === "tether") {
  console.log(JSON.stringify(await tetherSide()));
} else {
  const common = ["--batch", "--src", "--tgt", "--new", "--iters", "--warmup"].flatMap((k) => [
    k,
    String(shape[k.slice(2) as keyof typeof shape]),
  ]);
  const self = new URL(import.meta.url).pathname;
  const ours = await run(Deno.execPath(), ["run", "-A", self, "--side", "tether", ...common]);
  const theirs = await run(args.python!, [
    new URL("../tools/bench_torch_t5.py", import.meta.url).pathname,
    ...common,
    "--threads",
    args["torch-threads"]!,
  ]);
  const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" / ");
  const fmt = (x: unknown) => Number(x).toFixed(1);
  const row = (what: string, key: string) =>
    `| ${what} | ${fmt(ours[key])} | ${fmt(theirs[key])} | ${
      (Number(ours[key]) / Number(theirs[key])).toFixed(2)
    } |`;
  console.log(
    [
      "",
      `T5 ${CONFIG.d_model}/${CONFIG.d_ff}, ${CONFIG.num_layers}+${CONFIG.num_decoder_layers} ` +
      `blocks, vocab ${CONFIG.vocab_size} (${ours.params} parameters); batch ${shape.batch}, ` +
      `encoder ${shape.src}, decoder ${shape.tgt}, ${shape.new} new tokens; median of ` +
      `${shape.iters} after ${shape.warmup} warm-up; PyTorch threads ${theirs.threads}; ` +
      `load average (1/5/15 min) ${load}`,
      "",
      "| measure | Tether | PyTorch | Tether / PyTorch |",
      "| --- | --- | --- | --- |",
      row("forward tokens/s", "forward_tokens_per_s"),
      row("KV-cached greedy generation tokens/s", "generate_tokens_per_s"),
      row("peak RSS (MB)", "peak_rss_mb"),
    ].join("\n"),
  );
}
