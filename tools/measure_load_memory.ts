/**
 * Peak resident memory of loading a checkpoint with `loadCausalLM`, against the size of the
 * weights it holds. Writes a random-weight checkpoint in the layout the Hub ships (GPT-2 124M:
 * F32 `model.safetensors` with the original repo's bare names; Qwen2.5-0.5B: BF16
 * `model.safetensors`, tied head), then loads it in a fresh process and reads the kernel's
 * high-water mark (`VmHWM`). A second fresh process loads the same files the way a loader that
 * holds the whole checkpoint in memory would (every tensor read to the host, then copied in),
 * for comparison.
 *
 *   deno run -A tools/measure_load_memory.ts [--model gpt2|qwen2.5-0.5b|all] [--keep DIR]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const MB = 1024 * 1024;

/** A checkpoint to write: its config, stored dtype and tensors in file order. */
export interface Spec {
  config: Record<string, unknown>;
  dtype: "F32" | "BF16";
  tensors: [string, number[]][];
}

function gpt2Spec(): Spec {
  const [v, d, n, t] = [50257, 768, 12, 1024];
  const tensors: [string, number[]][] = [["wte.weight", [v, d]], ["wpe.weight", [t, d]]];
  for (let i = 0; i < n; i++) {
    const p = `h.${i}.`;
    tensors.push(
      [`${p}ln_1.weight`, [d]],
      [`${p}ln_1.bias`, [d]],
      [`${p}attn.c_attn.weight`, [d, 3 * d]],
      [`${p}attn.c_attn.bias`, [3 * d]],
      [`${p}attn.c_proj.weight`, [d, d]],
      [`${p}attn.c_proj.bias`, [d]],
      [`${p}ln_2.weight`, [d]],
      [`${p}ln_2.bias`, [d]],
      [`${p}mlp.c_fc.weight`, [d, 4 * d]],
      [`${p}mlp.c_fc.bias`, [4 * d]],
      [`${p}mlp.c_proj.weight`, [4 * d, d]],
      [`${p}mlp.c_proj.bias`, [d]],
    );
  }
  tensors.push(["ln_f.weight", [d]], ["ln_f.bias", [d]]);
  return { config: { model_type: "gpt2" }, dtype: "F32", tensors };
}

/** Qwen2.5-0.5B's config.json (the Hub's values; weights random). */
export const QWEN25_05B = {
  model_type: "qwen2",
  architectures: ["Qwen2ForCausalLM"],
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  bos_token_id: 151643,
  eos_token_id: 151643,
};

/**
 * The tensors of a Llama-family checkpoint for `config` (transformers' names; no `lm_head`
 * when tied; Qwen2's q/k/v biases).
 */
export function llamaSpec(
  config: Record<string, number | string | boolean | string[]>,
  dtype: "F32" | "BF16",
): Spec {
  const c = config as Record<string, number>;
  const d = c.hidden_size, f = c.intermediate_size;
  const hd = c.head_dim ?? d / c.num_attention_heads;
  const q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  const bias = config.model_type === "qwen2";
  const tensors: [string, number[]][] = [["model.embed_tokens.weight", [c.vocab_size, d]]];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    tensors.push([`${p}input_layernorm.weight`, [d]], [`${p}self_attn.q_proj.weight`, [q, d]]);
    if (bias) tensors.push([`${p}self_attn.q_proj.bias`, [q]]);
    tensors.push([`${p}self_attn.k_proj.weight`, [kv, d]]);
    if (bias) tensors.push([`${p}self_attn.k_proj.bias`, [kv]]);
    tensors.push([`${p}self_attn.v_proj.weight`, [kv, d]]);
    if (bias) tensors.push([`${p}self_attn.v_proj.bias`, [kv]]);
    tensors.push(
      [`${p}self_attn.o_proj.weight`, [d, q]],
      [`${p}post_attention_layernorm.weight`, [d]],
      [`${p}mlp.gate_proj.weight`, [f, d]],
      [`${p}mlp.up_proj.weight`, [f, d]],
      [`${p}mlp.down_proj.weight`, [d, f]],
    );
  }
  tensors.push(["model.norm.weight", [d]]);
  if (!config.tie_word_embeddings) tensors.push(["lm_head.weight", [c.vocab_size, d]]);
  return { config, dtype, tensors };
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Writes `config.json` and a `model.safetensors` of small random values into `dir`, tensor by
 * tensor (never the whole file in memory). Returns the file's size.
 */
export async function writeRandomCheckpoint(dir: string, spec: Spec): Promise<number> {
  const bytes = spec.dtype === "F32" ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, shape] of spec.tensors) {
    const size = numel(shape) * bytes;
    header[name] = { dtype: spec.dtype, shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  using file = await Deno.open(join(dir, "model.safetensors"), { write: true, create: true });
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  await file.write(length);
  await file.write(json);
  let seed = 12345;
  const chunk = new Float32Array(1 << 20);
  for (const [, shape] of spec.tensors) {
    let left = numel(shape);
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        chunk[i] = ((seed >>> 8) / (1 << 24) - 0.5) * 0.04;
      }
      const out = spec.dtype === "F32" ? new Uint8Array(chunk.buffer, 0, n * 4) : new Uint8Array(
        new Uint16Array(new Uint32Array(chunk.buffer, 0, n).map((b) => b >>> 16)).buffer,
      );
      for (let at = 0; at < out.length;) at += await file.write(out.subarray(at));
      left -= n;
    }
  }
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(spec.config, null, 2));
  return 8 + json.length + offset;
}

function status(): { rss: number; hwm: number } {
  const text = Deno.readTextFileSync("/proc/self/status");
  const kb = (key: string) => Number(text.match(new RegExp(`${key}:\\s+(\\d+) kB`))![1]) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

async function child(dir: string, mode: string): Promise<void> {
  const models = await import("../models/mod.ts");
  const before = status();
  const started = performance.now();
  let params = 0;
  if (mode === "stream") {
    const model = await models.loadCausalLM(dir, { backend: "cpu", log: () => {} });
    params = model.numParameters();
  } else {
    // What a loader that reads the whole checkpoint to the host first holds at its peak.
    const files = await models.openModel(dir);
    const state = await models.loadStateDict(files);
    const raw = await models.loadConfig(files);
    const row = models.causalArchitecture(raw);
    const model = row.create(row.parseConfig(raw), { backend: "cpu", initWeights: false });
    await models.loadWeights(model, models.stateDictReader(state), {
      mapKey: row.checkpointKey,
    });
    params = model.numParameters();
    state.clear();
  }
  const seconds = (performance.now() - started) / 1000;
  const after = status();
  console.log(JSON.stringify({ before, after, params, seconds }));
}

async function measure(name: string, spec: Spec, keep?: string): Promise<void> {
  const dir = keep ? join(keep, name) : await Deno.makeTempDir();
  await Deno.mkdir(dir, { recursive: true });
  try {
    const fileBytes = await writeRandomCheckpoint(dir, spec);
    const script = fileURLToPath(import.meta.url);
    for (const mode of ["stream", "whole"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, "--child", dir, "--mode", mode],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`${name} (${mode}): the child process failed`);
      const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
      const weights = r.params * 4;
      console.log(
        `${name} ${
          mode === "stream" ? "loadCausalLM (streamed)" : "whole checkpoint in memory"
        }: ` +
          `${r.params.toLocaleString()} parameters = ${(weights / MB).toFixed(0)} MiB of f32 ` +
          `weights; file ${(fileBytes / MB).toFixed(0)} MiB ${spec.dtype}; RSS before load ` +
          `${(r.before.rss / MB).toFixed(0)} MiB; peak RSS ${(r.after.hwm / MB).toFixed(0)} MiB ` +
          `(peak − before = ${((r.after.hwm - r.before.rss) / MB).toFixed(0)} MiB, ` +
          `${((r.after.hwm - r.before.rss) / weights).toFixed(2)}× the weights); ` +
          `${r.seconds.toFixed(1)} s`,
      );
    }
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "all" },
      keep: { type: "string" },
      child: { type: "string" },
      mode: { type: "string", default: "stream" },
    },
  });
  if (values.child) {
    await child(values.child, values.mode!);
  } else {
    if (values.model === "gpt2" || values.model === "all") {
      await measure("gpt2-124M", gpt2Spec(), values.keep);
    }
    if (values.model === "qwen2.5-0.5b" || values.model === "all") {
      await measure("qwen2.5-0.5B-shaped", llamaSpec(QWEN25_05B, "BF16"), values.keep);
    }
  }
}
