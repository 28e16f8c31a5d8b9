/**
 * Tokenizers from `tokenizer.json` files (a local folder or the Hugging Face cache/Hub), run by
 * `@huggingface/transformers`, behind a small wrapper with the batch padding and truncation
 * RLHF code needs: left padding for generation, right padding for scoring, `pad = eos` for
 * GPT-2 as TRL does.
 *
 * The tokenizer is built from the parsed files, so transformers itself never touches the file
 * system or the network (its own cache would live inside its package). Importing it loads
 * onnxruntime-node's native addon: run with `--allow-ffi --allow-env --allow-sys --allow-read`.
 *
 * @module
 */

import type { PreTrainedTokenizer } from "@huggingface/transformers";
import type { HubOptions } from "./hub/env.ts";
import { type ModelFiles, openModel } from "./hub/repo.ts";
import {
  byteLevelBpeTokenizerJson,
  type TokenizerJson,
  wordPieceTokenizerJson,
} from "./io/tokenizer_files.ts";
import { importTransformers } from "./transformers_js.ts";

/** Options for {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Add the model's special tokens (e.g. BERT's `[CLS] … [SEP]`; none for GPT-2). Default true. */
  addSpecialTokens?: boolean;
  /** Cut sequences longer than `maxLength` (special tokens kept). Default false. */
  truncation?: boolean;
  /** Longest sequence, special tokens included (default: the tokenizer's `model_max_length`). */
  maxLength?: number;
  /** Which end truncation removes tokens from (default `right`, as in transformers). */
  truncationSide?: "left" | "right";
}

/** Options for {@link Tokenizer.batchEncode}. */
export interface BatchEncodeOptions extends EncodeOptions {
  /** Side to pad on, or false for ragged rows (default: the tokenizer's padding side). */
  padding?: "left" | "right" | false;
  /** Pad every row to `maxLength` rather than to the longest row. */
  padToMaxLength?: boolean;
}

/** Token ids and attention masks of a batch (1 = token, 0 = padding). */
export interface BatchEncoding {
  /** Token ids, one row per text. */
  inputIds: number[][];
  /** 1 where `inputIds` holds a real token, 0 where it holds padding. */
  attentionMask: number[][];
}

/** Options for {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (pad, eos, ...) from the text. Default false. */
  skipSpecialTokens?: boolean;
  /** Remove spaces before punctuation (default: the tokenizer's setting). */
  cleanUpTokenizationSpaces?: boolean;
}

/** One turn of a conversation, as chat templates read it. */
export interface ChatMessage {
  /** `system`, `user`, `assistant` (or whatever roles the template knows). */
  role: string;
  /** The turn's text. */
  content: string;
}

/** Options for {@link Tokenizer.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn, for generation (default false). */
  addGenerationPrompt?: boolean;
  /** A Jinja template to use instead of the tokenizer's `chat_template` (or its name). */
  chatTemplate?: string;
  /** Extra variables the template reads (e.g. `enable_thinking`). */
  variables?: Record<string, unknown>;
}

/** Options for {@link loadTokenizer}. */
export interface LoadTokenizerOptions extends HubOptions {
  /** Override the padding side from the tokenizer config. */
  paddingSide?: "left" | "right";
}

// The parts of transformers' tokenizer this wrapper drives beyond its public methods.
interface TokenizerInternals {
  _encode_text(text: string): string[] | null;
  post_processor:
    | {
      post_process(
        tokens: string[],
        pair: null,
        options: { add_special_tokens: boolean },
      ): { tokens: string[] };
    }
    | null;
  model: {
    convert_tokens_to_ids(tokens: string[]): number[];
    tokens_to_ids: Map<string, number>;
    vocab: (string | undefined)[];
  };
  all_special_ids: number[];
}

const SPECIAL_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
];

function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (
    value !== null && typeof value === "object" &&
    typeof (value as { content?: unknown }).content === "string"
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** A tokenizer: text ↔ token ids, with batch padding and truncation. */
export class Tokenizer {
  readonly #inner: PreTrainedTokenizer;
  readonly #internals: TokenizerInternals;
  readonly #specialCount: number;
  /** Token appended to mark the end of a sequence, if the tokenizer has one. */
  readonly eosToken: string | undefined;
  /** Id of {@link eosToken}. */
  readonly eosTokenId: number | undefined;
  /** Token that starts a sequence, if the tokenizer has one. */
  readonly bosToken: string | undefined;
  /** Id of {@link bosToken}. */
  readonly bosTokenId: number | undefined;
  /** Token for unknown input, if the tokenizer has one. */
  readonly unkToken: string | undefined;
  /** Id of {@link unkToken}. */
  readonly unkTokenId: number | undefined;
  /** Padding token: the configured one, else the eos token (TRL's convention for GPT-2). */
  readonly padToken: string | undefined;
  /** Id of {@link padToken}. */
  readonly padTokenId: number | undefined;
  /** Rows of ids the model's embedding must cover: the largest id plus one. */
  readonly vocabSize: number;
  /** `model_max_length` from the config, when it is a real limit. */
  readonly modelMaxLength: number | undefined;
  /** Ids of all special tokens (skipped by `skipSpecialTokens`). */
  readonly specialTokenIds: readonly number[];
  /** Default side for {@link batchEncode} padding. */
  paddingSide: "left" | "right";

  /**
   * Wrap a transformers tokenizer; use {@link loadTokenizer} or {@link createTokenizer}.
   *
   * @param inner The transformers tokenizer.
   * @param config The merged tokenizer config it was built with.
   */
  constructor(inner: PreTrainedTokenizer, config: Record<string, unknown>) {
    this.#inner = inner;
    this.#internals = inner as unknown as TokenizerInternals;
    const idOf = (key: string): [string | undefined, number | undefined] => {
      const token = tokenText(config[key]);
      if (token === undefined) return [undefined, undefined];
      const id = this.#internals.model.tokens_to_ids.get(token);
      if (id === undefined) {
        throw new Error(
          `tokenizer config sets ${key} to "${token}", which is not in the vocabulary`,
        );
      }
      return [token, id];
    };
    [this.eosToken, this.eosTokenId] = idOf("eos_token");
    [this.bosToken, this.bosTokenId] = idOf("bos_token");
    [this.unkToken, this.unkTokenId] = idOf("unk_token");
    [this.padToken, this.padTokenId] = idOf("pad_token");
    if (this.padToken === undefined) {
      [this.padToken, this.padTokenId] = [this.eosToken, this.eosTokenId];
    }
    this.vocabSize = this.#internals.model.vocab.length;
    const max = config.model_max_length;
    this.modelMaxLength = typeof max === "number" && max > 0 && max < 1e9 ? max : undefined;
    this.specialTokenIds = [...new Set(this.#internals.all_special_ids)];
    const side = config.padding_side;
    this.paddingSide = side === "left" ? "left" : "right";
    this.#specialCount = this.#postProcess([]).length;
  }

  #postProcess(tokens: string[]): string[] {
    const processor = this.#internals.post_processor;
    return processor
      ? processor.post_process(tokens, null, { add_special_tokens: true }).tokens
      : tokens;
  }

  /**
   * Split text into tokens (strings), without special tokens.
   *
   * @param text The text.
   */
  tokenize(text: string): string[] {
    return this.#internals._encode_text(text) ?? [];
  }

  /**
   * Encode one text to token ids.
   *
   * @param text The text.
   * @param options Special tokens and truncation.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== "string") {
      throw new TypeError(`Tokenizer.encode: text must be a string, got ${typeof text}`);
    }
    const addSpecial = options.addSpecialTokens ?? true;
    let tokens = this.tokenize(text);
    if (options.truncation) {
      const maxLength = this.#maxLength(options);
      const budget = maxLength - (addSpecial ? this.#specialCount : 0);
      if (budget < 0) {
        throw new Error(
          `Tokenizer.encode: maxLength ${maxLength} leaves no room for the ${this.#specialCount} special tokens`,
        );
      }
      if (tokens.length > budget) {
        tokens = options.truncationSide === "left"
          ? tokens.slice(tokens.length - budget)
          : tokens.slice(0, budget);
      }
    }
    if (addSpecial) tokens = this.#postProcess(tokens);
    return this.#internals.model.convert_tokens_to_ids(tokens);
  }

  #maxLength(options: EncodeOptions): number {
    const maxLength = options.maxLength ?? this.modelMaxLength;
    if (maxLength === undefined || !Number.isInteger(maxLength) || maxLength < 0) {
      throw new Error(
        `Tokenizer: truncation/padding to a maximum length needs maxLength (a non-negative integer), ` +
          `got ${options.maxLength} and the tokenizer config sets no model_max_length`,
      );
    }
    return maxLength;
  }

  /**
   * Encode texts and pad them into rectangular rows with an attention mask.
   *
   * @example
   * ```ts
   * import { loadTokenizer } from "@tether/rlhf/models";
   * // The examples' tiny word-level tokenizer; a Hub id such as "openai-community/gpt2" works too.
   * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
   * const batch = tokenizer.batchEncode(["great", "a great movie"], { padding: "left" });
   * console.log(batch.attentionMask); // [[0, 0, 1], [1, 1, 1]]: padding went to the left
   * ```
   *
   * @param texts The texts.
   * @param options Padding side, truncation, special tokens.
   */
  batchEncode(texts: readonly string[], options: BatchEncodeOptions = {}): BatchEncoding {
    const rows = texts.map((text) => this.encode(text, options));
    const side = options.padding ?? this.paddingSide;
    if (side === false) {
      return { inputIds: rows, attentionMask: rows.map((row) => row.map(() => 1)) };
    }
    const width = options.padToMaxLength
      ? this.#maxLength(options)
      : rows.reduce((max, row) => Math.max(max, row.length), 0);
    const needsPadding = rows.some((row) => row.length < width);
    if (needsPadding && this.padTokenId === undefined) {
      throw new Error(
        "Tokenizer.batchEncode: padding is needed but the tokenizer has neither a pad nor an eos " +
          "token; set pad_token in tokenizer_config.json or pass padding: false",
      );
    }
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    for (const row of rows) {
      const pad = new Array<number>(Math.max(0, width - row.length)).fill(this.padTokenId ?? 0);
      const zeros = pad.map(() => 0);
      const ones = row.map(() => 1);
      inputIds.push(side === "left" ? [...pad, ...row] : [...row, ...pad]);
      attentionMask.push(side === "left" ? [...zeros, ...ones] : [...ones, ...zeros]);
    }
    return { inputIds, attentionMask };
  }

  /**
   * Decode token ids to text.
   *
   * @param ids Token ids (any array-like of integers, e.g. a Float32Array from a tensor).
   * @param options Whether to skip special tokens.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const list = Array.from(ids);
    for (const id of list) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(
          `Tokenizer.decode: ${id} is not a token id (vocabulary size ${this.vocabSize})`,
        );
      }
    }
    if (list.length === 0) return "";
    return this.#inner.decode(
      list,
      {
        skip_special_tokens: options.skipSpecialTokens ?? false,
        clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces ?? null,
      } as Parameters<PreTrainedTokenizer["decode"]>[1],
    );
  }

  /**
   * Decode each row of ids.
   *
   * @param batch Rows of token ids.
   * @param options Whether to skip special tokens.
   */
  batchDecode(batch: readonly ArrayLike<number>[], options: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, options));
  }

  /** Whether the tokenizer carries a chat template (`chat_template` in its config). */
  get hasChatTemplate(): boolean {
    return Boolean((this.#inner as unknown as { chat_template: unknown }).chat_template);
  }

  /**
   * Renders a conversation with the tokenizer's Jinja chat template (`chat_template` of
   * `tokenizer_config.json`, or `chat_template.jinja`), as transformers'
   * `apply_chat_template(..., tokenize=False)` does; the special tokens (`bos_token`,
   * `eos_token`, ...) are available to the template. Tokenize the text with `encode(text,
   * { addSpecialTokens: false })`, or call {@link applyChatTemplateIds}.
   *
   * @example
   * ```ts
   * import { createTokenizer } from "@tether/rlhf/models";
   *
   * // An instruct model's tokenizer brings its template (loadTokenizer("HuggingFaceTB/
   * // SmolLM2-135M-Instruct")); here one is given to the tiny offline tokenizer.
   * const dir = "examples/assets/tiny-imdb/policy";
   * const tokenizer = await createTokenizer(
   *   JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`)),
   *   {
   *     eos_token: "<|endoftext|>",
   *     chat_template: "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}" +
   *       "{% if add_generation_prompt %}assistant:{% endif %}",
   *   },
   * );
   * const prompt = tokenizer.applyChatTemplate(
   *   [{ role: "user", content: "Name a colour." }],
   *   { addGenerationPrompt: true },
   * );
   * console.log(prompt); // "user: Name a colour.\nassistant:"
   * ```
   *
   * @param messages The conversation.
   * @param options Generation prompt, template override, extra variables.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!options.chatTemplate && !this.hasChatTemplate) {
      throw new Error(
        "Tokenizer.applyChatTemplate: this tokenizer has no chat template (no chat_template in " +
          "tokenizer_config.json and no chat_template.jinja); pass options.chatTemplate",
      );
    }
    for (const [i, m] of messages.entries()) {
      if (typeof m?.role !== "string" || typeof m?.content !== "string") {
        throw new Error(
          `Tokenizer.applyChatTemplate: message ${i} must be { role: string, content: string }`,
        );
      }
    }
    const inner = this.#inner as unknown as {
      apply_chat_template(
        conversation: readonly ChatMessage[],
        options: Record<string, unknown>,
      ): string;
    };
    return inner.apply_chat_template(messages, {
      ...options.variables,
      chat_template: options.chatTemplate ?? null,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      tokenize: false,
    });
  }

  /**
   * The token ids of a conversation rendered by {@link applyChatTemplate} (the template writes
   * the special tokens itself, so none are added).
   *
   * @param messages The conversation.
   * @param options Generation prompt, template override, extra variables.
   */
  applyChatTemplateIds(
    messages: readonly ChatMessage[],
    options: ChatTemplateOptions = {},
  ): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }

  /**
   * The id of a token, or undefined when it is not in the vocabulary.
   *
   * @param token Token text.
   */
  tokenToId(token: string): number | undefined {
    return this.#internals.model.tokens_to_ids.get(token);
  }

  /**
   * The token of an id, or undefined.
   *
   * @param id Token id.
   */
  idToToken(id: number): string | undefined {
    return this.#internals.model.vocab[id];
  }
}

// transformers.js has no WordLevel model. WordPiece with a continuation prefix that no
// vocabulary contains behaves exactly like it: a word in the vocabulary matches whole, any other
// word fails to split and becomes the unknown token.
const NO_CONTINUATION = "\u0000word-level\u0000";

function adaptTokenizerJson(json: TokenizerJson): TokenizerJson {
  if (json.model?.type !== "WordLevel") return json;
  const { vocab, unk_token } = json.model as { vocab: Record<string, number>; unk_token?: string };
  if (typeof unk_token !== "string" || !Object.hasOwn(vocab, unk_token)) {
    throw new Error(
      `word-level tokenizer: unk_token ${JSON.stringify(unk_token)} must be in the vocabulary`,
    );
  }
  return {
    ...json,
    model: {
      type: "WordPiece",
      vocab,
      unk_token,
      continuing_subword_prefix: NO_CONTINUATION,
      max_input_chars_per_word: Number.MAX_SAFE_INTEGER,
    },
  };
}

// Python's tokenizer classes carry default special tokens that their config files then omit
// (GPT-2's and distilbert-base-uncased's name none): the same defaults, per family.
const FAMILY_DEFAULTS: [RegExp, string[], Record<string, string>][] = [
  [/^GPT2Tokenizer(Fast)?$/, ["gpt2"], {
    bos_token: "<|endoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
  }],
  [/^(Distil)?BertTokenizer(Fast)?$/, ["bert", "distilbert"], {
    pad_token: "[PAD]",
    unk_token: "[UNK]",
    cls_token: "[CLS]",
    sep_token: "[SEP]",
    mask_token: "[MASK]",
  }],
];

function familyDefaults(
  config: Record<string, unknown>,
  modelType: string | undefined,
): Record<string, string> {
  const cls = typeof config.tokenizer_class === "string" ? config.tokenizer_class : undefined;
  for (const [pattern, modelTypes, defaults] of FAMILY_DEFAULTS) {
    if (cls !== undefined ? pattern.test(cls) : modelTypes.includes(modelType ?? "")) {
      return defaults;
    }
  }
  return {};
}

/**
 * Build a tokenizer from parsed files.
 *
 * @param tokenizerJson The `tokenizer.json` document.
 * @param tokenizerConfig `tokenizer_config.json` (special tokens, `model_max_length`, ...).
 * @param modelType The model's `model_type` from config.json, used for defaults (GPT-2's
 *   special tokens) and to pick the tokenizer class when the config names none.
 */
export async function createTokenizer(
  tokenizerJson: TokenizerJson,
  tokenizerConfig: Record<string, unknown> = {},
  modelType?: string,
): Promise<Tokenizer> {
  const { AutoTokenizer, PreTrainedTokenizer } = await importTransformers("loading tokenizers");
  const config: Record<string, unknown> = { ...tokenizerConfig };
  for (const key of SPECIAL_KEYS) {
    const text = tokenText(config[key]);
    if (text === undefined) delete config[key];
    else config[key] = text;
  }
  const json = adaptTokenizerJson(tokenizerJson);
  const vocab = json.model.vocab as Record<string, number> | undefined;
  const knows = (token: string) =>
    (vocab !== undefined && !Array.isArray(vocab) && Object.hasOwn(vocab, token)) ||
    (json.added_tokens ?? []).some((t) => t.content === token);
  for (const [key, token] of Object.entries(familyDefaults(config, modelType))) {
    if (knows(token)) config[key] ??= token;
  }
  const mapping = AutoTokenizer.TOKENIZER_CLASS_MAPPING as Record<
    string,
    typeof PreTrainedTokenizer
  >;
  const className = typeof config.tokenizer_class === "string"
    ? config.tokenizer_class.replace(/Fast$/, "")
    : modelType === "gpt2"
    ? "GPT2Tokenizer"
    : modelType === "distilbert"
    ? "DistilBertTokenizer"
    : modelType === "bert"
    ? "BertTokenizer"
    : "PreTrainedTokenizer";
  const Class = mapping[className] ?? PreTrainedTokenizer;
  // transformers falls back to eos for padding too; give it the same answer we use.
  const innerConfig = { ...config, pad_token: config.pad_token ?? config.eos_token };
  return new Tokenizer(new Class(json, innerConfig), config);
}

/**
 * Legacy `vocab.json` + `merges.txt` as transformers' GPT-2 converter reads them: the config's
 * special tokens (`<s>`, `<pad>`, `</s>`, `<unk>` of OPT and RoBERTa-style vocabularies) are
 * registered as special, and `add_bos_token` (OPT) puts the BOS token before every text.
 */
function legacyByteLevelJson(
  vocab: Record<string, number>,
  mergesText: string,
  config: Record<string, unknown>,
): TokenizerJson {
  const named = [
    ...SPECIAL_KEYS.map((k) => tokenText(config[k])),
    ...(Array.isArray(config.additional_special_tokens)
      ? config.additional_special_tokens.map(tokenText)
      : []),
  ];
  const specials = [
    ...new Set(
      [Object.hasOwn(vocab, "<|endoftext|>") ? "<|endoftext|>" : undefined, ...named]
        .filter((t): t is string => t !== undefined && Object.hasOwn(vocab, t)),
    ),
  ];
  const json = byteLevelBpeTokenizerJson(vocab, mergesText, specials);
  const bos = tokenText(config.bos_token);
  if (config.add_bos_token === true && bos !== undefined && Object.hasOwn(vocab, bos)) {
    json.post_processor = {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    };
  }
  return json;
}

async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Load a model's tokenizer from a folder or the Hub (cache first): `tokenizer.json`, else the
 * legacy `vocab.json` + `merges.txt` (byte-level BPE) or `vocab.txt` (WordPiece), with
 * `tokenizer_config.json` and `special_tokens_map.json` when present.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "@tether/rlhf/models";
 * // A folder, or a Hub id such as "openai-community/gpt2" (read from the Hugging Face cache).
 * const tokenizer = await loadTokenizer("examples/assets/tiny-imdb/policy");
 * const ids = tokenizer.encode("a great movie");
 * console.log(tokenizer.decode(ids), tokenizer.padTokenId); // a great movie 1 (no pad_token: EOS pads)
 * ```
 *
 * @param ref A folder, a Hub id, or opened {@link ModelFiles}.
 * @param options Hub settings and a padding-side override.
 */
export async function loadTokenizer(
  ref: string | ModelFiles,
  options: LoadTokenizerOptions = {},
): Promise<Tokenizer> {
  const files = typeof ref === "string" ? await openModel(ref, options) : ref;
  const configPath = await files.file("tokenizer_config.json", { optional: true });
  const tokenizerConfig = configPath ? await readJsonFile(configPath) : {};
  if (tokenizerConfig.chat_template === undefined) {
    // Newer transformers saves the template beside the config.
    const templatePath = await files.file("chat_template.jinja", { optional: true });
    if (templatePath) tokenizerConfig.chat_template = await Deno.readTextFile(templatePath);
  }
  const mapPath = await files.file("special_tokens_map.json", { optional: true });
  if (mapPath) {
    for (const [key, value] of Object.entries(await readJsonFile(mapPath))) {
      tokenizerConfig[key] ??= value;
    }
  }
  const modelConfigPath = await files.file("config.json", { optional: true });
  const modelType = modelConfigPath ? (await readJsonFile(modelConfigPath)).model_type : undefined;

  let json: TokenizerJson;
  const jsonPath = await files.file("tokenizer.json", { optional: true });
  if (jsonPath) {
    json = await readJsonFile(jsonPath) as TokenizerJson;
  } else {
    const vocabJson = await files.file("vocab.json", { optional: true });
    const merges = vocabJson ? await files.file("merges.txt", { optional: true }) : null;
    const vocabTxt = vocabJson ? null : await files.file("vocab.txt", { optional: true });
    if (vocabJson && merges) {
      json = legacyByteLevelJson(
        await readJsonFile(vocabJson) as Record<string, number>,
        await Deno.readTextFile(merges),
        tokenizerConfig,
      );
    } else if (vocabTxt) {
      json = wordPieceTokenizerJson(
        await Deno.readTextFile(vocabTxt),
        tokenizerConfig.do_lower_case !== false,
      );
    } else {
      throw new Error(
        `${files.id} has no tokenizer: looked for tokenizer.json, vocab.json + merges.txt, vocab.txt`,
      );
    }
  }
  const tokenizer = await createTokenizer(
    json,
    tokenizerConfig,
    typeof modelType === "string" ? modelType : undefined,
  );
  if (options.paddingSide) tokenizer.paddingSide = options.paddingSide;
  return tokenizer;
}
