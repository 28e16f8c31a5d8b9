/**
 * A SYNTHETIC summarization corpus in the layout of OpenAI's TL;DR data: Reddit-style posts
 * written by a seeded grammar, each with a known gist, so a summary can be checked against what
 * the post is about. It is not real data. It exists so tiny models can learn (and be judged on)
 * summarization offline, in seconds.
 *
 * - The gist of a post is who it is about (`person`), what happened (`problem`) and what the
 *   writer asks (`question`).
 * - The post states the problem in words that share keywords with the summary phrase, and adds
 *   distracting details (a cat, a job, a long week) that a summary should leave out.
 * - SFT rows are `{ prompt, label }` as `CarperAI/openai_summarize_tldr` stores them: the prompt
 *   is `SUBREDDIT: r/…\nTITLE: …\nPOST: …\nTL;DR:`, the label the reference summary after a space.
 * - Comparison rows are `{ prompt, chosen, rejected }` as `CarperAI/openai_summarize_comparisons`
 *   stores them: the prompt without the cue, each summary starting with `TL;DR: `. The chosen one
 *   carries the whole gist; the rejected one gets the person or the problem wrong, leaves the
 *   problem out, or summarizes a distraction ({@link gistScore} is strictly lower).
 *
 * @module
 */

import { Dataset } from "../dataset.ts";
import { Rng } from "../random.ts";

/** Someone a post is about, with the pronoun the post uses. */
interface Person {
  readonly name: string;
  readonly pronoun: "he" | "she";
}

const PERSONS: readonly Person[] = [
  { name: "girlfriend", pronoun: "she" },
  { name: "boyfriend", pronoun: "he" },
  { name: "roommate", pronoun: "she" },
  { name: "boss", pronoun: "he" },
  { name: "sister", pronoun: "she" },
  { name: "brother", pronoun: "he" },
  { name: "landlord", pronoun: "he" },
  { name: "neighbor", pronoun: "she" },
  { name: "coworker", pronoun: "he" },
  { name: "best friend", pronoun: "she" },
  { name: "mom", pronoun: "she" },
  { name: "dad", pronoun: "he" },
];

/**
 * A problem: the phrase a summary uses, the keywords that mark it, a title and the sentences a
 * post states it with (`{p}` is the pronoun, `{P}` the person).
 */
interface Problem {
  readonly summary: string;
  readonly keywords: readonly string[];
  readonly title: string;
  readonly subreddit: string;
  readonly post: readonly (readonly string[])[];
}

const PROBLEMS: readonly Problem[] = [
  {
    summary: "borrowed money and never paid it back",
    keywords: ["borrowed", "money"],
    title: "{P} will not pay back the money",
    subreddit: "personalfinance",
    post: [
      ["last month {p} borrowed money for rent.", "{p} never paid it back."],
      ["{p} borrowed money from me in march.", "it has been weeks and {p} never paid it back."],
    ],
  },
  {
    summary: "keeps eating my food",
    keywords: ["eating", "food"],
    title: "{P} keeps eating my food",
    subreddit: "relationships",
    post: [
      ["every night {p} is eating my food from the fridge.", "{p} keeps doing it."],
      ["i buy food for the week and {p} keeps eating it.", "my food is gone by tuesday."],
    ],
  },
  {
    summary: "forgot my birthday",
    keywords: ["forgot", "birthday"],
    title: "{P} forgot my birthday",
    subreddit: "relationships",
    post: [
      ["yesterday was my birthday.", "{p} forgot it completely."],
      ["{p} forgot my birthday this year.", "not even a text on my birthday."],
    ],
  },
  {
    summary: "reads my messages",
    keywords: ["reads", "messages"],
    title: "{P} reads my messages",
    subreddit: "relationships",
    post: [
      ["i found out that {p} reads my messages.", "{p} reads them when i sleep."],
      ["{p} reads my messages on my phone.", "i caught {p} last night."],
    ],
  },
  {
    summary: "wants me to work every weekend",
    keywords: ["work", "weekend"],
    title: "{P} wants me to work weekends",
    subreddit: "jobs",
    post: [
      ["{p} wants me to work every weekend now.", "i already work every weekday."],
      ["now {p} says i have to work every weekend.", "there is no extra pay for the weekend."],
    ],
  },
  {
    summary: "adopted a dog without asking me",
    keywords: ["adopted", "dog"],
    title: "{P} adopted a dog",
    subreddit: "pets",
    post: [
      ["on friday {p} adopted a dog.", "{p} did it without asking me."],
      ["{p} came home with a dog {p} adopted.", "nobody asked me about a dog."],
    ],
  },
  {
    summary: "is moving across the country",
    keywords: ["moving", "country"],
    title: "{P} is moving away",
    subreddit: "relationships",
    post: [
      ["{p} told me {p} is moving across the country.", "the move is in june."],
      ["{p} got a job across the country.", "{p} is moving there next month."],
    ],
  },
  {
    summary: "lied about the car accident",
    keywords: ["lied", "accident"],
    title: "{P} lied to me",
    subreddit: "legaladvice",
    post: [
      ["{p} had a car accident with my car.", "then {p} lied about the accident."],
      ["my car came back with a dent.", "{p} lied and said there was no accident."],
    ],
  },
  {
    summary: "wants to raise the rent",
    keywords: ["raise", "rent"],
    title: "{P} wants more rent",
    subreddit: "legaladvice",
    post: [
      ["{p} wants to raise the rent again.", "the rent went up last year too."],
      ["{p} sent a letter to raise the rent by a lot.", "i can not pay that rent."],
    ],
  },
  {
    summary: "plays loud music every night",
    keywords: ["loud", "music"],
    title: "{P} plays loud music",
    subreddit: "legaladvice",
    post: [
      ["{p} plays loud music every night.", "the music goes on until two."],
      ["every night the music is loud.", "{p} plays it and ignores my notes."],
    ],
  },
  {
    summary: "took credit for my project",
    keywords: ["credit", "project"],
    title: "{P} took credit for my work",
    subreddit: "jobs",
    post: [
      ["i worked on a project for months.", "in the meeting {p} took credit for the project."],
      ["{p} took credit for my project in front of everyone.", "the project was all mine."],
    ],
  },
  {
    summary: "wants to move in together",
    keywords: ["move", "together"],
    title: "{P} wants to move in",
    subreddit: "relationships",
    post: [
      ["{p} asked if we could move in together.", "{p} wants to move next month."],
      ["{p} wants us to move in together.", "i think it is too early to move."],
    ],
  },
];

/** What the writer asks: the summary's phrase and the post's sentence. */
interface Question {
  readonly summary: string;
  readonly post: string;
}

const QUESTIONS: readonly Question[] = [
  { summary: "what should i do?", post: "i do not know what i should do." },
  { summary: "how do i bring it up?", post: "i want to bring it up but do not know how." },
  { summary: "am i overreacting?", post: "maybe i am overreacting here." },
  { summary: "should i say something?", post: "i wonder if i should say something." },
];

/** Details a post mentions that a summary should leave out. */
const DISTRACTIONS: readonly string[] = [
  "i have a cat named max.",
  "we both work full time.",
  "it has been a long week.",
  "i started a new job in may.",
  "we live in a small apartment.",
  "i am trying to save money for school.",
  "my phone is very old.",
  "the weather has been bad.",
];

const DURATIONS = ["two months", "six months", "a year", "two years", "five years"];
const AGES = ["19", "22", "24", "27", "31", "35"];

/** The gist of a SYNTHETIC post: what a good summary says. */
export interface SummaryGist {
  /** Who the post is about ("girlfriend"). */
  person: string;
  /** What happened, as a summary puts it ("forgot my birthday"). */
  problem: string;
  /** Words that mark the problem in a summary. */
  problemKeywords: readonly string[];
  /** What the writer asks ("what should i do?"). */
  question: string;
}

/** One SYNTHETIC post with its gist and reference summary. */
export interface SyntheticSummaryPost {
  /** The post as the tutorial's SFT prompt: `SUBREDDIT: …\nTITLE: …\nPOST: …\nTL;DR:`. */
  prompt: string;
  /** The reference summary, after a space (the SFT set's `label`). */
  label: string;
  /** What the post is about. */
  gist: SummaryGist;
}

/** Why a rejected summary is worse than the chosen one. */
export type RejectedKind = "wrong_person" | "wrong_problem" | "no_problem" | "distraction";

/** One SYNTHETIC comparison, as the tutorial's comparison set stores it. */
export interface SyntheticSummaryComparison {
  /** The post without the `TL;DR:` cue: `SUBREDDIT: …\nTITLE: …\nPOST: …`. */
  prompt: string;
  /** The better summary, starting with `TL;DR: `. */
  chosen: string;
  /** The worse summary, starting with `TL;DR: `. */
  rejected: string;
  /** What is wrong with the rejected summary. */
  kind: RejectedKind;
  /** What the post is about. */
  gist: SummaryGist;
}

const REJECTED_KINDS: readonly RejectedKind[] = [
  "wrong_person",
  "wrong_problem",
  "no_problem",
  "distraction",
];

function fill(template: string, person: Person): string {
  return template.replaceAll("{P}", person.name).replaceAll("{p}", person.pronoun);
}

function otherThan<T>(rng: Rng, items: readonly T[], not: T): T {
  const index = items.indexOf(not);
  const k = rng.int(items.length - 1);
  return items[k >= index ? k + 1 : k];
}

/** A summary of a gist in one of the reference styles. */
function summarize(rng: Rng, person: string, problem: string, question: string): string {
  switch (rng.int(3)) {
    case 0:
      return `my ${person} ${problem}. ${question}`;
    case 1:
      return `${person} ${problem}, ${question}`;
    default:
      return `my ${person} ${problem}, ${question}`;
  }
}

interface Drawn {
  person: Person;
  problem: Problem;
  question: Question;
  body: string;
  gist: SummaryGist;
}

function drawPost(rng: Rng): Drawn {
  const person = rng.pick(PERSONS);
  const problem = rng.pick(PROBLEMS);
  const question = rng.pick(QUESTIONS);
  const sentences = [
    `my ${person.name} (${rng.pick(AGES)}) and i have known each other for ${rng.pick(DURATIONS)}.`,
    ...rng.pick(problem.post).map((s) => fill(s, person)),
  ];
  const distractions = rng.shuffleInPlace([...DISTRACTIONS]).slice(0, 1 + rng.int(2));
  // Distractions go before or after the problem, never inside it.
  const before = rng.chance(0.5);
  const body = [
    ...(before ? [sentences[0], ...distractions, ...sentences.slice(1)] : [
      ...sentences,
      ...distractions,
    ]),
    question.post,
  ].join(" ");
  return {
    person,
    problem,
    question,
    body,
    gist: {
      person: person.name,
      problem: problem.summary,
      problemKeywords: problem.keywords,
      question: question.summary,
    },
  };
}

function header(d: Drawn): string {
  return `SUBREDDIT: r/${d.problem.subreddit}\nTITLE: ${
    fill(d.problem.title, d.person)
  }\nPOST: ${d.body}`;
}

/**
 * Write one SYNTHETIC post with its reference summary.
 *
 * @param rng Generator to draw from.
 */
export function writeSyntheticSummaryPost(rng: Rng): SyntheticSummaryPost {
  const d = drawPost(rng);
  const reference = summarize(rng, d.person.name, d.problem.summary, d.question.summary);
  return { prompt: `${header(d)}\nTL;DR:`, label: ` ${reference}`, gist: d.gist };
}

/**
 * Write one SYNTHETIC comparison: a post, a summary with its whole gist (chosen) and a worse
 * one (rejected).
 *
 * @param rng Generator to draw from.
 */
export function writeSyntheticSummaryComparison(rng: Rng): SyntheticSummaryComparison {
  const d = drawPost(rng);
  const chosen = summarize(rng, d.person.name, d.problem.summary, d.question.summary);
  const kind = rng.pick(REJECTED_KINDS);
  let rejected: string;
  switch (kind) {
    case "wrong_person":
      rejected = summarize(
        rng,
        otherThan(rng, PERSONS, d.person).name,
        d.problem.summary,
        d.question.summary,
      );
      break;
    case "wrong_problem":
      rejected = summarize(
        rng,
        d.person.name,
        otherThan(rng, PROBLEMS, d.problem).summary,
        d.question.summary,
      );
      break;
    case "no_problem":
      rejected = noProblemSummary(d.gist);
      break;
    default:
      rejected = distractionSummary(rng, d.gist);
  }
  return {
    prompt: header(d),
    chosen: `TL;DR: ${chosen}`,
    rejected: `TL;DR: ${rejected}`,
    kind,
    gist: d.gist,
  };
}

/**
 * How much of a gist a summary states, in [0, 1]: a third each for naming the person, the
 * problem (all its keywords) and the question. Case and punctuation are ignored.
 *
 * @example
 * ```ts
 * import { generateSyntheticSummaries, gistScore } from "@tether/rlhf/data";
 * const post = generateSyntheticSummaries(1, { seed: 3 }).get(0);
 * gistScore(post.label, post.gist); // 1
 * ```
 *
 * @param summary A summary.
 * @param gist The post's gist.
 */
export function gistScore(summary: string, gist: SummaryGist): number {
  const words = ` ${summary.toLowerCase().replace(/[^a-z0-9?]+/g, " ").replace(/\?/g, " ?")} `;
  const has = (phrase: string) =>
    words.includes(` ${phrase.toLowerCase().replace(/[^a-z0-9?]+/g, " ").replace(/\?/g, " ?")} `);
  const person = has(gist.person) ? 1 : 0;
  const problem = gist.problemKeywords.every((k) => has(k)) ? 1 : 0;
  const question = has(gist.question) ? 1 : 0;
  return (person + problem + question) / 3;
}

/** Options of the SYNTHETIC summarization generators. */
export interface SyntheticSummaryOptions {
  /** Seed; the same seed gives the same corpus (default 0). */
  seed?: number;
  /**
   * Share of reference summaries written carelessly, as some human summaries are: half leave
   * the problem out, half summarize a distraction (default 0). The posts are the same at any
   * share; only those labels change.
   */
  carelessFraction?: number;
}

/** A summary that leaves the problem out. */
function noProblemSummary(gist: SummaryGist): string {
  return `my ${gist.person} is being weird. ${gist.question}`;
}

/** A summary of a distraction instead of the problem. */
function distractionSummary(rng: Rng, gist: SummaryGist): string {
  return `${rng.pick(DISTRACTIONS)} ${gist.question}`;
}

/**
 * A SYNTHETIC TL;DR SFT set: `count` posts with reference summaries.
 *
 * @example
 * ```ts
 * import { generateSyntheticSummaries } from "@tether/rlhf/data";
 * const rows = generateSyntheticSummaries(100, { seed: 1 });
 * console.log(rows.get(0).prompt.endsWith("\nTL;DR:"), rows.get(0).label);
 * ```
 *
 * @param count Number of posts.
 * @param options Seed and the share of careless labels.
 */
export function generateSyntheticSummaries(
  count: number,
  options: SyntheticSummaryOptions = {},
): Dataset<SyntheticSummaryPost> {
  const rng = new Rng(options.seed ?? 0);
  const share = options.carelessFraction ?? 0;
  if (!(share >= 0 && share <= 1)) {
    throw new Error(`carelessFraction must be in [0, 1], got ${share}`);
  }
  // Its own stream, so the posts do not depend on the share.
  const careless = new Rng((options.seed ?? 0) + 0x5eed);
  return Dataset.from(Array.from({ length: count }, () => {
    const post = writeSyntheticSummaryPost(rng);
    if (share === 0 || !careless.chance(share)) return post;
    const label = careless.chance(0.5)
      ? noProblemSummary(post.gist)
      : distractionSummary(careless, post.gist);
    return { ...post, label: ` ${label}` };
  }));
}

/**
 * A SYNTHETIC TL;DR comparison set: `count` posts, each with a chosen and a rejected summary.
 *
 * @param count Number of comparisons.
 * @param options Seed.
 */
export function generateSyntheticSummaryComparisons(
  count: number,
  options: SyntheticSummaryOptions = {},
): Dataset<SyntheticSummaryComparison> {
  const rng = new Rng(options.seed ?? 0);
  return Dataset.from(Array.from({ length: count }, () => writeSyntheticSummaryComparison(rng)));
}
