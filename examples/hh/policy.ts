/**
 * The policy of the hh examples: GPT-2 (or the tiny GPT-2) with its tokenizer, LoRA adapters
 * when the preset asks for them, and the model's original self as a reference: the adapters
 * switched off, or a separate frozen copy for a full fine-tune.
 *
 * @module
 */

import { join } from "node:path";
import { pathExists } from "../../models/io/atomic.ts";
import { Generator } from "../../core/mod.ts";
import {
  applyLora,
  type CausalLM,
  loadCausalLM,
  loadLora,
  loadTokenizer,
  type LoraAdapters,
  type LoraConfig,
  openModel,
  saveLora,
  type Tokenizer,
} from "../../models/mod.ts";

/** The loaded policy. */
export interface HhPolicy {
  /** The model being tuned (adapters inside when LoRA is on). */
  model: CausalLM;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
  /** The adapters, or null for a full fine-tune. */
  lora: LoraAdapters | null;
  /**
   * Whether the adapters are the SFT run's, loaded to train on: the starting policy is then
   * base + adapters, so its reference is a frozen copy of them, not the adapters switched off.
   */
  loraFromSft: boolean;
  /** A frozen copy of the starting weights (full fine-tune with `withReference`), else null. */
  reference: CausalLM | null;
  /** The reference as DPO takes it: the frozen copy, or undefined (adapters off instead). */
  refModel: CausalLM | undefined;
  /** Frees the weights. */
  dispose(): void;
}

/** Options of {@link loadHhPolicy}. */
export interface LoadHhPolicyOptions {
  /** LoRA settings (null: full fine-tune). */
  lora: LoraConfig | null;
  /** Keep a frozen copy of the starting weights when there is no LoRA (DPO's reference). */
  withReference: boolean;
  /** Backend of the weights (default: the current one). */
  backend?: string;
  /** Seed of the adapters' initial A matrices and of dropout. */
  seed: number;
  /** Attach TRL's value head (PPO's critic), fresh. */
  valueHead?: boolean;
  /**
   * Start from the SFT example's output: a folder with a whole model (`config.json`), or with
   * PEFT adapters for `policy` (the full preset's LoRA run), which are loaded and trained on.
   */
  sft?: string | null;
}

/**
 * Load the policy and its tokenizer from a folder or a Hub id; offline, a Hub id fails at once
 * with the hub's message, naming the model.
 *
 * @param policy Folder or Hub id.
 * @param options Adapters, reference, backend, seed.
 */
export async function loadHhPolicy(
  policy: string,
  options: LoadHhPolicyOptions,
): Promise<HhPolicy> {
  const sft = options.sft ?? null;
  const wholeSft = sft !== null && await pathExists(join(sft, "config.json"));
  const source = wholeSft ? sft : policy;
  const model = await loadCausalLM(source, {
    backend: options.backend,
    seed: options.seed,
    valueHead: options.valueHead,
    // A fresh value head is expected, as in TRL.
    log: options.valueHead ? (m) => !/v_head/.test(m) && console.warn(m) : undefined,
  });
  let lora: LoraAdapters | null = null;
  let reference: CausalLM | null = null;
  let tokenizer: Tokenizer;
  const loraFromSft = sft !== null && !wholeSft;
  const generator = new Generator(options.seed + 1);
  try {
    tokenizer = await loadTokenizer(source);
    if (loraFromSft) {
      if (!(await pathExists(join(sft, "adapter_config.json")))) {
        throw new Error(
          `no SFT policy at '${sft}' (neither a model nor PEFT adapters); run ` +
            "`deno run -A examples/hh_sft.ts` first (it saves to <out>/model), or pass --sft",
        );
      }
      lora = await loadLora(model, sft, { generator });
    } else if (options.lora) {
      lora = applyLora(model, options.lora, { generator });
    } else if (options.withReference) {
      reference = await loadCausalLM(policy, { backend: options.backend, log: () => {} });
      for (const p of reference.parameters()) p.requiresGrad = false;
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  model.train();
  return {
    model,
    tokenizer,
    lora,
    loraFromSft,
    reference,
    refModel: reference ?? undefined,
    dispose: () => {
      model.dispose();
      reference?.dispose();
    },
  };
}

/**
 * Token ids of a prompt: the BOS (GPT-2's `<|endoftext|>`) then the text, so that the first
 * completion token is always predicted from something.
 *
 * @param tokenizer The policy's tokenizer.
 * @param text Prompt text.
 */
export function promptIds(tokenizer: Tokenizer, text: string): number[] {
  const bos = tokenizer.bosTokenId ?? tokenizer.eosTokenId;
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  return bos === undefined ? ids : [bos, ...ids];
}

/**
 * Token ids of a completion, ending with EOS so the model learns to stop.
 *
 * @param tokenizer The policy's tokenizer.
 * @param text Completion text.
 */
export function completionIds(tokenizer: Tokenizer, text: string): number[] {
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  return tokenizer.eosTokenId === undefined ? ids : [...ids, tokenizer.eosTokenId];
}

const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
];

/**
 * Copy a model's tokenizer files (those it has) into `dir`, creating it.
 *
 * @param source Folder or Hub id the tokenizer was loaded from.
 * @param dir Target folder.
 */
export async function copyTokenizerFiles(source: string, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const files = await openModel(source);
  for (const name of TOKENIZER_FILES) {
    const path = await files.file(name, { optional: true });
    if (path) await Deno.copyFile(path, join(dir, name));
  }
}

/**
 * Save the tuned policy so `loadCausalLM(dir)` and `loadTokenizer(dir)` read it back: the whole
 * model (config + safetensors), or with LoRA the adapters in PEFT's layout; the tokenizer files
 * are copied from the policy's source.
 *
 * @param policy The tuned policy.
 * @param source The folder or Hub id it was loaded from.
 * @param dir Target folder.
 * @returns What was written, for the console.
 */
export async function saveHhPolicy(policy: HhPolicy, source: string, dir: string): Promise<string> {
  await copyTokenizerFiles(source, dir);
  if (policy.lora) {
    await saveLora(policy.lora, dir, source);
    return `LoRA adapters (PEFT layout, base ${source}) and tokenizer in ${dir}`;
  }
  await policy.model.save(dir);
  return `model and tokenizer in ${dir}`;
}
