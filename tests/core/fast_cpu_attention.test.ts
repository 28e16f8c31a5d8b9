/**
 * The f32 `cpu` attention (heads on WebAssembly, split across threads) against the f64
 * reference on `cpu64`: values and all three gradients, causal and key-padding masks, left
 * padding that leaves query rows with no visible key, Tq < Tk (a KV cache) and Dv ≠ D.
 */

import assert from "node:assert/strict";
import { attention, Generator, tensor, tidy } from "../../core/mod.ts";

interface Case {
  shape: [number, number, number, number];
  tk: number;
  dv: number;
  causal: boolean;
  /** Per batch row: how many leading keys are padding (0: none; null: no mask). */
  leftPad: number[] | null;
  scale?: number;
}

const CASES: Record<string, Case> = {
  "plain, odd sizes": { shape: [2, 3, 17, 5], tk: 17, dv: 5, causal: false, leftPad: null },
  "causal + left padding (rows with no key)": {
    shape: [3, 2, 24, 16],
    tk: 24,
    dv: 16,
    causal: true,
    leftPad: [0, 5, 23],
  },
  "KV cache: 3 new queries over 40 keys, Dv ≠ D": {
    shape: [2, 4, 3, 8],
    tk: 40,
    dv: 12,
    causal: true,
    leftPad: [7, 0],
  },
  "decode step: 1 query over 13 keys, odd Dv, a fully padded row": {
    shape: [3, 2, 1, 10],
    tk: 13,
    dv: 11,
    causal: true,
    leftPad: [0, 4, 13],
  },
  "padding mask, custom scale, 64-wide heads": {
    shape: [2, 12, 33, 64],
    tk: 33,
    dv: 64,
    causal: false,
    leftPad: [0, 10],
    scale: 0.3,
  },
};

function run(c: Case, backend: string) {
  const g = new Generator(5);
  const [b, h, tq, d] = c.shape;
  const q = tensor(g.normal(b * h * tq * d), [b, h, tq, d], { backend, requiresGrad: true });
  const k = tensor(g.normal(b * h * c.tk * d), [b, h, c.tk, d], { backend, requiresGrad: true });
  const v = tensor(g.normal(b * h * c.tk * c.dv), [b, h, c.tk, c.dv], {
    backend,
    requiresGrad: true,
  });
  const dy = tensor(g.normal(b * h * tq * c.dv), [b, h, tq, c.dv], { backend });
  const mask = c.leftPad
    ? tensor(
      c.leftPad.flatMap((p) => Array.from({ length: c.tk }, (_, j) => (j < p ? 0 : 1))),
      [b, c.tk],
      { backend },
    )
    : undefined;
  const out = tidy(() => {
    const y = attention(q, k, v, { causal: c.causal, mask, scale: c.scale });
    y.backward(dy);
    return y.toFloat64ArraySync();
  });
  const r = [out, ...[q, k, v].map((t) => t.grad!.toFloat64ArraySync())];
  for (const t of [q, k, v, dy, ...(mask ? [mask] : [])]) t.dispose();
  return r;
}

for (const [name, c] of Object.entries(CASES)) {
  Deno.test(`fast cpu attention = f64 reference: ${name}`, () => {
    const got = run(c, "cpu"), want = run(c, "cpu64");
    ["out", "dq", "dk", "dv"].forEach((what, i) => {
      let scale = 0, worst = 0;
      for (const x of want[i]) scale = Math.max(scale, Math.abs(x));
      for (let j = 0; j < want[i].length; j++) {
        worst = Math.max(worst, Math.abs(got[i][j] - want[i][j]));
      }
      assert.ok(worst <= 2e-5 * Math.max(scale, 1e-3), `${what}: ${worst} (scale ${scale})`);
    });
  });
}
