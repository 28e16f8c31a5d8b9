import assert from "node:assert/strict";
import { memory } from "../../core/mod.ts";
import { main, train } from "../../examples/train_tiny_mlp.ts";

Deno.test("the tiny MLP demo, shortened to 120 steps, cuts the loss to under a quarter", async () => {
  const before = memory();
  const lines: string[] = [];
  const r = await train({
    steps: 120,
    seed: 0,
    backend: "cpu",
    logEvery: 40,
    log: (l) => lines.push(l),
  });
  // Four balanced classes start near ln 4 ≈ 1.386.
  assert.ok(Math.abs(r.initialLoss - Math.log(4)) < 0.05, `initial loss ${r.initialLoss}`);
  assert.ok(r.finalLoss < 0.25 * r.initialLoss, `loss ${r.initialLoss} → ${r.finalLoss}`);
  assert.ok(r.trainAccuracy > 0.85, `train accuracy ${r.trainAccuracy}`);
  assert.ok(r.heldOutAccuracy > 0.85, `held-out accuracy ${r.heldOutAccuracy}`);
  assert.equal(lines.length, 3);
  assert.match(lines[2], /^step +120 {2}loss \d\.\d{4} {2}accuracy \d+\.\d% {2}lr /);
  assert.deepEqual(memory(), before, "the run frees everything it allocated");
});

Deno.test("the demo exits non-zero when it misses its target loss", async () => {
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await main(["--steps", "3", "--log-every", "0"]), 1);
  } finally {
    console.log = log;
  }
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await main(["--steps", "1.5"]), 2, "a usage error exits 2");
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors, [
    "train_tiny_mlp: bad --steps (1.5): use an integer >= 0, e.g. --steps 400",
  ]);
});
