import assert from "node:assert/strict";
import {
  collateRecords,
  Dataset,
  EAGER_PERMUTATION_LIMIT,
  Rng,
  seededPermutation,
  StreamingDataset,
} from "../../data/mod.ts";

Deno.test("Rng: the same seed gives the same stream, different seeds differ", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const drawsA = Array.from({ length: 16 }, () => a.nextUint32());
  const drawsB = Array.from({ length: 16 }, () => b.nextUint32());
  const drawsC = Array.from({ length: 16 }, () => c.nextUint32());
  assert.deepEqual(drawsA, drawsB);
  assert.notDeepEqual(drawsA, drawsC);
});

Deno.test("Rng: int is in range and roughly uniform; random is in [0, 1)", () => {
  const rng = new Rng(7);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `counts ${counts}`);
  for (let i = 0; i < 10_000; i++) {
    const x = rng.random();
    assert.ok(x >= 0 && x < 1);
  }
  const big = 2 ** 40 + 3;
  for (let i = 0; i < 1000; i++) {
    const x = rng.int(big);
    assert.ok(Number.isInteger(x) && x >= 0 && x < big);
  }
  assert.throws(() => rng.int(0), RangeError);
  assert.throws(() => rng.intBetween(3, 3), RangeError);
});

Deno.test("Rng: fork gives an independent, reproducible stream", () => {
  const a = new Rng(1).fork();
  const b = new Rng(1).fork();
  assert.equal(a.nextUint32(), b.nextUint32());
});

Deno.test("Dataset: get, map, filter, select, slice, take, column, toArray", () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ id: i, even: i % 2 === 0 }));
  const ds = Dataset.from(rows);
  assert.equal(ds.length, 10);
  assert.deepEqual(ds.get(3), { id: 3, even: false });
  assert.throws(() => ds.get(10), /out of range/);
  assert.throws(() => ds.get(-1), /out of range/);
  assert.deepEqual(ds.map((r, i) => r.id * 10 + i).toArray(), rows.map((r) => r.id * 11));
  assert.deepEqual(ds.filter((r) => r.even).column("id"), [0, 2, 4, 6, 8]);
  assert.deepEqual(ds.select([9, 0, 9]).column("id"), [9, 0, 9]);
  assert.throws(() => ds.select([10]), /out of range/);
  assert.deepEqual(ds.slice(2, 5).column("id"), [2, 3, 4]);
  assert.deepEqual(ds.slice(-2).column("id"), [8, 9]);
  assert.deepEqual(ds.take(3).column("id"), [0, 1, 2]);
  assert.equal(ds.take(100).length, 10);
  assert.deepEqual([...ds.take(2)], rows.slice(0, 2));
});

Deno.test("Dataset: map is lazy until materialize", () => {
  let calls = 0;
  const mapped = Dataset.from([1, 2, 3]).map((x) => {
    calls++;
    return x * 2;
  });
  assert.equal(calls, 0);
  mapped.get(0);
  mapped.get(0);
  assert.equal(calls, 2);
  const stored = mapped.materialize();
  assert.equal(calls, 5);
  stored.get(0);
  assert.equal(calls, 5);
});

Deno.test("Dataset: seeded shuffle is a reproducible permutation", () => {
  const ds = Dataset.from(Array.from({ length: 1000 }, (_, i) => i));
  const a = ds.shuffle(123).toArray();
  const b = ds.shuffle({ seed: 123 }).toArray();
  const c = ds.shuffle(124).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, ds.toArray());
  assert.deepEqual([...a].sort((x, y) => x - y), ds.toArray());
});

Deno.test("seededPermutation: the lazy Feistel form is a bijection for awkward sizes", () => {
  for (const n of [1, 2, 3, 5, 17, 100, 1000, 4097]) {
    const permutation = seededPermutation(n, 9, true);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const j = permutation.at(i);
      assert.ok(j >= 0 && j < n && seen[j] === 0, `n=${n}: ${i} -> ${j}`);
      seen[j] = 1;
    }
    const again = seededPermutation(n, 9, true);
    for (let i = 0; i < n; i++) assert.equal(again.at(i), permutation.at(i));
  }
  const moved = Array.from({ length: 1000 }, (_, i) => seededPermutation(1000, 1, true).at(i));
  assert.ok(moved.filter((j, i) => j !== i).length > 900, "the permutation should scramble");
});

Deno.test("Dataset: shuffling 156 million lazy rows needs no table", () => {
  const n = 12_500 * 12_500;
  assert.ok(n > EAGER_PERMUTATION_LIMIT);
  const ds = Dataset.fromGetter(n, (i) => i).shuffle(5);
  const firstDraws = Array.from({ length: 1000 }, (_, i) => ds.get(i));
  assert.equal(new Set(firstDraws).size, 1000);
  for (const x of firstDraws) assert.ok(x >= 0 && x < n);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => Dataset.fromGetter(n, (k) => k).shuffle(5).get(i)),
    firstDraws.slice(0, 10),
  );
});

Deno.test("Dataset: trainTestSplit sizes, disjointness and determinism", () => {
  const ds = Dataset.from(Array.from({ length: 101 }, (_, i) => i));
  const { train, test } = ds.trainTestSplit({ testSize: 0.2, seed: 3 });
  assert.equal(test.length, 21);
  assert.equal(train.length, 80);
  const all = [...train, ...test].sort((a, b) => a - b);
  assert.deepEqual(all, ds.toArray());
  assert.deepEqual(ds.trainTestSplit({ testSize: 0.2, seed: 3 }).test.toArray(), test.toArray());
  const ordered = ds.trainTestSplit({ testSize: 10, shuffle: false });
  assert.deepEqual(ordered.test.toArray(), ds.toArray().slice(91));
  assert.throws(() => ds.trainTestSplit({ testSize: 0 }), RangeError);
  assert.throws(() => ds.trainTestSplit({ testSize: 101 }), RangeError);
  assert.throws(() => ds.trainTestSplit({ testSize: 1.5 }), RangeError);
});

Deno.test("Dataset: batches with collate and dropLast", () => {
  const ds = Dataset.from(Array.from({ length: 7 }, (_, i) => ({ x: i, y: `r${i}` })));
  assert.deepEqual([...ds.batches(3)].map((b) => b.length), [3, 3, 1]);
  assert.deepEqual([...ds.batches(3, { dropLast: true })].map((b) => b.length), [3, 3]);
  const collated = [...ds.batches(4, { collate: collateRecords })];
  assert.deepEqual(collated[1], { x: [4, 5, 6], y: ["r4", "r5", "r6"] });
  assert.throws(() => [...ds.batches(0)], RangeError);
});

Deno.test("Dataset: concat, sample", () => {
  const joined = Dataset.concat(Dataset.from([1, 2]), Dataset.from<number>([]), Dataset.from([3]));
  assert.deepEqual(joined.toArray(), [1, 2, 3]);
  const sampled = Dataset.from([1, 2, 3]).sample(50, 1);
  assert.equal(sampled.length, 50);
  assert.ok(sampled.every((x) => x >= 1 && x <= 3));
  assert.deepEqual(Dataset.from([1, 2, 3]).sample(50, 1), sampled);
});

Deno.test("StreamingDataset: map, filter, skip, take, batches, collect are re-iterable", async () => {
  const stream = StreamingDataset.from([1, 2, 3, 4, 5, 6, 7])
    .map((x) => x * 10)
    .filter((x) => x !== 30)
    .skip(1)
    .take(4);
  assert.deepEqual((await stream.collect()).toArray(), [20, 40, 50, 60]);
  assert.deepEqual((await stream.collect()).toArray(), [20, 40, 50, 60]);
  const batches = [];
  for await (const batch of stream.batches(3)) batches.push(batch);
  assert.deepEqual(batches, [[20, 40, 50], [60]]);
  assert.equal(await stream.count(), 4);
});

Deno.test("StreamingDataset: buffered shuffle keeps every row, seeded", async () => {
  const source = StreamingDataset.from(Array.from({ length: 500 }, (_, i) => i));
  const a = (await source.shuffle({ seed: 2, bufferSize: 64 }).collect()).toArray();
  const b = (await source.shuffle({ seed: 2, bufferSize: 64 }).collect()).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, Array.from({ length: 500 }, (_, i) => i));
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 500 }, (_, i) => i));
});

Deno.test("StreamingDataset: take stops reading the source early", async () => {
  let produced = 0;
  const stream = new StreamingDataset(async function* () {
    for (let i = 0; i < 1000; i++) {
      produced++;
      yield i;
    }
  });
  assert.deepEqual((await stream.take(3).collect()).toArray(), [0, 1, 2]);
  assert.equal(produced, 3);
});
