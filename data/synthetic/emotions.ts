/**
 * A SYNTHETIC emotion corpus in the shape of GoEmotions: short first-person texts, each labelled
 * with one (sometimes two) of GoEmotions' 28 labels. It is not real data. It exists so a tiny
 * emotion classifier and a tiny policy can stand in for `SamLowe/roberta-base-go_emotions` and
 * `google/flan-t5-small` offline.
 *
 * Every text is an emotion-neutral opening of exactly four words ("after the meeting today,")
 * followed by a continuation that carries the emotion. The opening is the text's prompt (the
 * go_emotions tutorial prompts with the first four words of each text), so a prompt never
 * decides the emotion: the continuation does. Continuations come from a small lexicon per label:
 *
 * - "i am so happy." / "it makes me really nervous!" (a feeling),
 * - "that is truly disgusting." (a judgement),
 * - "thank you so much." (a label's own phrases);
 * - some texts first name another feeling and then turn ("i thought i would feel sad, but what
 *   a great day."): the label is the one after "but";
 * - some carry two labels ("i am so relieved, and thank you so much.").
 *
 * @module
 */

import { Dataset } from "../dataset.ts";
import { Rng } from "../random.ts";
import { GO_EMOTIONS_LABELS } from "../tutorials/go_emotions.ts";

/** One SYNTHETIC emotion text. */
export interface SyntheticEmotionText {
  /** Lowercase text; punctuation attached to the preceding word. */
  text: string;
  /** Label ids (indices into GoEmotions' 28 labels), ascending. */
  labels: number[];
  /** The main label's name (the emotion after "but" in a turning text). */
  emotion: string;
  /** The first four words: the prompt the go_emotions tutorial would build from this text. */
  prompt: string;
  /** The text after the prompt. */
  continuation: string;
}

/** How one label is expressed. */
export interface EmotionLexicon {
  /** Completes "i am / i feel / it makes me (so) …". */
  feel: readonly string[];
  /** Completes "that is / this was (so) …". */
  judge: readonly string[];
  /** Whole clauses, without end punctuation unless they are questions (ending in "?"). */
  phrases: readonly string[];
  /** End punctuation of this label's texts. */
  end: readonly string[];
}

const STATEMENT = [".", "."] as const;
const EXCLAIM = [".", "!"] as const;

/** The lexicon of each GoEmotions label. */
export const SYNTHETIC_EMOTION_LEXICON: Readonly<Record<string, EmotionLexicon>> = Object.freeze({
  admiration: {
    feel: ["impressed", "in awe"],
    judge: ["impressive", "brilliant", "inspiring", "admirable"],
    phrases: ["i really admire them", "hats off to them", "they are so talented"],
    end: EXCLAIM,
  },
  amusement: {
    feel: ["amused", "entertained"],
    judge: ["hilarious", "funny", "comical"],
    phrases: ["i could not stop laughing", "lol, that cracked me up", "haha, i laughed so hard"],
    end: EXCLAIM,
  },
  anger: {
    feel: ["angry", "furious", "livid", "enraged"],
    judge: ["outrageous", "infuriating"],
    phrases: ["i want to scream at them", "this makes my blood boil", "i am done with their lies"],
    end: EXCLAIM,
  },
  annoyance: {
    feel: ["annoyed", "irritated", "fed up"],
    judge: ["annoying", "irritating", "tiresome"],
    phrases: ["ugh, not again", "stop doing that already", "i have had enough of this noise"],
    end: STATEMENT,
  },
  approval: {
    feel: ["on board"],
    judge: ["fair", "reasonable", "sensible"],
    phrases: [
      "i agree with this",
      "yes, exactly right",
      "i fully support it",
      "good point, well said",
    ],
    end: STATEMENT,
  },
  caring: {
    feel: [],
    judge: [],
    phrases: [
      "please take care of yourself",
      "i hope you feel better soon",
      "let me know if you need anything",
      "stay safe and rest well",
    ],
    end: STATEMENT,
  },
  confusion: {
    feel: ["confused", "puzzled", "lost"],
    judge: ["confusing", "unclear", "baffling"],
    phrases: ["i do not understand what happened", "i can not make sense of it"],
    end: STATEMENT,
  },
  curiosity: {
    feel: ["curious", "intrigued"],
    judge: ["interesting", "intriguing"],
    phrases: ["i wonder how it works", "can you tell me more?", "what happens next?"],
    end: STATEMENT,
  },
  desire: {
    feel: ["eager for more"],
    judge: [],
    phrases: ["i really want one too", "i wish i could go", "i would love to have that"],
    end: STATEMENT,
  },
  disappointment: {
    feel: ["disappointed", "let down"],
    judge: ["disappointing", "underwhelming"],
    phrases: ["i expected so much more", "what a letdown", "it did not live up to the hype"],
    end: STATEMENT,
  },
  disapproval: {
    feel: ["against it"],
    judge: ["wrong", "unacceptable"],
    phrases: [
      "i do not approve of this",
      "that was the wrong call",
      "they should not have done that",
    ],
    end: STATEMENT,
  },
  disgust: {
    feel: ["disgusted", "sick to my stomach"],
    judge: ["disgusting", "gross", "revolting", "nasty"],
    phrases: ["that made me gag", "yuck, how vile"],
    end: EXCLAIM,
  },
  embarrassment: {
    feel: ["embarrassed", "ashamed", "mortified"],
    judge: ["awkward", "embarrassing"],
    phrases: ["i wanted to hide under a rock", "my face turned red"],
    end: STATEMENT,
  },
  excitement: {
    feel: ["excited", "thrilled", "pumped"],
    judge: ["thrilling", "exciting"],
    phrases: ["i can not wait", "this is going to be epic", "let us go"],
    end: ["!"],
  },
  fear: {
    feel: ["scared", "afraid", "terrified", "frightened"],
    judge: ["terrifying", "scary", "creepy"],
    phrases: ["i am shaking with fear", "i could not sleep after that"],
    end: STATEMENT,
  },
  gratitude: {
    feel: ["grateful", "thankful"],
    judge: ["kind of you", "generous of you"],
    phrases: ["thank you so much", "thanks a lot", "i really appreciate it", "thanks for the help"],
    end: EXCLAIM,
  },
  grief: {
    feel: ["heartbroken", "devastated", "grieving"],
    judge: [],
    phrases: [
      "rest in peace",
      "i miss her every day",
      "we lost him last night",
      "my heart aches for the family",
    ],
    end: STATEMENT,
  },
  joy: {
    feel: ["happy", "glad", "delighted", "joyful", "cheerful"],
    judge: ["wonderful", "lovely", "delightful"],
    phrases: ["what a great day", "this made my day", "i am smiling so much"],
    end: EXCLAIM,
  },
  love: {
    feel: ["in love"],
    judge: ["adorable", "precious"],
    phrases: [
      "i love it so much",
      "i adore them",
      "sending all my love",
      "you mean the world to me",
    ],
    end: EXCLAIM,
  },
  nervousness: {
    feel: ["nervous", "anxious", "tense", "uneasy"],
    judge: ["nerve wracking", "stressful"],
    phrases: ["my hands are shaking", "i can not stop worrying"],
    end: STATEMENT,
  },
  optimism: {
    feel: ["hopeful", "optimistic", "confident"],
    judge: ["promising", "encouraging"],
    phrases: ["things will work out", "it will get better soon", "better days are ahead"],
    end: STATEMENT,
  },
  pride: {
    feel: ["proud", "proud of myself"],
    judge: [],
    phrases: ["i earned this", "we did it ourselves", "i worked hard for this"],
    end: EXCLAIM,
  },
  realization: {
    feel: [],
    judge: [],
    phrases: [
      "i just realized it",
      "oh, now i see",
      "it finally clicked",
      "i never noticed that before",
    ],
    end: STATEMENT,
  },
  relief: {
    feel: ["relieved", "at ease"],
    judge: ["reassuring"],
    phrases: ["what a relief", "phew, it is over", "i can finally relax"],
    end: STATEMENT,
  },
  remorse: {
    feel: ["sorry", "guilty", "regretful"],
    judge: [],
    phrases: ["i regret what i said", "i should not have done that", "i apologize for it"],
    end: STATEMENT,
  },
  sadness: {
    feel: ["sad", "depressed", "lonely", "miserable", "down"],
    judge: ["sad", "depressing", "heartbreaking"],
    phrases: ["it makes me cry", "i feel so empty inside"],
    end: STATEMENT,
  },
  surprise: {
    feel: ["surprised", "shocked", "stunned", "amazed"],
    judge: ["unexpected", "shocking", "unbelievable"],
    phrases: ["wow, i did not see that coming", "i can not believe it"],
    end: EXCLAIM,
  },
  neutral: {
    feel: [],
    judge: ["fine", "normal", "ordinary"],
    phrases: [
      "the store opens at nine",
      "i will check it later",
      "it is on the table",
      "we talked about the schedule",
      "the train leaves at noon",
      "i read the report",
    ],
    end: STATEMENT,
  },
});

/** The emotion-neutral openings, four words each: the prompts. */
export const SYNTHETIC_EMOTION_OPENINGS: readonly string[] = Object.freeze([
  "after the meeting today,",
  "when i read this,",
  "after talking to mom,",
  "when the results came,",
  "after the game yesterday,",
  "now that it happened,",
  "reading your message again,",
  "after work this evening,",
  "when i heard that,",
  "looking at the photos,",
  "after the long trip,",
  "when the call ended,",
  "thinking about it now,",
  "after class this morning,",
  "when my sister called,",
  "seeing the news today,",
  "after dinner last night,",
  "when we finally arrived,",
  "listening to that song,",
  "after the doctor visit,",
  "when the package came,",
  "after the first week,",
  "reading the comments here,",
  "when i got home,",
]);

const INTENSIFIERS = ["", "so ", "really ", "very ", "truly "] as const;
const FEEL_FRAMES = ["i am ", "i feel ", "it makes me "] as const;
const JUDGE_FRAMES = ["that is ", "this was ", "honestly it is "] as const;
const TURN_FRAME = ["i thought i would feel ", ", but "] as const;
const JOIN = ", and ";

/** Words of the synthetic emotion grammar, punctuation included, in first-seen order. */
export const SYNTHETIC_EMOTION_WORDS: readonly string[] = Object.freeze(collectWords());

function collectWords(): string[] {
  const texts: string[] = [...SYNTHETIC_EMOTION_OPENINGS, ...INTENSIFIERS, ...FEEL_FRAMES];
  texts.push(...JUDGE_FRAMES, ...TURN_FRAME, JOIN);
  for (const lex of Object.values(SYNTHETIC_EMOTION_LEXICON)) {
    texts.push(...lex.feel, ...lex.judge, ...lex.phrases, ...lex.end);
  }
  const words: string[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    for (const w of text.match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? []) {
      if (!seen.has(w)) {
        seen.add(w);
        words.push(w);
      }
    }
  }
  return words;
}

/** Options of {@link generateSyntheticEmotions}. */
export interface SyntheticEmotionOptions {
  /** Seed of every draw (default 0). */
  seed?: number;
  /** Labels to draw from, uniformly (default: all 28). */
  emotions?: readonly string[];
  /** Fraction of texts that name another feeling first and turn with "but" (default 0.15). */
  turnFraction?: number;
  /** Fraction of texts with two labels (default 0.1). */
  twoLabelFraction?: number;
}

/**
 * The first `n` whitespace-separated words of a text (the go_emotions tutorial's prompts:
 * `" ".join(text.split()[:4])`).
 *
 * @param text A text.
 * @param n How many words (default 4).
 */
export function firstWords(text: string, n = 4): string {
  return text.split(/\s+/).filter(Boolean).slice(0, n).join(" ");
}

function checkedEmotion(name: string): string {
  if (!Object.hasOwn(SYNTHETIC_EMOTION_LEXICON, name)) {
    throw new Error(
      `synthetic emotions: no label "${name}"; the labels are ${GO_EMOTIONS_LABELS.join(", ")}`,
    );
  }
  return name;
}

/** One continuation clause for `emotion`, without end punctuation. */
function clause(rng: Rng, emotion: string): string {
  const lex = SYNTHETIC_EMOTION_LEXICON[emotion];
  const kinds: ["feel" | "judge" | "phrase", number][] = [];
  if (lex.feel.length) kinds.push(["feel", 0.35]);
  if (lex.judge.length) kinds.push(["judge", 0.25]);
  if (lex.phrases.length) kinds.push(["phrase", 0.4]);
  const total = kinds.reduce((a, [, w]) => a + w, 0);
  let u = rng.random() * total, kind = kinds[kinds.length - 1][0];
  for (const [k, w] of kinds) {
    if (u < w) {
      kind = k;
      break;
    }
    u -= w;
  }
  if (kind === "phrase") return rng.pick(lex.phrases);
  const frames = kind === "feel" ? FEEL_FRAMES : JUDGE_FRAMES;
  return rng.pick(frames) + rng.pick(INTENSIFIERS) +
    rng.pick(kind === "feel" ? lex.feel : lex.judge);
}

/**
 * Write one SYNTHETIC text for `emotion`.
 *
 * @param rng The generator to draw from.
 * @param emotion The main label (one of GoEmotions' 28).
 * @param options Turn and two-label fractions, and the labels a second one is drawn from.
 */
export function writeSyntheticEmotion(
  rng: Rng,
  emotion: string,
  options: Omit<SyntheticEmotionOptions, "seed"> = {},
): SyntheticEmotionText {
  checkedEmotion(emotion);
  const pool = options.emotions ?? GO_EMOTIONS_LABELS;
  const turn = options.turnFraction ?? 0.15, two = options.twoLabelFraction ?? 0.1;
  const opening = rng.pick(SYNTHETIC_EMOTION_OPENINGS);
  const labels = [emotion];
  let body = clause(rng, emotion);
  const others = pool.filter((e) => e !== emotion && e !== "neutral");
  if (emotion !== "neutral" && rng.chance(turn)) {
    const withFeelings = GO_EMOTIONS_LABELS.filter((e) =>
      e !== emotion && SYNTHETIC_EMOTION_LEXICON[e].feel.length > 0
    );
    const other = SYNTHETIC_EMOTION_LEXICON[rng.pick(withFeelings)];
    body = TURN_FRAME[0] + rng.pick(other.feel) + TURN_FRAME[1] + body;
  } else if (
    emotion !== "neutral" && !body.endsWith("?") && others.length > 0 && rng.chance(two)
  ) {
    const second = rng.pick(others);
    labels.push(second);
    body = body + JOIN + clause(rng, second);
  }
  const end = body.endsWith("?")
    ? ""
    : rng.pick(SYNTHETIC_EMOTION_LEXICON[labels[labels.length - 1]].end);
  const continuation = body + end;
  const ids = labels.map((l) => GO_EMOTIONS_LABELS.indexOf(l)).sort((a, b) => a - b);
  return {
    text: `${opening} ${continuation}`,
    labels: ids,
    emotion,
    prompt: opening,
    continuation,
  };
}

/**
 * A seeded SYNTHETIC GoEmotions-like corpus: main labels drawn uniformly from `emotions`.
 *
 * @example
 * ```ts
 * import { generateSyntheticEmotions } from "@tether/rlhf/data";
 * const rows = generateSyntheticEmotions(1000, { seed: 1 });
 * const prompts = rows.toArray().map((r) => r.prompt); // "after the meeting today," …
 * ```
 *
 * @param count Number of texts.
 * @param options Seed, labels and the turn / two-label fractions.
 */
export function generateSyntheticEmotions(
  count: number,
  options: SyntheticEmotionOptions = {},
): Dataset<SyntheticEmotionText> {
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new RangeError(`count must be an integer >= 0, got ${count}`);
  }
  for (
    const [name, f] of [["turnFraction", options.turnFraction], [
      "twoLabelFraction",
      options.twoLabelFraction,
    ]] as const
  ) {
    if (f !== undefined && !(f >= 0 && f <= 1)) {
      throw new RangeError(`${name} must be in [0, 1], got ${f}`);
    }
  }
  const emotions = (options.emotions ?? GO_EMOTIONS_LABELS).map(checkedEmotion);
  if (emotions.length === 0) throw new RangeError("emotions must name at least one label");
  const rng = new Rng(options.seed ?? 0);
  const rows: SyntheticEmotionText[] = [];
  for (let i = 0; i < count; i++) {
    rows.push(writeSyntheticEmotion(rng, rng.pick(emotions), options));
  }
  return Dataset.from(rows);
}
