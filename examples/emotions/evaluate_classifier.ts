/**
 * Held-out measures of an emotion classifier on SYNTHETIC emotion texts: top-1 and exact-set
 * accuracy, and the softmax `joy` probability the go_emotions tutorial's reward reads.
 *
 * @module
 */

import { GO_EMOTIONS_LABELS, type SyntheticEmotionText } from "../../data/mod.ts";
import { applyClassificationFunction, type TextClassifier } from "../../models/mod.ts";

/** What the held-out evaluation measured. */
export interface EmotionClassifierReport {
  /** Held-out texts. */
  texts: number;
  /** Share whose highest logit is one of the text's labels. */
  top1: number;
  /** The same on held-out texts that never appear in the training corpus. */
  novelTop1: number;
  /** How many held-out texts are novel. */
  novel: number;
  /** Share whose labels are exactly the labels with sigmoid > 0.5. */
  exactSet: number;
  /** Mean softmax probability of `joy` on held-out texts whose main label is joy. */
  joyOnJoy: number;
  /** The same on the other held-out texts. */
  joyOnOthers: number;
}

/**
 * Scores held-out texts with a classifier: top-1 and exact-set accuracy, and the softmax `joy`
 * probability the tutorial's reward reads.
 *
 * @param classifier The classifier.
 * @param heldOut Held-out texts.
 * @param train Texts of the training corpus (to pick out the novel held-out ones).
 */
export async function evaluateEmotionClassifier(
  classifier: TextClassifier,
  heldOut: readonly SyntheticEmotionText[],
  train: ReadonlySet<string> = new Set(),
): Promise<EmotionClassifierReport> {
  const logits = await classifier.logits(heldOut.map((r) => r.text));
  const joy = GO_EMOTIONS_LABELS.indexOf("joy");
  let top1 = 0, novelTop1 = 0, novel = 0, exactSet = 0;
  const joyOn: number[] = [], joyOff: number[] = [];
  heldOut.forEach((row, i) => {
    const z = Array.from(logits[i]);
    const best = z.indexOf(Math.max(...z));
    const hit = row.labels.includes(best) ? 1 : 0;
    top1 += hit;
    if (!train.has(row.text)) {
      novel++;
      novelTop1 += hit;
    }
    const predicted = z.flatMap((v, j) => (v > 0 ? [j] : []));
    if (predicted.join() === row.labels.join()) exactSet++;
    (row.emotion === "joy" ? joyOn : joyOff).push(applyClassificationFunction(z, "softmax")[joy]);
  });
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    texts: heldOut.length,
    top1: top1 / heldOut.length,
    novelTop1: novel ? novelTop1 / novel : NaN,
    novel,
    exactSet: exactSet / heldOut.length,
    joyOnJoy: avg(joyOn),
    joyOnOthers: avg(joyOff),
  };
}
