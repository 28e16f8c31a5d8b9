// Checkpoints: exact resume on cpu64, in-place restore, atomic replacement and crash recovery.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CHECKPOINT_MANIFEST,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../algorithms/common/mod.ts";
import { decodeTensorFile } from "../../algorithms/common/tensor_file.ts";
import { Generator, mean, nn, optim, square, sub, tensor, tidy } from "../../core/mod.ts";

const BACKEND = "cpu64";

function makeModel(seed: number) {
  const g = new Generator(seed);
  return new nn.Sequential(
    new nn.Linear(3, 8, { generator: g, backend: BACKEND }),
    new nn.GELU(),
    new nn.Linear(8, 1, { generator: g, backend: BACKEND }),
  );
}

function makeOptim(model: nn.Sequential) {
  const opt = new optim.AdamW(model.parameters(), { lr: 0.05, weightDecay: 0.1 });
  const sched = optim.linearScheduleWithWarmup(opt, 3, 12);
  return { opt, sched };
}

/** The batch of step `s`: a fixed function of the step, so a resumed run sees the same data. */
function batch(s: number) {
  const g = new Generator(1000 + s);
  const x = g.normal(4 * 3), y = new Float64Array(4);
  for (let i = 0; i < 4; i++) y[i] = Math.sin(x[3 * i]) + 0.5 * x[3 * i + 1] * x[3 * i + 2];
  return {
    x: tensor(x, [4, 3], { backend: BACKEND }),
    y: tensor(y, [4, 1], { backend: BACKEND }),
  };
}

function trainSteps(
  model: nn.Sequential,
  o: ReturnType<typeof makeOptim>,
  from: number,
  to: number,
) {
  for (let s = from; s < to; s++) {
    tidy(() => {
      const { x, y } = batch(s);
      mean(square(sub(model.forward(x), y))).backward();
    });
    o.opt.step();
    o.sched.step();
    o.opt.zeroGrad();
  }
}

function flat(model: nn.Sequential): Float64Array {
  return Float64Array.from(model.parameters().flatMap((p) => [...p.toFloat64ArraySync()]));
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

Deno.test("resume: N steps straight equal N/2 + save + fresh objects + load + N/2 (cpu64)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const N = 12;
    const straight = makeModel(1);
    trainSteps(straight, makeOptim(straight), 0, N);

    const first = makeModel(1);
    const firstOpt = makeOptim(first);
    trainSteps(first, firstOpt, 0, N / 2);
    await saveCheckpoint(join(dir, "ckpt"), {
      model: first,
      optimizer: firstOpt.opt,
      scheduler: firstOpt.sched,
      step: N / 2,
      extra: { note: "half", pi: Math.PI },
    });

    const fresh = makeModel(77);
    const freshOpt = makeOptim(fresh);
    const before = fresh.parameters();
    const loaded = await loadCheckpoint(join(dir, "ckpt"), {
      model: fresh,
      optimizer: freshOpt.opt,
      scheduler: freshOpt.sched,
    });
    assert.equal(loaded.step, N / 2);
    assert.deepEqual(loaded.extra, { note: "half", pi: Math.PI });
    // Restored in place: the very same tensors, now holding the saved values.
    fresh.parameters().forEach((p, i) => assert.equal(p, before[i]));
    assert.equal(maxDiff(flat(fresh), flat(first)), 0);
    assert.equal(freshOpt.sched.lastStep, N / 2);
    trainSteps(fresh, freshOpt, N / 2, N);
    assert.ok(
      maxDiff(flat(fresh), flat(straight)) <= 1e-7,
      `diff ${maxDiff(flat(fresh), flat(straight))}`,
    );

    // The comparison can fail: resuming the weights without the optimizer state drifts away.
    const noState = makeModel(77);
    const noStateOpt = makeOptim(noState);
    await loadCheckpoint(join(dir, "ckpt"), { model: noState });
    trainSteps(noState, noStateOpt, N / 2, N);
    assert.ok(maxDiff(flat(noState), flat(straight)) > 1e-4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint files are safetensors at the backend's precision (F64 on cpu64)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = makeModel(3);
    const o = makeOptim(model);
    trainSteps(model, o, 0, 2);
    await saveCheckpoint(dir + "/c", { model, optimizer: o.opt, step: 2 });
    const file = decodeTensorFile(await Deno.readFile(join(dir, "c", "model.safetensors")), "m");
    assert.deepEqual([...file.keys()], ["0.weight", "0.bias", "2.weight", "2.bias"]);
    const w = file.get("0.weight")!;
    assert.ok(w.data instanceof Float64Array);
    assert.deepEqual([...w.data], [...model.parameters()[0].toFloat64ArraySync()]);
    const opt = decodeTensorFile(
      await Deno.readFile(join(dir, "c", "optimizer.safetensors")),
      "o",
    );
    assert.deepEqual([...opt.keys()].slice(0, 2), ["state.0.expAvg", "state.0.expAvgSq"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model without a state dict is saved and restored by parameter index", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = makeModel(5), b = makeModel(6);
    const plain = (m: nn.Sequential) => ({ parameters: () => m.parameters() });
    await saveCheckpoint(join(dir, "p"), { model: plain(a), step: 0 });
    await loadCheckpoint(join(dir, "p"), { model: plain(b) });
    assert.equal(maxDiff(flat(a), flat(b)), 0);
    await assert.rejects(
      () => loadCheckpoint(join(dir, "p"), { model: plain(b), optimizer: makeOptim(b).opt }),
      /holds no optimizer state/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a non-finite weight never replaces the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = join(dir, "ckpt");
    const model = makeModel(7);
    await saveCheckpoint(ckpt, { model, step: 1 });
    const good = flat(model);
    const w = model.parameters()[0];
    w.backend.write(w.storage.handle, [NaN], 0);
    await assert.rejects(
      () => saveCheckpoint(ckpt, { model, step: 2 }),
      /'0\.weight' holds NaN at index 0; refusing to replace/,
    );
    const probe = makeModel(8);
    const loaded = await loadCheckpoint(ckpt, { model: probe });
    assert.equal(loaded.step, 1);
    assert.equal(maxDiff(flat(probe), good), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a non-finite optimizer moment, met after the weights are on disk, leaves no partial checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = join(dir, "ckpt");
    const model = makeModel(7);
    const o = makeOptim(model);
    trainSteps(model, o, 0, 2);
    await saveCheckpoint(ckpt, { model, optimizer: o.opt, step: 2 });
    const good = flat(model);
    trainSteps(model, o, 2, 3);
    // The optimizer file is streamed after the model file: the refusal comes mid-save.
    const [index, state] = [...o.opt.stateDict().state].at(-1)!;
    const moment = Object.values(state.buffers).at(-1)!;
    moment.backend.write(moment.storage.handle, [Infinity], 0);
    await assert.rejects(
      () => saveCheckpoint(ckpt, { model, optimizer: o.opt, step: 3 }),
      new RegExp(`optimizer tensor 'state\\.${index}\\.\\w+' holds Infinity at index 0`),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt"]);
    const probe = makeModel(8);
    assert.equal((await loadCheckpoint(ckpt, { model: probe })).step, 2);
    assert.equal(maxDiff(flat(probe), good), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an interrupted save leaves the last good checkpoint loadable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = join(dir, "ckpt");
    const m1 = makeModel(11), m2 = makeModel(12);
    await saveCheckpoint(ckpt, { model: m1, step: 1 });

    // Crash while writing the temporary folder: a half-written sibling without a manifest.
    await Deno.mkdir(`${ckpt}.tmp-dead`);
    await Deno.writeFile(`${ckpt}.tmp-dead/model.safetensors`, new Uint8Array(10));
    const probe = makeModel(13);
    assert.equal((await loadCheckpoint(ckpt, { model: probe })).step, 1);
    assert.equal(maxDiff(flat(probe), flat(m1)), 0);

    // Crash between the two renames: `ckpt` moved aside, the complete new one not yet in place.
    await saveCheckpoint(`${ckpt}.tmp-new`, { model: m2, step: 2 });
    await Deno.rename(ckpt, `${ckpt}.old-prev`);
    assert.ok(await hasCheckpoint(ckpt));
    const recovered = await loadCheckpoint(ckpt, { model: probe });
    assert.equal(recovered.step, 2);
    assert.equal(recovered.dir, `${ckpt}.tmp-new`);
    assert.equal(maxDiff(flat(probe), flat(m2)), 0);

    // The next save completes and clears every leftover.
    await saveCheckpoint(ckpt, { model: m1, step: 3 });
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["ckpt"]);
    assert.ok(await Deno.stat(join(ckpt, CHECKPOINT_MANIFEST)));
    await assert.rejects(
      () => loadCheckpoint(join(dir, "missing"), { model: probe }),
      /no checkpoint at .*missing/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loading a checkpoint into a model of another shape fails without changing it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await saveCheckpoint(join(dir, "c"), { model: makeModel(1), step: 0 });
    const g = new Generator(2);
    const other = new nn.Sequential(
      new nn.Linear(3, 4, { generator: g, backend: BACKEND }),
      new nn.GELU(),
      new nn.Linear(4, 1, { generator: g, backend: BACKEND }),
    );
    const before = Float64Array.from(
      other.parameters().flatMap((p) => [...p.toFloat64ArraySync()]),
    );
    await assert.rejects(() => loadCheckpoint(join(dir, "c"), { model: other }), /shape mismatch/);
    const after = Float64Array.from(
      other.parameters().flatMap((p) => [...p.toFloat64ArraySync()]),
    );
    assert.equal(maxDiff(before, after), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
