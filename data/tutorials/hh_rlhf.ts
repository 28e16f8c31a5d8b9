/**
 * Anthropic's helpful-harmless preference data (`Anthropic/hh-rlhf`). Each row holds two whole
 * transcripts, `chosen` and `rejected`, that share every turn but the last assistant reply. For
 * reward modelling and DPO they are split into the shared prompt and the two replies, cutting
 * at the LAST `"\n\nAssistant:"` as TRL does: the prompt keeps that marker, each reply keeps its
 * text exactly (including the leading space).
 *
 * @module
 */

import { z } from "zod";
import type { RowSchema } from "../errors.ts";
import type { Dataset } from "../dataset.ts";
import { loadTutorial, type TutorialLoadOptions, type TutorialSource } from "./source.ts";

/** The marker that opens an assistant turn. */
export const HH_ASSISTANT_MARKER = "\n\nAssistant:";

/** Where hh-rlhf lives on the Hub (the default config joins all its subsets). */
export const HH_RLHF_SOURCE: TutorialSource = { id: "Anthropic/hh-rlhf", config: "default" };

/** A preference pair split into its shared prompt and the two final replies. */
export interface HhRlhfPair {
  /** Every turn up to and including the last `"\n\nAssistant:"`. */
  prompt: string;
  /** The preferred final reply. */
  chosen: string;
  /** The other final reply. */
  rejected: string;
}

/** A transcript pair could not be split; `field` says which transcript is at fault. */
export class HhRlhfSplitError extends Error {
  /** `chosen` or `rejected`. */
  readonly field: "chosen" | "rejected";

  /**
   * Create the error.
   *
   * @param field The transcript at fault.
   * @param message What is wrong.
   */
  constructor(field: "chosen" | "rejected", message: string) {
    super(message);
    this.name = "HhRlhfSplitError";
    this.field = field;
  }
}

function snippet(text: string, at: number): string {
  const piece = text.slice(Math.max(0, at - 20), at + 40);
  return JSON.stringify(piece.length > 0 ? piece : "");
}

/**
 * The prompt of one transcript: everything up to and including its last assistant marker.
 *
 * @param transcript A `"\n\nHuman: ... \n\nAssistant: ..."` transcript.
 * @returns The prompt, or undefined when there is no assistant turn.
 */
export function extractHhPrompt(transcript: string): string | undefined {
  const at = transcript.lastIndexOf(HH_ASSISTANT_MARKER);
  return at === -1 ? undefined : transcript.slice(0, at + HH_ASSISTANT_MARKER.length);
}

/**
 * Split a chosen/rejected transcript pair into the shared prompt and the two final replies.
 * Throws an {@link HhRlhfSplitError} when a transcript has no assistant turn or the two
 * prompts differ (which happens in the real data when a reply itself contains a
 * `"\n\nAssistant:"`).
 *
 * @example
 * ```ts
 * import { splitHhPair } from "@tether/rlhf/data";
 * const pair = splitHhPair(
 *   "\n\nHuman: Hi\n\nAssistant: Hello!",
 *   "\n\nHuman: Hi\n\nAssistant: Go away.",
 * );
 * // pair.prompt === "\n\nHuman: Hi\n\nAssistant:", pair.chosen === " Hello!"
 * ```
 *
 * @param chosen The preferred transcript.
 * @param rejected The other transcript.
 */
export function splitHhPair(chosen: string, rejected: string): HhRlhfPair {
  const chosenPrompt = extractHhPrompt(chosen);
  if (chosenPrompt === undefined) {
    throw new HhRlhfSplitError("chosen", `no ${JSON.stringify(HH_ASSISTANT_MARKER)} turn found`);
  }
  const rejectedPrompt = extractHhPrompt(rejected);
  if (rejectedPrompt === undefined) {
    throw new HhRlhfSplitError("rejected", `no ${JSON.stringify(HH_ASSISTANT_MARKER)} turn found`);
  }
  if (chosenPrompt !== rejectedPrompt) {
    let at = 0;
    while (at < chosenPrompt.length && chosenPrompt[at] === rejectedPrompt[at]) at++;
    throw new HhRlhfSplitError(
      "rejected",
      `its prompt (the text up to the last ${JSON.stringify(HH_ASSISTANT_MARKER)}) differs ` +
        `from the chosen transcript's (lengths ${chosenPrompt.length} and ` +
        `${rejectedPrompt.length}, first difference at character ${at}: chosen has ` +
        `${snippet(chosenPrompt, at)}, rejected has ${snippet(rejectedPrompt, at)}), so the ` +
        `pair has no shared prompt; the published data has a few such rows, which ` +
        `loadHhRlhf({ invalidRows: "skip" }) drops`,
    );
  }
  return {
    prompt: chosenPrompt,
    chosen: chosen.slice(chosenPrompt.length),
    rejected: rejected.slice(rejectedPrompt.length),
  };
}

/** Schema of a raw hh-rlhf row that splits it into {@link HhRlhfPair}. */
export const hhRlhfRowSchema: RowSchema<HhRlhfPair> = z.object({
  chosen: z.string(),
  rejected: z.string(),
}).transform((row, context) => {
  try {
    return splitHhPair(row.chosen, row.rejected);
  } catch (error) {
    if (!(error instanceof HhRlhfSplitError)) throw error;
    context.addIssue({ code: "custom", message: error.message, path: [error.field] });
    return z.NEVER;
  }
});

/**
 * Load hh-rlhf pairs, split into prompt / chosen / rejected, from a local file (e.g. the
 * original `harmless-base/train.jsonl.gz`) or the Hub. A pair without a shared prompt fails
 * with its file, line and field; pass `invalidRows: "skip"` (and `onSkip`) to drop such rows.
 *
 * @param options Path, split (`train`/`test`), limit, invalid-row policy and Hub settings.
 */
export function loadHhRlhf(options: TutorialLoadOptions = {}): Promise<Dataset<HhRlhfPair>> {
  return loadTutorial(HH_RLHF_SOURCE, hhRlhfRowSchema, options);
}
