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
