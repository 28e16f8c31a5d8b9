import assert from "node:assert/strict";
import {
  bf16BitsToF32,
  f16BitsToF32,
  f16BitsToF32Bits,
  toFloat32,
} from "../../../models/io/dtype.ts";

function bitsOf(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}

Deno.test("f16 bit patterns convert to the f32 values they denote", () => {
  // [half bits, f32 bits], derived from the IEEE 754 definitions by hand.
  const cases: [number, number][] = [
    [0x0000, 0x00000000], // +0
    [0x8000, 0x80000000], // -0
    [0x3c00, 0x3f800000], // 1
    [0xc000, 0xc0000000], // -2
    [0x7bff, 0x477fe000], // 65504, the largest half
    [0x0400, 0x38800000], // 2^-14, the smallest normal half
    [0x0001, 0x33800000], // 2^-24, the smallest subnormal half
    [0x03ff, 0x387fc000], // largest subnormal: 1023 · 2^-24
    [0x8001, 0xb3800000], // -2^-24
    [0x7c00, 0x7f800000], // +inf
    [0xfc00, 0xff800000], // -inf
    [0x7e00, 0x7fc00000], // quiet NaN
    [0x7c01, 0x7f802000], // signalling NaN payload kept
    [0x3555, 0x3eaaa000], // 0.333251953125
  ];
  for (const [half, single] of cases) {
    assert.equal(f16BitsToF32Bits(half), single, `half 0x${half.toString(16)}`);
  }
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
});

Deno.test("bf16 bit patterns are the top half of the f32", () => {
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0xbfc0), -1.5);
  assert.equal(bf16BitsToF32(0x4049), 3.140625);
  assert.equal(bitsOf(bf16BitsToF32(0x7f7f)), 0x7f7f0000);
  assert.equal(bf16BitsToF32(0xff80), -Infinity);
  assert.ok(Number.isNaN(bf16BitsToF32(0x7fc0)));
});

Deno.test("toFloat32 converts little-endian runs of every dtype", () => {
  const f16 = toFloat32(new Uint8Array([0x00, 0x3c, 0x01, 0x7c]), "F16");
  assert.deepEqual([...new Uint32Array(f16.buffer)], [0x3f800000, 0x7f802000]);
  const bf16 = toFloat32(new Uint8Array([0xc0, 0xbf, 0x80, 0x3f]), "BF16");
  assert.deepEqual([...bf16], [-1.5, 1]);
  const i64 = new BigInt64Array([-3n, 16777216n]);
  assert.deepEqual([...toFloat32(new Uint8Array(i64.buffer), "I64")], [-3, 16777216]);
  assert.deepEqual([...toFloat32(new Uint8Array(new Int32Array([-7, 9]).buffer), "I32")], [-7, 9]);
  assert.deepEqual([...toFloat32(new Uint8Array([1, 0, 1]), "BOOL")], [1, 0, 1]);
  assert.deepEqual([...toFloat32(new Uint8Array(new Float64Array([0.1]).buffer), "F64")], [
    Math.fround(0.1),
  ]);
});
