/**
 * `sampleTokens` behaviour, written once and run per backend: the filters keep exactly the
 * tokens Hugging Face's warpers keep, draws follow the filtered distribution (thousands of
 * identical rows in one call, counts within 5 standard deviations), seeds reproduce, greedy is
 * argmax, and bad options are refused by name.
 */

import assert from "node:assert/strict";
import { Generator, type SampleOptions, sampleTokens, tensor } from "../../core/mod.ts";

const ROWS = 4000;

async function counts(
  backend: string,
  row: number[],
  opts: SampleOptions,
): Promise<number[]> {
  const values = new Float32Array(ROWS * row.length);
  for (let r = 0; r < ROWS; r++) values.set(row, r * row.length);
  const logits = tensor(values, [ROWS, row.length], { backend });
  const ids = sampleTokens(logits, { seed: 1234, ...opts });
  const out = await ids.toArray();
  logits.dispose();
  ids.dispose();
  const c = new Array(row.length).fill(0);
  for (const id of out) c[id]++;
  return c;
}

/** Asserts the draw counts match `probs` (0 = never drawn) within 5 standard deviations. */
function assertDistribution(c: number[], probs: number[], what: string): void {
  const total = probs.reduce((a, b) => a + b, 0);
  probs.forEach((w, j) => {
    const p = w / total;
    if (p === 0) {
      assert.equal(c[j], 0, `${what}: token ${j} is filtered out but was drawn ${c[j]} times`);
      return;
    }
    const sd = Math.sqrt(ROWS * p * (1 - p));
    assert.ok(
      Math.abs(c[j] - ROWS * p) <= 5 * sd + 1,
      `${what}: token ${j} drawn ${c[j]} times, expected ${(ROWS * p).toFixed(0)} ± ${
        sd.toFixed(1)
      }`,
    );
  });
}

const logOf = (ps: number[]) => ps.map(Math.log);

/** Registers the sampling tests for `backend`. */
export function defineSampleSuite(
  backend: string,
  test: (name: string, fn: () => Promise<void> | void) => void = (name, fn) => Deno.test(name, fn),
): void {
  const tag = `sampleTokens[${backend}]`;

  test(`${tag}: no filter follows softmax`, async () => {
    const row = [0, 1, 2, -1];
    assertDistribution(await counts(backend, row, {}), row.map(Math.exp), "plain");
  });

  test(`${tag}: top-k keeps the k largest, ties at the k-th included`, async () => {
    const row = [1, 5, 3, 5, 2, 0];
    const e = row.map(Math.exp);
    assertDistribution(await counts(backend, row, { topK: 2 }), [0, e[1], 0, e[3], 0, 0], "k=2");
    assertDistribution(await counts(backend, row, { topK: 3 }), [0, e[1], e[2], e[3], 0, 0], "k=3");
    // The 5th largest ties with nothing; k = 1 with a tie at the top keeps both maxima.
    assertDistribution(await counts(backend, row, { topK: 1 }), [0, e[1], 0, e[3], 0, 0], "k=1");
  });

  test(`${tag}: top-p keeps the smallest most-likely set reaching p`, async () => {
    const probs = [0.1, 0.4, 0.2, 0.3];
    const row = logOf(probs);
    // Mass above 0.3 is 0.4 < 0.6: keep 0.3; above 0.2 is 0.7 >= 0.6: drop 0.2 and below.
    assertDistribution(await counts(backend, row, { topP: 0.6 }), [0, 0.4, 0, 0.3], "p=0.6");
    assertDistribution(await counts(backend, row, { topP: 0.75 }), [0, 0.4, 0.2, 0.3], "p=0.75");
    assertDistribution(await counts(backend, row, { topP: 0.3 }), [0, 0.4, 0, 0], "p=0.3");
  });

  test(`${tag}: temperature, then top-k, then top-p on the renormalized rest`, async () => {
    const row = logOf([0.5, 0.3, 0.2]);
    assertDistribution(
      await counts(backend, row, { temperature: 0.5 }),
      [0.25, 0.09, 0.04],
      "T=0.5",
    );
    const five = logOf([0.35, 0.25, 0.2, 0.1, 0.1]);
    // top-3 → [0.4375, 0.3125, 0.25]; top-p 0.7: mass above 0.25 is 0.75 >= 0.7, so drop it.
    assertDistribution(
      await counts(backend, five, { topK: 3, topP: 0.7 }),
      [0.35, 0.25, 0, 0, 0],
      "k=3,p=0.7",
    );
  });

  test(`${tag}: temperature 0 is greedy; shape [..., V] gives [...]`, async () => {
    const logits = tensor(
      [[[1, 9, 9, 2], [3, 1, 0, 2]], [[0, 0, 0, 0], [-1, -2, -3, 5]]],
      undefined,
      {
        backend,
      },
    );
    const ids = sampleTokens(logits, { temperature: 0 });
    assert.deepEqual(ids.shape, [2, 2]);
    assert.deepEqual([...await ids.toArray()], [1, 0, 0, 3]);
    const drawn = sampleTokens(logits, { seed: 3 });
    assert.deepEqual(drawn.shape, [2, 2]);
    for (const t of [logits, ids, drawn]) t.dispose();
  });

  test(`${tag}: the same seed draws the same tokens`, async () => {
    const g = new Generator(9);
    const logits = tensor(g.normal(64 * 500, 0, 2), [64, 500], { backend });
    const draw = async (o: SampleOptions) => {
      const t = sampleTokens(logits, { topK: 40, topP: 0.95, ...o });
      const v = [...await t.toArray()];
      t.dispose();
      return v;
    };
    assert.deepEqual(await draw({ seed: 5 }), await draw({ seed: 5 }));
    assert.deepEqual(
      await draw({ generator: new Generator(5) }),
      await draw({ seed: 5 }),
      "seed n means a fresh Generator(n)",
    );
    assert.notDeepEqual(await draw({ seed: 5 }), await draw({ seed: 6 }));
    logits.dispose();
  });

  test(`${tag}: invalid options are refused by name`, () => {
    const logits = tensor([[1, 2, 3]], undefined, { backend });
    assert.throws(() => sampleTokens(logits, { temperature: -1 }), /temperature must be/);
    assert.throws(() => sampleTokens(logits, { topK: 1.5 }), /topK must be an integer/);
    assert.throws(() => sampleTokens(logits, { topP: 0 }), /topP must be in \(0, 1\]/);
    assert.throws(() => sampleTokens(logits, { topP: 1.5 }), /topP must be in \(0, 1\]/);
    logits.dispose();
  });
}
