/**
 * The Porter stemmer as nltk runs it by default (`PorterStemmer()`, mode `NLTK_EXTENSIONS`),
 * which is what `rouge_score` uses with `use_stemmer=True`: Porter's 1980 algorithm with
 * Martin Porter's later corrections and nltk's own extensions (a table of irregular forms,
 * `ies`/`ied` on four-letter words, `y → i` only after a consonant, `alli` and `logi` handled
 * first, `fulli → ful`, and short words left alone).
 *
 * @module
 */

const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ["sky", "sky"],
  ["skies", "sky"],
  ["dying", "die"],
  ["lying", "lie"],
  ["tying", "tie"],
  ["news", "news"],
  ["innings", "inning"],
  ["inning", "inning"],
  ["outings", "outing"],
  ["outing", "outing"],
  ["cannings", "canning"],
  ["canning", "canning"],
  ["howe", "howe"],
  ["proceed", "proceed"],
  ["exceed", "exceed"],
  ["succeed", "succeed"],
]);

function isConsonant(word: string, i: number): boolean {
  const c = word[i];
  if (c === "a" || c === "e" || c === "i" || c === "o" || c === "u") return false;
  // "y" is a consonant at the start and after a vowel, a vowel after a consonant.
  if (c === "y") return i === 0 ? true : !isConsonant(word, i - 1);
  return true;
}

/** m in Porter's [C](VC)^m[V]: the number of vowel→consonant transitions. */
function measure(stem: string): number {
  let m = 0;
  for (let i = 1; i < stem.length; i++) {
    if (isConsonant(stem, i) && !isConsonant(stem, i - 1)) m++;
  }
  return m;
}

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

function endsDoubleConsonant(word: string): boolean {
  const n = word.length;
  return n >= 2 && word[n - 1] === word[n - 2] && isConsonant(word, n - 1);
}

/** *o: ends consonant–vowel–consonant, the last not w, x or y (nltk: also a two-letter VC). */
function endsCvc(word: string): boolean {
  const n = word.length;
  if (
    n >= 3 && isConsonant(word, n - 3) && !isConsonant(word, n - 2) && isConsonant(word, n - 1) &&
    !"wxy".includes(word[n - 1])
  ) return true;
  return n === 2 && !isConsonant(word, 0) && isConsonant(word, 1);
}

/** A rule: suffix (`*d` = a double consonant), replacement, condition on the stem. */
type Rule = readonly [suffix: string, replacement: string, when?: (stem: string) => boolean];

/**
 * The first rule whose suffix the word ends with decides: its replacement when the condition
 * holds, else the word unchanged (later rules are not tried).
 */
function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, when] of rules) {
    if (suffix === "*d") {
      if (endsDoubleConsonant(word)) {
        const stem = word.slice(0, -2);
        return !when || when(stem) ? stem + replacement : word;
      }
      continue;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return !when || when(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const positive = (stem: string) => measure(stem) > 0;
const moreThanOne = (stem: string) => measure(stem) > 1;

function step1a(word: string): string {
  if (word.endsWith("ies") && word.length === 4) return word.slice(0, -3) + "ie";
  return applyRules(word, [["sses", "ss"], ["ies", "i"], ["ss", "ss"], ["s", ""]]);
}

function step1b(word: string): string {
  if (word.endsWith("ied")) return word.slice(0, -3) + (word.length === 4 ? "ie" : "i");
  if (word.endsWith("eed")) {
    const stem = word.slice(0, -3);
    return measure(stem) > 0 ? stem + "ee" : word;
  }
  let stem: string | null = null;
  for (const suffix of ["ed", "ing"]) {
    if (word.endsWith(suffix)) {
      const candidate = word.slice(0, word.length - suffix.length);
      if (containsVowel(candidate)) {
        stem = candidate;
        break;
      }
    }
  }
  if (stem === null) return word;
  const last = stem[stem.length - 1];
  return applyRules(stem, [
    ["at", "ate"],
    ["bl", "ble"],
    ["iz", "ize"],
    ["*d", last, () => !"lsz".includes(last)],
    ["", "e", (s) => measure(s) === 1 && endsCvc(s)],
  ]);
}

function step1c(word: string): string {
  return applyRules(word, [["y", "i", (s) => s.length > 1 && isConsonant(s, s.length - 1)]]);
}

function step2(word: string): string {
  if (word.endsWith("alli") && positive(word.slice(0, -4))) {
    return step2(word.slice(0, -4) + "al");
  }
  return applyRules(word, [
    ["ational", "ate", positive],
    ["tional", "tion", positive],
    ["enci", "ence", positive],
    ["anci", "ance", positive],
    ["izer", "ize", positive],
    ["bli", "ble", positive],
    ["alli", "al", positive],
    ["entli", "ent", positive],
    ["eli", "e", positive],
    ["ousli", "ous", positive],
    ["ization", "ize", positive],
    ["ation", "ate", positive],
    ["ator", "ate", positive],
    ["alism", "al", positive],
    ["iveness", "ive", positive],
    ["fulness", "ful", positive],
    ["ousness", "ous", positive],
    ["aliti", "al", positive],
    ["iviti", "ive", positive],
    ["biliti", "ble", positive],
    ["fulli", "ful", positive],
    // The "l" of "logi" stays with the stem, so "geologi" keeps a positive measure.
    ["logi", "log", () => positive(word.slice(0, -3))],
  ]);
}

function step3(word: string): string {
  return applyRules(word, [
    ["icate", "ic", positive],
    ["ative", "", positive],
    ["alize", "al", positive],
    ["iciti", "ic", positive],
    ["ical", "ic", positive],
    ["ful", "", positive],
    ["ness", "", positive],
  ]);
}

function step4(word: string): string {
  return applyRules(word, [
    ["al", "", moreThanOne],
    ["ance", "", moreThanOne],
    ["ence", "", moreThanOne],
    ["er", "", moreThanOne],
    ["ic", "", moreThanOne],
    ["able", "", moreThanOne],
    ["ible", "", moreThanOne],
    ["ant", "", moreThanOne],
    ["ement", "", moreThanOne],
    ["ment", "", moreThanOne],
    ["ent", "", moreThanOne],
    ["ion", "", (s) => measure(s) > 1 && (s.endsWith("s") || s.endsWith("t"))],
    ["ou", "", moreThanOne],
    ["ism", "", moreThanOne],
    ["ate", "", moreThanOne],
    ["iti", "", moreThanOne],
    ["ous", "", moreThanOne],
    ["ive", "", moreThanOne],
    ["ize", "", moreThanOne],
  ]);
}

function step5a(word: string): string {
  // Both conditions are tried here (unlike the other steps' first-suffix-decides rule).
  if (!word.endsWith("e")) return word;
  const stem = word.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : word;
}

function step5b(word: string): string {
  return applyRules(word, [["ll", "l", () => measure(word.slice(0, -1)) > 1]]);
}

/**
 * The stem nltk's `PorterStemmer().stem(word)` returns (the word is lowercased first).
 *
 * @example
 * ```ts
 * import { porterStem } from "@tether/rlhf/eval";
 * porterStem("connections"); // "connect"
 * porterStem("dying"); // "die" (nltk's irregular forms)
 * ```
 *
 * @param word One word.
 */
export function porterStem(word: string): string {
  const lower = word.toLowerCase();
  const irregular = IRREGULAR.get(word);
  if (irregular !== undefined) return irregular;
  if (word.length <= 2) return lower;
  let stem = step1a(lower);
  stem = step1b(stem);
  stem = step1c(stem);
  stem = step2(stem);
  stem = step3(stem);
  stem = step4(stem);
  stem = step5a(stem);
  return step5b(stem);
}
