/**
 * The comparison's settings on the tiny task (tiny preset only), as data. Learning rates are the
 * ones the tiny hh examples use for DPO, ReST and GRPO; PPO's is its full-fine-tune counterpart
 * (measured here; the IMDB example's 3e-3 is for LoRA adapters); RLOO takes GRPO's.
 *
 * @module
 */

/** The algorithms, in table order. */
export const ALGORITHMS = ["PPO", "GRPO", "RLOO", "DPO", "ReST", "best-of-n"] as const;

/** One of {@link ALGORITHMS}. */
export type AlgorithmName = typeof ALGORITHMS[number];

/** A group-sampling trainer's settings. */
export interface GroupSettings {
  /** Completions per round. */
  batchSize: number;
  /** Completions per prompt. */
  numGenerations: number;
  /** AdamW learning rate. */
  learningRate: number;
  /** KL coefficient β. */
  beta: number;
}

/** Everything a comparison run uses besides the budget and the seed. */
export interface CompareSettings {
  /** New tokens per sample, in training rollouts and in evaluation (EOS may stop earlier). */
  maxNewTokens: number;
  /** Held-out prompts (never trained on). */
  heldOutPrompts: number;
  /** Samples per held-out prompt in the evaluation. */
  evalSamplesPerPrompt: number;
  /** SYNTHETIC preference pairs drawn for the prompt pool and DPO. */
  preferencePairs: number;
  /** PPO (full fine-tune with TRL's value head; TRL 0.7.4 defaults for the rest). */
  ppo: {
    batchSize: number;
    miniBatchSize: number;
    ppoEpochs: number;
    learningRate: number;
    initKlCoef: number;
  };
  /** GRPO (TRL 1.9's dapo loss and group scaling; full fine-tune, a frozen copy as reference). */
  grpo: GroupSettings;
  /** RLOO (TRL 1.9's; full fine-tune, a frozen copy as reference). */
  rloo: GroupSettings;
  /** DPO (sigmoid loss, full fine-tune, the untouched policy as reference). */
  dpo: { batchSize: number; learningRate: number; beta: number };
  /** ReST (percentile thresholds, no dataset completions in the Grow set). */
  rest: {
    /** Training prompts each Grow step samples (the first n; null: all). */
    prompts: number | null;
    /** K. */
    samplesPerPrompt: number;
    /** I, Improve steps per Grow step. */
    improveSteps: number;
    learningRate: number;
    batchSize: number;
  };
  /** Best-of-n: candidates per prompt. */
  bestOfN: { n: number };
}

/** The defaults: the whole comparison takes about 5 × budget + 30 s on two cores. */
export const DEFAULT_COMPARE_SETTINGS: Readonly<CompareSettings> = Object.freeze({
  maxNewTokens: 16,
  heldOutPrompts: 24,
  evalSamplesPerPrompt: 4,
  preferencePairs: 2048,
  ppo: { batchSize: 16, miniBatchSize: 16, ppoEpochs: 4, learningRate: 1e-4, initKlCoef: 0.2 },
  grpo: { batchSize: 32, numGenerations: 4, learningRate: 1e-3, beta: 0.1 },
  rloo: { batchSize: 32, numGenerations: 4, learningRate: 1e-3, beta: 0.05 },
  dpo: { batchSize: 16, learningRate: 1e-3, beta: 0.1 },
  rest: { prompts: null, samplesPerPrompt: 4, improveSteps: 2, learningRate: 2e-3, batchSize: 16 },
  bestOfN: { n: 16 },
});

/** Settings with nested overrides applied. */
export function compareSettings(
  overrides: {
    [K in keyof CompareSettings]?: CompareSettings[K] extends object ? Partial<CompareSettings[K]>
      : CompareSettings[K];
  } = {},
): CompareSettings {
  const d = DEFAULT_COMPARE_SETTINGS;
  return {
    ...d,
    ...overrides,
    ppo: { ...d.ppo, ...overrides.ppo },
    grpo: { ...d.grpo, ...overrides.grpo },
    rloo: { ...d.rloo, ...overrides.rloo },
    dpo: { ...d.dpo, ...overrides.dpo },
    rest: { ...d.rest, ...overrides.rest },
    bestOfN: { ...d.bestOfN, ...overrides.bestOfN },
  } as CompareSettings;
}
