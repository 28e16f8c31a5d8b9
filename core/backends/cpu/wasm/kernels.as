// AssemblyScript source of the CPU backend's WebAssembly SIMD kernels; tools/build_wasm.ts
// compiles it into build/kernels_wasm.ts. The extension is `.as` (not `.ts`) so Deno's type
// checker, formatter and linter leave this non-TypeScript dialect alone.
//
// The matmul is split in three exports so the host can pack a shared right operand once per
// batch: packA and packB rearrange op(A) and op(B) into the panel layouts the micro-kernel reads
// with unit stride (zero-padded to whole panels), and gemm multiplies the panels. Pointers are
// byte offsets into this module's memory, which the host lays out itself.

// Micro-kernel tile: MR rows of C by NR columns (NR = two 4-lane vectors). 12 accumulators plus
// two B vectors and one broadcast A value fill 15 of the 16 x86 vector registers; wider or taller
// tiles spill (measured: 6x8 ~62 GFLOP/s, 4x8 ~55, 8x8 and 4x16 ~40 on one core).
const MR = 6;
const NR = 8;

/** First byte the host may use (after any static data). */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Packs op(A) (m x k; A is stored k x m when transA) into ceil(m / MR) row panels: panel p holds,
 * for each kk in [0, k), the MR values op(A)[p*MR + r, kk] (zero for rows past m).
 */
export function packA(a: usize, dst: usize, m: i32, k: i32, transA: bool): void {
  const panels = (m + MR - 1) / MR;
  for (let p = 0; p < panels; p++) {
    const i0 = p * MR;
    const rows = min(MR, m - i0);
    const base = dst + ((<usize>p * <usize>k * MR) << 2);
    if (transA) {
      let s = a + (<usize>i0 << 2);
      let d = base;
      const step = <usize>m << 2;
      if (rows == MR) {
        for (let kk = 0; kk < k; kk++) {
          v128.store(d, v128.load(s));
          store<u64>(d, load<u64>(s, 16), 16);
          s += step;
          d += MR << 2;
        }
      } else {
        for (let kk = 0; kk < k; kk++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(s + (<usize>r << 2)) : 0);
          }
          s += step;
          d += MR << 2;
        }
      }
    } else {
      for (let r = 0; r < MR; r++) {
        let d = base + (<usize>r << 2);
        if (r < rows) {
          let s = a + ((<usize>(i0 + r) * <usize>k) << 2);
          for (let kk = 0; kk < k; kk++) {
            store<f32>(d, load<f32>(s));
            s += 4;
            d += MR << 2;
          }
        } else {
          for (let kk = 0; kk < k; kk++) {
            store<f32>(d, 0);
            d += MR << 2;
          }
        }
      }
    }
  }
}

/**
 * Packs op(B) (k x n; B is stored n x k when transB) into ceil(n / NR) column panels: panel q
 * holds, for each kk in [0, k), the NR values op(B)[kk, q*NR + c] (zero for columns past n).
 */
export function packB(b: usize, dst: usize, k: i32, n: i32, transB: bool): void {
  const panels = (n + NR - 1) / NR;
  for (let q = 0; q < panels; q++) {
    const j0 = q * NR;
    const cols = min(NR, n - j0);
    const base = dst + ((<usize>q * <usize>k * NR) << 2);
    if (transB) {
      for (let c = 0; c < NR; c++) {
        let d = base + (<usize>c << 2);
        if (c < cols) {
          let s = b + ((<usize>(j0 + c) * <usize>k) << 2);
          for (let kk = 0; kk < k; kk++) {
            store<f32>(d, load<f32>(s));
            s += 4;
            d += NR << 2;
          }
        } else {
          for (let kk = 0; kk < k; kk++) {
            store<f32>(d, 0);
            d += NR << 2;
          }
        }
      }
    } else {
      let s = b + (<usize>j0 << 2);
      let d = base;
      const step = <usize>n << 2;
      if (cols == NR) {
        for (let kk = 0; kk < k; kk++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += step;
          d += NR << 2;
        }
      } else {
        for (let kk = 0; kk < k; kk++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(d + (<usize>c << 2), c < cols ? load<f32>(s + (<usize>c << 2)) : 0);
          }
          s += step;
          d += NR << 2;
        }
      }
    }
  }
}

/**
 * C (m x n, row-major, every element written) = packed A times packed B. `scratch` holds one
 * MR x NR tile for the edge tiles that stick out of C.
 */
export function gemm(ap: usize, bp: usize, c: usize, m: i32, k: i32, n: i32, scratch: usize): void {
  const rowPanels = (m + MR - 1) / MR;
  const colPanels = (n + NR - 1) / NR;
  const ldc = <usize>n << 2;
  for (let q = 0; q < colPanels; q++) {
    const bPanel = bp + ((<usize>q * <usize>k * NR) << 2);
    for (let p = 0; p < rowPanels; p++) {
      let pa = ap + ((<usize>p * <usize>k * MR) << 2);
      let pb = bPanel;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
      let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
      for (let kk = 0; kk < k; kk++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let a = v128.load32_splat(pa);
        c00 = f32x4.relaxed_madd(a, b0, c00);
        c01 = f32x4.relaxed_madd(a, b1, c01);
        a = v128.load32_splat(pa, 4);
        c10 = f32x4.relaxed_madd(a, b0, c10);
        c11 = f32x4.relaxed_madd(a, b1, c11);
        a = v128.load32_splat(pa, 8);
        c20 = f32x4.relaxed_madd(a, b0, c20);
        c21 = f32x4.relaxed_madd(a, b1, c21);
        a = v128.load32_splat(pa, 12);
        c30 = f32x4.relaxed_madd(a, b0, c30);
        c31 = f32x4.relaxed_madd(a, b1, c31);
        a = v128.load32_splat(pa, 16);
        c40 = f32x4.relaxed_madd(a, b0, c40);
        c41 = f32x4.relaxed_madd(a, b1, c41);
        a = v128.load32_splat(pa, 20);
        c50 = f32x4.relaxed_madd(a, b0, c50);
        c51 = f32x4.relaxed_madd(a, b1, c51);
        pa += MR << 2;
        pb += NR << 2;
      }
      const i0 = p * MR;
      const j0 = q * NR;
      const rows = min(MR, m - i0);
      const cols = min(NR, n - j0);
      const full = rows == MR && cols == NR;
      // A full tile goes straight to C; an edge tile goes through scratch and is clipped.
      let pc = full ? c + <usize>i0 * ldc + (<usize>j0 << 2) : scratch;
      const ld: usize = full ? ldc : NR << 2;
      v128.store(pc, c00);
      v128.store(pc, c01, 16);
      pc += ld;
      v128.store(pc, c10);
      v128.store(pc, c11, 16);
      pc += ld;
      v128.store(pc, c20);
      v128.store(pc, c21, 16);
      pc += ld;
      v128.store(pc, c30);
      v128.store(pc, c31, 16);
      pc += ld;
      v128.store(pc, c40);
      v128.store(pc, c41, 16);
      pc += ld;
      v128.store(pc, c50);
      v128.store(pc, c51, 16);
      if (!full) {
        for (let r = 0; r < rows; r++) {
          const dst = c + <usize>(i0 + r) * ldc + (<usize>j0 << 2);
          const src = scratch + ((<usize>r * NR) << 2);
          for (let cc = 0; cc < cols; cc++) {
            store<f32>(dst + (<usize>cc << 2), load<f32>(src + (<usize>cc << 2)));
          }
        }
      }
    }
  }
}

/**
 * S (rows x tk) = Q (rows x d) times K transposed, K row-major (tk x d), unpacked: the few query
 * rows of a decode step leave most of gemm's 6-row tile empty and its packing dominates. Each
 * sum runs over d in order with the same fused steps as gemm, so the scores are gemm's, bit for
 * bit; four keys share one vector, gathered from their rows.
 */
export function scoresRows(q: usize, k: usize, s: usize, rows: i32, tk: i32, d: i32): void {
  const ldk = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const qr = q + ((<usize>r * <usize>d) << 2);
    const sr = s + ((<usize>r * <usize>tk) << 2);
    let j = 0;
    for (; j + 4 <= tk; j += 4) {
      const k0 = k + <usize>j * ldk, k1 = k0 + ldk, k2 = k1 + ldk, k3 = k2 + ldk;
      let acc = f32x4.splat(0);
      for (let c = 0; c < d; c++) {
        const o = <usize>c << 2;
        let kv = f32x4.splat(load<f32>(k0 + o));
        kv = f32x4.replace_lane(kv, 1, load<f32>(k1 + o));
        kv = f32x4.replace_lane(kv, 2, load<f32>(k2 + o));
        kv = f32x4.replace_lane(kv, 3, load<f32>(k3 + o));
        acc = f32x4.relaxed_madd(v128.load32_splat(qr + o), kv, acc);
      }
      v128.store(sr + (<usize>j << 2), acc);
    }
    for (; j < tk; j++) {
      const kj = k + <usize>j * ldk;
      let acc = f32x4.splat(0);
      for (let c = 0; c < d; c++) {
        const o = <usize>c << 2;
        acc = f32x4.relaxed_madd(v128.load32_splat(qr + o), v128.load32_splat(kj + o), acc);
      }
      store<f32>(sr + (<usize>j << 2), f32x4.extract_lane(acc, 0));
    }
  }
}

/**
 * O (rows x dv) = P (rows x tk) times V (tk x dv), unpacked, for a few rows (see `scoresRows`):
 * each sum runs over tk in order with gemm's fused steps, so O is gemm's, bit for bit.
 */
export function weightedRows(p: usize, v: usize, o: usize, rows: i32, tk: i32, dv: i32): void {
  const ldv = <usize>dv << 2;
  for (let r = 0; r < rows; r++) {
    const pr = p + ((<usize>r * <usize>tk) << 2);
    const orow = o + <usize>r * ldv;
    let c = 0;
    for (; c + 8 <= dv; c += 8) {
      let vj = v + (<usize>c << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let j = 0; j < tk; j++) {
        const w = v128.load32_splat(pr + (<usize>j << 2));
        a0 = f32x4.relaxed_madd(w, v128.load(vj), a0);
        a1 = f32x4.relaxed_madd(w, v128.load(vj, 16), a1);
        vj += ldv;
      }
      v128.store(orow + (<usize>c << 2), a0);
      v128.store(orow + (<usize>c << 2), a1, 16);
    }
    for (; c < dv; c++) {
      let vj = v + (<usize>c << 2);
      let acc = f32x4.splat(0);
      for (let j = 0; j < tk; j++) {
        acc = f32x4.relaxed_madd(
          v128.load32_splat(pr + (<usize>j << 2)),
          v128.load32_splat(vj),
          acc,
        );
        vj += ldv;
      }
      store<f32>(orow + (<usize>c << 2), f32x4.extract_lane(acc, 0));
    }
  }
}

// ---- Elementwise kernels over n floats (the host pads buffers to whole vectors). ------------

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// exp(88) is the largest power this reduction scales without overflowing 2^127: above it the
// result is +Infinity (true f32 overflow starts at 88.72, a gap no caller here can see); below
// -87.3 the result would be subnormal, and is flushed to zero.
const EXP_MAX: f32 = 88.0;
const EXP_MIN: f32 = -87.3;
const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_A: f32 = 0.044715;

/** e^x per lane: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, times 2^n. */
// @ts-ignore: decorator
@inline
function expV(x: v128): v128 {
  // pmin/pmax are single x86 instructions (min/max with wasm's NaN rules are about seven), and
  // with x first they still pass a NaN through.
  const c = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(LOG2E)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.relaxed_madd(p, r, f32x4.splat(1.3981999507e-3));
  p = f32x4.relaxed_madd(p, r, f32x4.splat(8.3334519073e-3));
  p = f32x4.relaxed_madd(p, r, f32x4.splat(4.1665795894e-2));
  p = f32x4.relaxed_madd(p, r, f32x4.splat(1.6666665459e-1));
  p = f32x4.relaxed_madd(p, r, f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.relaxed_madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2^n: n + 127 + 2^23 holds n + 127 in its low mantissa bits; shifting them into the exponent
  // field drops the rest (cheaper than a saturating float-to-int conversion).
  const scale = i32x4.shl(f32x4.add(n, f32x4.splat(8388608 + 127)), 23);
  const e = v128.andnot(f32x4.mul(y, scale), f32x4.lt(x, f32x4.splat(EXP_MIN)));
  return v128.bitselect(f32x4.splat(Infinity), e, f32x4.gt(x, f32x4.splat(EXP_MAX)));
}

/** sigma(2u) with u = sqrt(2/pi) (x + 0.044715 x^3): 0.5 (1 + tanh u) without tanh. */
// @ts-ignore: decorator
@inline
function geluGate(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u2 = f32x4.mul(f32x4.splat(2 * GELU_K), f32x4.relaxed_madd(x3, f32x4.splat(GELU_A), x));
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(u2))));
}

/** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) = x sigma(2u). */
export function geluTanh(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, f32x4.mul(v, geluGate(v)));
  }
}

/** out = dy * d/dx geluTanh(x) = dy (s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)). */
export function geluTanhGrad(x: usize, dy: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const s = geluGate(v);
    const du = f32x4.mul(
      f32x4.splat(2 * GELU_K),
      f32x4.relaxed_madd(f32x4.mul(v, v), f32x4.splat(3 * GELU_A), f32x4.splat(1)),
    );
    const ds = f32x4.mul(f32x4.mul(s, f32x4.sub(f32x4.splat(1), s)), f32x4.mul(v, du));
    v128.store(out + o, f32x4.mul(v128.load(dy + o), f32x4.add(s, ds)));
  }
}

// ---- Row kernels over `rows` contiguous rows of c floats (no padding assumed). -----------------

/** Lane 0 of e^x for one float, with the vector code's rounding. */
// @ts-ignore: decorator
@inline
function expScalar(x: f32): f32 {
  return f32x4.extract_lane(expV(f32x4.splat(x)), 0);
}

/**
 * Per row: rowMax[r] = max_j x[r, j] and sumExp[r] (f64) = Σ_j e^(x[r, j] - rowMax[r]). The host
 * forms log-sum-exp in f64 from the two, which keeps its digits for logits in the thousands.
 */
export function rowMaxSumExp(x: usize, rowMax: usize, sumExp: usize, rows: i32, c: i32): void {
  const whole = c & ~3;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>c) << 2);
    // pmax skips NaN as the reference's `x > m` scan does; the sum still turns NaN.
    let mv = f32x4.splat(-Infinity);
    for (let j = 0; j < whole; j += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>j << 2)));
    let m: f32 = -Infinity;
    const l0 = f32x4.extract_lane(mv, 0), l1 = f32x4.extract_lane(mv, 1);
    const l2 = f32x4.extract_lane(mv, 2), l3 = f32x4.extract_lane(mv, 3);
    if (l0 > m) m = l0;
    if (l1 > m) m = l1;
    if (l2 > m) m = l2;
    if (l3 > m) m = l3;
    for (let j = whole; j < c; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      if (v > m) m = v;
    }
    const mvec = f32x4.splat(m);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let j = 0; j < whole; j += 4) {
      const e = expV(f32x4.sub(v128.load(row + (<usize>j << 2)), mvec));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)));
    }
    let s = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) +
      (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
    for (let j = whole; j < c; j++) s += <f64>expScalar(load<f32>(row + (<usize>j << 2)) - m);
    store<f32>(rowMax + (<usize>r << 2), m);
    store<f64>(sumExp + (<usize>r << 3), s);
  }
}

/**
 * out[r, j] = g[r] e^(x[r, j] - shift[r]): softmax rows (shift = max, g = 1 / sumExp) or a scaled
 * softmax gradient (shift = log-sum-exp, g = upstream gradient).
 */
export function expRowsScaled(x: usize, shift: usize, g: usize, out: usize, rows: i32, c: i32): void {
  const whole = c & ~3;
  for (let r = 0; r < rows; r++) {
    const offset = (<usize>r * <usize>c) << 2;
    const l = load<f32>(shift + (<usize>r << 2));
    const gr = load<f32>(g + (<usize>r << 2));
    const lv = f32x4.splat(l), gv = f32x4.splat(gr);
    for (let j = 0; j < whole; j += 4) {
      const o = offset + (<usize>j << 2);
      v128.store(out + o, f32x4.mul(gv, expV(f32x4.sub(v128.load(x + o), lv))));
    }
    for (let j = whole; j < c; j++) {
      const o = offset + (<usize>j << 2);
      store<f32>(out + o, gr * expScalar(load<f32>(x + o) - l));
    }
  }
}

// ---- Exact (erf) GELU: x Φ(x), Φ(x) = erfc(-x/√2) / 2 ---------------------------------------

const INV_SQRT2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

/**
 * Φ(x) per lane from erfc(z), z = |x|/√2, by the Chebyshev fit erfc(z) = t e^(-z² + P(t)),
 * t = 1 / (1 + z/2) (fractional error below 1.2e-7 for every z >= 0, so both tails keep their
 * relative precision): Φ = 1 - erfc/2 for x >= 0, erfc/2 below.
 */
// @ts-ignore: decorator
@inline
function normalCdf(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), f32x4.splat(INV_SQRT2));
  const t = f32x4.div(f32x4.splat(1), f32x4.relaxed_madd(z, f32x4.splat(0.5), f32x4.splat(1)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.relaxed_madd(p, t, f32x4.splat(-0.82215223));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(1.48851587));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(-1.13520398));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(0.27886807));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(-0.18628806));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(0.09678418));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(0.37409196));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(1.00002368));
  p = f32x4.relaxed_madd(p, t, f32x4.splat(-1.26551223));
  const half = f32x4.mul(f32x4.mul(t, expV(f32x4.sub(p, f32x4.mul(z, z)))), f32x4.splat(0.5));
  return v128.bitselect(
    f32x4.sub(f32x4.splat(1), half),
    half,
    f32x4.ge(x, f32x4.splat(0)),
  );
}

/** out = x Φ(x) (PyTorch's default, erf-based GELU). */
export function gelu(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, f32x4.mul(v, normalCdf(v)));
  }
}

/** out = dy (Φ(x) + x φ(x)), φ(x) = e^(-x²/2) / √(2π). */
export function geluGrad(x: usize, dy: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const pdf = f32x4.mul(
      expV(f32x4.mul(f32x4.mul(v, v), f32x4.splat(-0.5))),
      f32x4.splat(INV_SQRT_2PI),
    );
    v128.store(out + o, f32x4.mul(v128.load(dy + o), f32x4.relaxed_madd(v, pdf, normalCdf(v))));
  }
}

// ---- Attention score rows, in place (hidden keys arrive as -Infinity) -------------------------

/**
 * Per row of x [rows, c]: v = scale·x, then softmax(v) in place, and lse[r] = max + log Σ e^(v −
 * max) (sums in f64). Rows need at least one finite entry; the host handles rows with none.
 */
export function softmaxRowsInPlace(x: usize, lse: usize, rows: i32, c: i32, scale: f32): void {
  const whole = c & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>c) << 2);
    let mv = f32x4.splat(-Infinity);
    for (let j = 0; j < whole; j += 4) {
      const o = row + (<usize>j << 2);
      const v = f32x4.mul(v128.load(o), sv);
      v128.store(o, v);
      mv = f32x4.pmax(mv, v);
    }
    let m: f32 = -Infinity;
    for (let j = whole; j < c; j++) {
      const o = row + (<usize>j << 2);
      const v = load<f32>(o) * scale;
      store<f32>(o, v);
      if (v > m) m = v;
    }
    const l0 = f32x4.extract_lane(mv, 0), l1 = f32x4.extract_lane(mv, 1);
    const l2 = f32x4.extract_lane(mv, 2), l3 = f32x4.extract_lane(mv, 3);
    if (l0 > m) m = l0;
    if (l1 > m) m = l1;
    if (l2 > m) m = l2;
    if (l3 > m) m = l3;
    const m4 = f32x4.splat(m);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let j = 0; j < whole; j += 4) {
      const o = row + (<usize>j << 2);
      const e = expV(f32x4.sub(v128.load(o), m4));
      v128.store(o, e);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)));
    }
    let s = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) +
      (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
    for (let j = whole; j < c; j++) {
      const o = row + (<usize>j << 2);
      const e = expScalar(load<f32>(o) - m);
      store<f32>(o, e);
      s += <f64>e;
    }
    const inv = f32x4.splat(<f32>(1 / s));
    for (let j = 0; j < whole; j += 4) {
      const o = row + (<usize>j << 2);
      v128.store(o, f32x4.mul(v128.load(o), inv));
    }
    for (let j = whole; j < c; j++) {
      const o = row + (<usize>j << 2);
      store<f32>(o, load<f32>(o) * <f32>(1 / s));
    }
    store<f32>(lse + (<usize>r << 2), <f32>(<f64>m + Math.log(s)));
  }
}

/** Per row of x [rows, c], in place: x = e^(scale·x − lse[r]) (the probabilities again). */
export function expRowsShifted(x: usize, lse: usize, rows: i32, c: i32, scale: f32): void {
  const whole = c & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>c) << 2);
    const l = load<f32>(lse + (<usize>r << 2));
    const lv = f32x4.splat(l);
    for (let j = 0; j < whole; j += 4) {
      const o = row + (<usize>j << 2);
      v128.store(o, expV(f32x4.sub(f32x4.mul(v128.load(o), sv), lv)));
    }
    for (let j = whole; j < c; j++) {
      const o = row + (<usize>j << 2);
      store<f32>(o, expScalar(load<f32>(o) * scale - l));
    }
  }
}
