import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  bootstrapAggregate,
  computeRouge,
  MersenneTwister,
  porterStem,
  rougeLsum,
  rougeTokenize,
} from "../../eval/mod.ts";
import { computeRouge as fromRoot } from "../../mod.ts";

// Values computed by rouge_score 0.1.2 itself (tools/extract_rouge_fixture.ts copies them).
const golden = JSON.parse(
  await Deno.readTextFile(fileURLToPath(new URL("../fixtures/rouge_golden.json", import.meta.url))),
);
const TOL = 1e-12;
const STEMS = [["stem_false", false], ["stem_true", true]] as const;

Deno.test("ROUGE: every rouge_score case (tokens and P/R/F of rouge1/2/3/L/Lsum, with and without stemming)", () => {
  const types: string[] = golden.case_rouge_types;
  let checked = 0;
  for (const c of golden.cases) {
    for (const [key, useStemmer] of STEMS) {
      const want = c[key];
      if (want.tokens) {
        assert.deepEqual(rougeTokenize(c.prediction, { useStemmer }), want.tokens.prediction, c.id);
        if (c.reference !== undefined) {
          assert.deepEqual(rougeTokenize(c.reference, { useStemmer }), want.tokens.reference, c.id);
        }
      }
      const refs = c.reference !== undefined ? [c.reference] : [c.references];
      const [got] = computeRouge([c.prediction], refs, {
        rougeTypes: types,
        useStemmer,
        useAggregator: false,
      });
      for (const type of types) {
        for (const m of ["precision", "recall", "fmeasure"] as const) {
          const d = Math.abs(got[type][m] - want.scores[type][m]);
          assert.ok(
            d <= TOL,
            `${c.id} ${key} ${type}.${m}: ${got[type][m]} vs ${want.scores[type][m]}`,
          );
          checked++;
        }
      }
    }
  }
  assert.equal(checked, golden.cases.length * 2 * types.length * 3);
});

Deno.test("ROUGE: nltk's Porter stems (NLTK_EXTENSIONS, irregular forms)", () => {
  for (const [word, stem] of golden.porter_stems) assert.equal(porterStem(word), stem, word);
  assert.equal(porterStem("dying"), "die");
  assert.equal(porterStem("generalization"), "gener");
});

Deno.test("ROUGE: the aggregator is evaluate's bootstrap, bit for bit, under seeds 42, 0, 1234", () => {
  const mt = new MersenneTwister(42);
  assert.deepEqual(
    Array.from({ length: 8 }, () => mt.nextUint32()),
    golden.corpus.mt19937_first_uint32_seed_42,
  );
  const { predictions, references } = golden.corpus;
  for (const [key, useStemmer] of STEMS) {
    const want = golden.corpus[key];
    const perPair = computeRouge(predictions, references, { useStemmer, useAggregator: false });
    for (const type of Object.keys(want.use_aggregator_false)) {
      assert.deepEqual(perPair.map((p) => p[type].fmeasure), want.use_aggregator_false[type]);
      let sum = 0;
      for (const p of perPair) sum += p[type].fmeasure;
      assert.equal(sum / perPair.length, want.mean_fmeasure[type]);
    }
    for (
      const [seed, b] of Object.entries(
        want.bootstrap as Record<string, Record<string, Record<string, unknown>>>,
      )
    ) {
      assert.deepEqual(
        computeRouge(predictions, references, { useStemmer, seed: Number(seed) }),
        b.evaluate_compute,
        `${key} seed ${seed}`,
      );
      const agg = bootstrapAggregate(perPair, { seed: Number(seed) });
      for (const type of Object.keys(b.evaluate_compute)) {
        assert.deepEqual(agg[type], b[type], `${key} seed ${seed} ${type}`);
      }
    }
  }
  // The default seed is 42 (evaluate after np.random.seed(42)); rougeL and rougeLsum differ
  // only through their separate stretches of the stream.
  const byDefault = computeRouge(predictions, references);
  assert.deepEqual(byDefault, golden.corpus.stem_false.bootstrap["42"].evaluate_compute);
  assert.notEqual(byDefault.rougeL, byDefault.rougeLsum);
  assert.deepEqual(fromRoot(predictions, references), byDefault);
});

Deno.test("ROUGE: one item is its own bootstrap; rougeN for any n up to 9; custom tokenizer", () => {
  const [one] = computeRouge(["a b c d"], ["a b x d"], {
    useAggregator: false,
    rougeTypes: ["rouge4", "rouge1"],
  });
  assert.deepEqual(one.rouge4, { precision: 0, recall: 0, fmeasure: 0 });
  assert.equal(one.rouge1.fmeasure, 0.75);
  assert.deepEqual(computeRouge(["a b c d"], ["a b x d"], { rougeTypes: ["rouge1"] }), {
    rouge1: 0.75,
  });
  // A tokenizer replaces everything, the stemmer included.
  const [custom] = computeRouge(["Running, dogs"], ["run dog"], {
    tokenizer: (t) => t.split(/\s+/),
    useStemmer: true,
    useAggregator: false,
    rougeTypes: ["rouge1"],
  });
  assert.equal(custom.rouge1.fmeasure, 0);
  assert.equal(
    rougeLsum([["w1", "w2", "w3", "w4", "w5"]], [["w1", "w2", "w6", "w7", "w8"], [
      "w1",
      "w3",
      "w8",
      "w9",
      "w5",
    ]]).recall,
    0.8,
  );
});

Deno.test("ROUGE: bad input fails naming what is wrong", () => {
  assert.throws(() => computeRouge(["a"], ["a", "b"]), /1 predictions but 2 references/);
  assert.throws(() => computeRouge([], []), /no predictions/);
  assert.throws(() => computeRouge(["a"], ["a"], { rougeTypes: ["rouge0"] }), /positive n/);
  assert.throws(
    () => computeRouge(["a"], ["a"], { rougeTypes: ["rougel"] }),
    /'rougel' is not one of/,
  );
  assert.throws(() => computeRouge(["a"], ["a"], { rougeTypes: ["rouge10"] }), /rouge10/);
  assert.throws(
    () => computeRouge(["a", "b"], [["a"], "b"] as string[][]),
    /reference 1 must be a list/,
  );
  assert.throws(() => computeRouge(["a"], [[]]), /at least one reference/);
});
