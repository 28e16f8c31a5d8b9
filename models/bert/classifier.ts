/**
 * The common shape of the BERT-family sequence classifiers: an encoder producing hidden states,
 * a head reading the first token, the Hugging Face config they came from, and saving back to a
 * folder Python's transformers loads.
 *
 * @module
 */

import { type Generator, nn, type Tensor } from "../../core/mod.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import type { HostArray } from "../io/host.ts";
import type { EncoderConfig } from "./config.ts";
import type { EncoderBatch } from "./inputs.ts";

/** What a sequence classifier returns. */
export interface SequenceClassifierOutput {
  /** [B, numLabels] scores (one reward per sequence when numLabels = 1). */
  logits: Tensor;
}

/** How a BERT-family model is built. */
export interface EncoderModelOptions {
  /** Backend of the weights (default: the current backend). */
  backend?: string;
  /**
   * Source of the initial weights, drawn as transformers' `_init_weights` (default
   * `new Generator(0)`); `null` leaves them zero for a checkpoint to fill.
   */
  initGenerator?: Generator | null;
  /** Source of dropout masks in training mode (default: the global generator). */
  dropoutGenerator?: Generator;
}

/** Base of `DistilBertForSequenceClassification`, `BertForSequenceClassification`, .... */
export abstract class EncoderForSequenceClassification extends nn.Module {
  /** The transformers class name, written to `architectures` on save. */
  abstract readonly architecture: string;
  /** The checkpoint prefix of the encoder's weights (`distilbert`, `bert`, `roberta`). */
  abstract readonly basePrefix: string;
  /**
   * Dotted-name prefixes of the weights transformers creates fresh when a checkpoint lacks them
   * (the task head, and BERT's pooler).
   */
  abstract readonly headPrefixes: readonly string[];

  /**
   * Records the configuration; subclasses register the layers.
   *
   * @param config The parsed architecture.
   * @param rawConfig The config.json contents, saved back as they are (labels updated).
   * @param backendName Backend of the weights.
   */
  constructor(
    readonly config: EncoderConfig,
    public rawConfig: Record<string, unknown>,
    readonly backendName: string,
  ) {
    super();
  }

  /** Number of outputs of the head. */
  get numLabels(): number {
    return this.config.numLabels;
  }

  /** The encoder's last hidden state [B, T, hidden] (padding positions hold unused values). */
  abstract encode(batch: EncoderBatch): Tensor;

  /** Scores for each sequence: `{ logits }` [B, numLabels], read from the first token. */
  abstract forward(batch: EncoderBatch): SequenceClassifierOutput;

  /** Whether a dotted weight name belongs to a part transformers may initialise fresh. */
  isHeadWeight(name: string): boolean {
    return this.headPrefixes.some((p) => name.startsWith(p));
  }

  /**
   * Write `config.json` + `model.safetensors` (F32, transformers' names) into `dir`; a new
   * folder appears whole, an existing one has each file replaced atomically.
   *
   * @param dir Destination folder.
   */
  async save(dir: string): Promise<void> {
    const tensors = new Map<string, HostArray>();
    for (const [name, t] of this.stateDict()) {
      tensors.set(name, { shape: [...t.shape], data: await t.toArray() });
    }
    const config = { ...this.rawConfig, architectures: [this.architecture] };
    await saveCheckpoint(dir, { config, tensors });
  }
}
