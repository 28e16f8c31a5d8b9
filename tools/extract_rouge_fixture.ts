/**
 * Copies the parts of the shared `rouge_score` reference (`reference/rouge/golden.json`, values
 * computed by rouge_score 0.1.2 and nltk's PorterStemmer) that the ROUGE tests compare against
 * into `tests/fixtures/rouge_golden.json`: every case's inputs, tokens and scores, the stems,
 * and the 20-item corpus with what `evaluate` returns under three seeds.
 *
 *   deno run -A tools/extract_rouge_fixture.ts --golden <path to golden.json>
 */

import { parseArgs } from "node:util";

// deno-lint-ignore no-explicit-any
type Json = any;

const MEASURES = ["precision", "recall", "fmeasure"];
type Scores = Record<string, Record<string, number>>;

function roundTrip(scores: Scores): Scores {
  return Object.fromEntries(
    Object.entries(scores).map((
      [type, s],
    ) => [type, Object.fromEntries(MEASURES.map((m) => [m, s[m]]))]),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      golden: { type: "string" },
      out: { type: "string", default: "tests/fixtures/rouge_golden.json" },
    },
  });
  if (!values.golden) throw new Error("--golden <path to reference/rouge/golden.json> is required");
  const g = JSON.parse(await Deno.readTextFile(values.golden));
  const cases = g.cases.map((c: Record<string, Json>) => ({
    id: c.id,
    prediction: c.prediction,
    ...(c.reference !== undefined ? { reference: c.reference } : { references: c.references }),
    ...Object.fromEntries(["false", "true"].map((st) => {
      const e = c.use_stemmer[st];
      return [`stem_${st}`, {
        ...(e.tokens?.prediction ? { tokens: e.tokens } : {}),
        scores: roundTrip(e.scores),
      }];
    })),
  }));
  const corpus = g.corpus;
  const out = {
    source: "rouge_score 0.1.2 (and nltk PorterStemmer 3.8.1, numpy 1.24.2) on these inputs",
    case_rouge_types: g.meta.case_rouge_types,
    cases,
    porter_stems: g.porter_stems.map((s: { word: string; stem: string }) => [s.word, s.stem]),
    corpus: {
      predictions: corpus.predictions,
      references: corpus.references,
      ...Object.fromEntries(["false", "true"].map((st) => {
        const u = corpus.use_stemmer[st];
        return [`stem_${st}`, {
          use_aggregator_false: u.use_aggregator_false,
          mean_fmeasure: u.mean_fmeasure,
          bootstrap: Object.fromEntries(
            Object.entries(u.bootstrap as Record<string, Record<string, Json>>).map(([seed, b]) => [
              seed,
              {
                evaluate_compute: b.evaluate_compute,
                ...Object.fromEntries(
                  corpus.rouge_types.map((t: string) => [t, b[t]]),
                ),
              },
            ]),
          ),
        }];
      })),
      mt19937_first_uint32_seed_42: corpus.use_stemmer.false.bootstrap["42"].trace
        .mt19937_first_uint32_after_seed,
    },
  };
  await Deno.writeTextFile(values.out!, JSON.stringify(out) + "\n");
  console.log(`wrote ${values.out} (${cases.length} cases)`);
}
