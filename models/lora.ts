/**
 * LoRA adapters (Hu et al. 2021) in PEFT's layout: each targeted affine layer (`Linear`, or
 * GPT-2's `Conv1D`) gains `lora_A` [r, in] and `lora_B` [out, r] and computes
 * `base(x) + (alpha / r) · B A dropout(x)`. A starts kaiming-uniform (as torch's Linear), B at
 * zero, so a fresh adapter leaves the model unchanged. Only adapter weights train; the frozen
 * base doubles as PPO's reference model through `withAdaptersDisabled`. Adapters save and load
 * as PEFT's `adapter_config.json` + `adapter_model.safetensors`.
 *
 * @module
 */

import { join } from "node:path";
import { add, matmul, mul, noGrad, sub, type Tensor, tensor } from "../core/mod.ts";
import { assign, Conv1D, Dropout, Linear, type Module } from "../core/nn/mod.ts";
import type { Generator } from "../core/random.ts";
import { fmtShape } from "../core/shape.ts";
import { pathExists, siblingTempPath, writeFileAtomic } from "./io/atomic.ts";
import type { HostArray } from "./io/host.ts";
import { encodeSafetensors, readSafetensors } from "./io/safetensors.ts";
import { CAUSAL_LM_ARCHITECTURES } from "./causal_lm.ts";
import { SEQ2SEQ_LM_ARCHITECTURES } from "./seq2seq_lm.ts";

/** What to adapt and how (PEFT's `LoraConfig` fields, camelCased). */
export interface LoraConfig {
  /** Rank of the update. */
  r: number;
  /** Scale numerator: the update is multiplied by alpha / r (default: r, a scale of 1). */
  alpha?: number;
  /** Dropout on the adapter's input, training only (default 0). */
  dropout?: number;
  /**
   * Modules to adapt: names matched against each module's dotted path, a name matching when it
   * equals the path or its last components (`c_attn` matches `transformer.h.0.attn.c_attn`);
   * or one string, a regular expression the whole path must match (as PEFT). Default: PEFT's
   * targets for the model's `modelType` (`c_attn` for GPT-2; `q_proj`, `v_proj` for Llama,
   * Qwen2, Mistral and OPT).
   */
  targetModules?: string[] | string;
  /** Scale by alpha / √r instead (rsLoRA; default false). */
  useRslora?: boolean;
}

/** Options of `applyLora`. */
export interface ApplyLoraOptions {
  /** Generator of the initial A matrices and of the dropout masks. */
  generator?: Generator;
  /**
   * Parameter-name prefixes that stay trainable beside the adapters (default `["v_head."]`:
   * a value head is not part of the base model, and TRL trains it with the adapters).
   */
  alsoTrain?: string[];
}

interface Adapted {
  path: string;
  layer: Linear | Conv1D;
  a: Linear;
  b: Linear;
}

/** The adapters applied to one model; returned by `applyLora` and `loadLora`. */
export class LoraAdapters {
  /** The adapted layers by dotted module path, in model order. */
  readonly #layers: Adapted[];
  #enabled = true;
  #merged = false;
  /** alpha / r (or alpha / √r with rsLoRA). */
  readonly scale: number;

  /** Use `applyLora`; this wires already-registered adapters. */
  constructor(
    readonly model: Module,
    readonly config: Required<LoraConfig>,
    layers: Adapted[],
  ) {
    this.#layers = layers;
    this.scale = config.useRslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
  }

  /** Dotted paths of the adapted modules. */
  get targets(): string[] {
    return this.#layers.map((l) => l.path);
  }

  /** Whether adapters currently contribute to forward passes. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Whether the updates are folded into the base weights. */
  get merged(): boolean {
    return this.#merged;
  }

  /** The adapter weights `[path.lora_A.weight, A]`, `[path.lora_B.weight, B]`, in model order. */
  namedParameters(): [string, Tensor][] {
    return this.#layers.flatMap((l) =>
      [
        [`${l.path}.lora_A.weight`, l.a.weight],
        [`${l.path}.lora_B.weight`, l.b.weight],
      ] as [string, Tensor][]
    );
  }

  /** The adapter weights (what an optimizer should update). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Whether the adapters add their update in forward passes (enabled and not merged). */
  active(): boolean {
    return this.#enabled && !this.#merged;
  }

  /**
   * Runs `fn` with every adapter off, so the model computes the frozen base (PPO's reference)
   * without a second copy of the weights; adapters come back on afterwards, also when `fn`
   * throws or its promise rejects. Not available while merged (the base weights hold the
   * update then): `unmerge()` first.
   */
  withAdaptersDisabled<T>(fn: () => T): T {
    if (this.#merged) {
      throw new Error(
        "withAdaptersDisabled: the adapters are merged into the base weights; call unmerge() first",
      );
    }
    const before = this.#enabled;
    this.#enabled = false;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#enabled = before;
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.#enabled = before;
      }) as T;
    }
    this.#enabled = before;
    return result;
  }

  /** Folds scale · B A into each base weight (faster inference; exact up to f32 rounding). */
  merge(): void {
    if (this.#merged) throw new Error("LoRA merge: the adapters are already merged");
    this.#fold(add);
    this.#merged = true;
  }

  /** Takes the update back out of the base weights (restores them up to f32 rounding). */
  unmerge(): void {
    if (!this.#merged) throw new Error("LoRA unmerge: the adapters are not merged");
    this.#fold(sub);
    this.#merged = false;
  }

  #fold(op: (x: Tensor, y: Tensor) => Tensor): void {
    noGrad(() => {
      for (const l of this.#layers) {
        // Linear stores W as [out, in] (delta = B A); Conv1D as [in, out] (delta = Aᵀ Bᵀ).
        const delta = l.layer instanceof Conv1D
          ? matmul(l.a.weight, l.b.weight, { transA: true, transB: true })
          : matmul(l.b.weight, l.a.weight);
        const scaled = mul(delta, this.scale);
        const next = op(l.layer.weight, scaled);
        assign(l.layer.weight, next, `LoRA merge '${l.path}'`);
        for (const t of [delta, scaled, next]) t.dispose();
      }
    });
  }

  /** The adapter weights as host arrays under PEFT's saved names. */
  async hostWeights(): Promise<Map<string, HostArray>> {
    const out = new Map<string, HostArray>();
    for (const [name, t] of this.namedParameters()) {
      out.set(`base_model.model.${name}`, { shape: [...t.shape], data: await t.toArray() });
    }
    return out;
  }

  /** PEFT's `adapter_config.json` contents for these adapters. */
  peftConfig(baseModelNameOrPath: string | null = null): Record<string, unknown> {
    const c = this.config;
    return {
      peft_type: "LORA",
      task_type: isSeq2Seq(this.model) ? "SEQ_2_SEQ_LM" : "CAUSAL_LM",
      base_model_name_or_path: baseModelNameOrPath,
      r: c.r,
      lora_alpha: c.alpha,
      lora_dropout: c.dropout,
      target_modules: c.targetModules,
      fan_in_fan_out: this.#layers.some((l) => l.layer instanceof Conv1D),
      bias: "none",
      use_rslora: c.useRslora,
      use_dora: false,
      init_lora_weights: true,
      inference_mode: true,
      modules_to_save: null,
      layers_to_transform: null,
      layers_pattern: null,
      rank_pattern: {},
      alpha_pattern: {},
      revision: null,
    };
  }
}

/** Whether `model` is an encoder-decoder LM (it has the `Seq2SeqLM` contract's encoder). */
function isSeq2Seq(model: Module): boolean {
  const m = model as Partial<{ encode: unknown; decoderStartTokenId: unknown }>;
  return typeof m.encode === "function" && typeof m.decoderStartTokenId === "number";
}

/**
 * PEFT's default targets for a model of the causal or the seq2seq table (by its `modelType`),
 * or an error asking for them.
 */
function defaultTargets(model: Module): string[] {
  const type = (model as { modelType?: unknown }).modelType;
  for (const table of [CAUSAL_LM_ARCHITECTURES, SEQ2SEQ_LM_ARCHITECTURES]) {
    if (typeof type === "string" && Object.hasOwn(table, type)) return [...table[type].loraTargets];
  }
  throw new Error(
    `LoraConfig: targetModules is not set and there are no default targets for ` +
      `${typeof type === "string" ? `model_type "${type}"` : model.constructor.name}; name ` +
      `the modules to adapt`,
  );
}

function checkConfig(config: LoraConfig, model: Module): Required<LoraConfig> {
  const { r } = config;
  if (!Number.isInteger(r) || r <= 0) {
    throw new Error(`LoraConfig: r must be a positive integer, got ${r}`);
  }
  const alpha = config.alpha ?? r;
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) {
    throw new Error(`LoraConfig: alpha must be a finite number, got ${alpha}`);
  }
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new Error(`LoraConfig: dropout must be in [0, 1), got ${dropout}`);
  }
  const t = config.targetModules ?? defaultTargets(model);
  const ok = typeof t === "string"
    ? t.length > 0
    : Array.isArray(t) && t.length > 0 && t.every((s) => typeof s === "string" && s.length > 0);
  if (!ok) {
    throw new Error(
      `LoraConfig: targetModules must be a non-empty list of module names or a regex string, ` +
        `got ${JSON.stringify(t)}`,
    );
  }
  return { r, alpha, dropout, targetModules: t, useRslora: config.useRslora ?? false };
}

function matcher(targets: string[] | string): (path: string) => boolean {
  if (typeof targets === "string") {
    const re = new RegExp(`^(?:${targets})$`);
    return (path) => re.test(path);
  }
  return (path) => targets.some((t) => path === t || path.endsWith(`.${t}`));
}

const adapted = new WeakSet<Module>();

/**
 * Adds LoRA adapters to every `Linear` / `Conv1D` of `model` that `config.targetModules`
 * names, freezes every other parameter (except `alsoTrain`), and returns the handle that
 * toggles, merges and saves them. A target matching no module, or a non-affine module, is an
 * error naming what is available.
 *
 * @example
 * ```ts
 * import { optim } from "@tether/rlhf/core";
 * import { applyLora, loadCausalLM } from "@tether/rlhf/models";
 *
 * const model = await loadCausalLM("examples/assets/tiny-imdb/policy"); // tiny offline GPT-2
 * const lora = applyLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: ["c_attn"] });
 * const opt = new optim.AdamW(lora.parameters(), { lr: 1e-4 });
 * const batch = { inputIds: [[15, 36, 60]] };
 * const refLogits = lora.withAdaptersDisabled(() => model.forward(batch).logits);
 * opt.zeroGrad();
 * console.log(lora.parameters().length, refLogits.shape); // A and B of each c_attn; [1, 3, 169]
 * ```
 */
export function applyLora(
  model: Module,
  config: LoraConfig,
  opts: ApplyLoraOptions = {},
): LoraAdapters {
  const c = checkConfig(config, model);
  const matches = matcher(c.targetModules);
  const modules = model.namedModules().filter(([path]) => path !== "" && !/\.lora_/.test(path));
  const chosen = modules.filter(([path]) => matches(path));
  if (chosen.length === 0) {
    const affine = modules.filter(([, m]) => m instanceof Linear || m instanceof Conv1D);
    const leaves = [...new Set(affine.map(([p]) => p.split(".").pop()!))].slice(0, 8);
    throw new Error(
      `applyLora: targetModules ${JSON.stringify(c.targetModules)} matched no module; this ` +
        `model's Linear/Conv1D layers are named ${leaves.map((n) => `'${n}'`).join(", ")}` +
        (affine.length ? ` (e.g. '${affine[0][0]}')` : ""),
    );
  }
  const layers: Adapted[] = [];
  for (const [path, m] of chosen) {
    if (!(m instanceof Linear || m instanceof Conv1D)) {
      throw new Error(
        `applyLora: target '${path}' is a ${m.constructor.name}; LoRA adapts Linear and Conv1D ` +
          `layers only (name one of its projections instead)`,
      );
    }
    if (adapted.has(m)) throw new Error(`applyLora: '${path}' already has a LoRA adapter`);
    layers.push(wrap(path, m, c, opts.generator));
  }
  const lora = new LoraAdapters(model, c, layers);
  for (const l of layers) hook(l, lora, c.dropout, opts.generator);
  const alsoTrain = opts.alsoTrain ?? ["v_head."];
  const adapter = new Set(lora.parameters());
  for (const [name, p] of model.namedParameters()) {
    p.requiresGrad = adapter.has(p) || alsoTrain.some((prefix) => name.startsWith(prefix));
  }
  return lora;
}

function wrap(path: string, layer: Linear | Conv1D, c: Required<LoraConfig>, g?: Generator) {
  const backend = layer.weight.backend.name;
  const a = new Linear(layer.inFeatures, c.r, { bias: false, backend, generator: g });
  const b = new Linear(c.r, layer.outFeatures, { bias: false, backend, generator: g });
  const zero = tensor(new Float32Array(b.weight.size), b.weight.shape, { backend });
  assign(b.weight, zero, `LoRA init '${path}.lora_B'`);
  zero.dispose();
  layer.registerModule("lora_A", a);
  layer.registerModule("lora_B", b);
  adapted.add(layer);
  return { path, layer, a, b };
}

function hook(l: Adapted, lora: LoraAdapters, p: number, g?: Generator): void {
  const drop = l.layer.registerModule("lora_dropout", new Dropout(p, g));
  const base = Object.getPrototypeOf(l.layer).forward as (x: Tensor) => Tensor;
  const scale = lora.scale;
  l.layer.forward = function (this: Linear | Conv1D, x: Tensor): Tensor {
    const y = base.call(this, x);
    if (!lora.active()) return y;
    return add(y, mul(l.b.forward(l.a.forward(drop.forward(x))), scale));
  };
}

/**
 * Saves the adapters as PEFT does: `adapter_config.json` and `adapter_model.safetensors`
 * (keys `base_model.model.<module path>.lora_A.weight` [r, in] / `lora_B.weight` [out, r]),
 * each file written atomically.
 * @param baseModelNameOrPath Recorded in the config (PEFT's `base_model_name_or_path`).
 */
export async function saveLora(
  lora: LoraAdapters,
  dir: string,
  baseModelNameOrPath: string | null = null,
): Promise<void> {
  const weights = encodeSafetensors(await lora.hostWeights());
  const config = JSON.stringify(lora.peftConfig(baseModelNameOrPath), null, 2) + "\n";
  if (!(await pathExists(dir))) {
    const temp = siblingTempPath(dir, "saving");
    try {
      await Deno.mkdir(temp, { recursive: true });
      await Deno.writeFile(join(temp, "adapter_model.safetensors"), weights);
      await Deno.writeTextFile(join(temp, "adapter_config.json"), config);
      await Deno.rename(temp, dir);
    } catch (e) {
      await Deno.remove(temp, { recursive: true }).catch(() => {});
      throw e;
    }
    return;
  }
  await writeFileAtomic(join(dir, "adapter_model.safetensors"), weights);
  await writeFileAtomic(join(dir, "adapter_config.json"), new TextEncoder().encode(config));
}

/** The LoRA settings of a PEFT `adapter_config.json`, refusing what this module does not do. */
export function loraConfigFromPeft(json: Record<string, unknown>): LoraConfig {
  const where = "adapter_config.json";
  if (json.peft_type !== undefined && json.peft_type !== "LORA") {
    throw new Error(`${where}: peft_type is ${JSON.stringify(json.peft_type)}; only LORA loads`);
  }
  for (const k of ["rank_pattern", "alpha_pattern"]) {
    const v = json[k];
    if (v && typeof v === "object" && Object.keys(v).length > 0) {
      throw new Error(`${where}: per-module ${k} is not supported; use one r and lora_alpha`);
    }
  }
  if (json.use_dora === true) throw new Error(`${where}: DoRA (use_dora) is not supported`);
  if (json.bias !== undefined && json.bias !== "none") {
    throw new Error(`${where}: bias ${JSON.stringify(json.bias)} is not supported; only "none"`);
  }
  if (json.layers_to_transform !== undefined && json.layers_to_transform !== null) {
    throw new Error(`${where}: layers_to_transform is not supported; list target modules instead`);
  }
  return {
    r: json.r as number,
    alpha: json.lora_alpha as number,
    dropout: (json.lora_dropout as number | undefined) ?? 0,
    targetModules: json.target_modules as string[] | string,
    useRslora: (json.use_rslora as boolean | undefined) ?? false,
  };
}

/**
 * Applies the adapters saved in `dir` (PEFT layout) to `model` and loads their weights; every
 * saved key must match an adapter and every adapter must be saved, with the right shapes.
 */
export async function loadLora(
  model: Module,
  dir: string,
  opts: ApplyLoraOptions = {},
): Promise<LoraAdapters> {
  const config = loraConfigFromPeft(
    JSON.parse(await Deno.readTextFile(join(dir, "adapter_config.json"))),
  );
  const saved = await readSafetensors(join(dir, "adapter_model.safetensors"));
  const lora = applyLora(model, config, opts);
  const want = new Map(lora.namedParameters().map(([n, t]) => [`base_model.model.${n}`, t]));
  const missing = [...want.keys()].filter((k) => !saved.has(k));
  const extra = [...saved.keys()].filter((k) => !want.has(k));
  const bad: string[] = [];
  for (const [k, t] of want) {
    const s = saved.get(k);
    if (s && (s.shape.length !== t.rank || s.shape.some((d, i) => d !== t.shape[i]))) {
      bad.push(`'${k}': saved ${fmtShape(s.shape)}, adapter ${fmtShape(t.shape)}`);
    }
  }
  if (missing.length || extra.length || bad.length) {
    const parts = [
      missing.length ? `missing ${missing.slice(0, 6).join(", ")}` : "",
      extra.length ? `unexpected ${extra.slice(0, 6).join(", ")}` : "",
      bad.length ? `shape mismatches ${bad.join("; ")}` : "",
    ].filter(Boolean);
    throw new Error(
      `loadLora (${dir}): the saved adapter does not fit the model: ${parts.join(". ")}`,
    );
  }
  for (const [k, t] of want) {
    const s = saved.get(k)!;
    const host = tensor(s.data, s.shape, { backend: "cpu" });
    assign(t, host, `loadLora '${k}'`);
    host.dispose();
  }
  return lora;
}
