/**
 * A kernel-level profile: while one is running, the engine times every kernel it calls (and the
 * contiguous copies it makes) and tracks the peak of live tensor bytes, so a bench can say where
 * time and memory go by op name without a sampling profiler.
 *
 * @example
 * ```ts
 * import { matmul, ones, profileOps } from "@tether/rlhf/core";
 * const { result, profile } = profileOps(() => matmul(ones([64, 64]), ones([64, 64])));
 * console.log(profile.ops.matmul.calls); // 1
 * result.dispose();
 * ```
 *
 * @module
 */

/** Totals of one op over a profile. */
export interface OpTotals {
  /** Kernel calls. */
  calls: number;
  /** Milliseconds inside the kernel. */
  ms: number;
  /** Bytes of the outputs it allocated. */
  bytes: number;
}

/** What `profileOps` measured. */
export interface OpProfile {
  /** Per op name (`stridedCopy` includes the engine's contiguous copies). */
  ops: Record<string, OpTotals>;
  /** Highest live tensor bytes seen while profiling (all backends). */
  peakLiveBytes: number;
  /** Wall-clock milliseconds of the whole profiled call. */
  totalMs: number;
}

/** The profile being recorded, or null (the engine checks this on every kernel call). */
export let activeProfile: OpProfile | null = null;

/** Adds one kernel call to the active profile. */
export function recordKernel(op: string, ms: number, bytes: number): void {
  const p = activeProfile;
  if (!p) return;
  const t = p.ops[op] ??= { calls: 0, ms: 0, bytes: 0 };
  t.calls++;
  t.ms += ms;
  t.bytes += bytes;
}

/** Raises the active profile's peak of live bytes. */
export function recordLiveBytes(bytes: number): void {
  if (activeProfile && bytes > activeProfile.peakLiveBytes) activeProfile.peakLiveBytes = bytes;
}

const emptyProfile = (): OpProfile => ({ ops: {}, peakLiveBytes: 0, totalMs: 0 });

/** Opens a profile (null when one is already open: profiles do not nest). */
function openProfile(): { profile: OpProfile; close: () => void } | null {
  if (activeProfile) return null;
  const profile = emptyProfile();
  const t0 = performance.now();
  activeProfile = profile;
  return {
    profile,
    close: () => {
      profile.totalMs = performance.now() - t0;
      activeProfile = null;
    },
  };
}

/**
 * Runs `fn` while timing every kernel call by op name; profiles do not nest (an inner call
 * records into the outer profile and returns an empty one).
 */
export function profileOps<T>(fn: () => T): { result: T; profile: OpProfile } {
  const open = openProfile();
  if (!open) return { result: fn(), profile: emptyProfile() };
  try {
    return { result: fn(), profile: open.profile };
  } finally {
    open.close();
  }
}

/**
 * {@link profileOps} for async work (generation, a training step that reads back): the profile
 * stays open until `fn`'s promise settles, so it also records whatever else runs meanwhile.
 *
 * @example
 * ```ts
 * import { ones, profileOpsAsync } from "@tether/rlhf/core";
 * const { result, profile } = await profileOpsAsync(() => ones([256, 256]).toArray());
 * console.log(result.length, profile.peakLiveBytes >= 256 * 256 * 4); // 65536 true
 * ```
 */
export async function profileOpsAsync<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; profile: OpProfile }> {
  const open = openProfile();
  if (!open) return { result: await fn(), profile: emptyProfile() };
  try {
    return { result: await fn(), profile: open.profile };
  } finally {
    open.close();
  }
}

/** The profile as table rows, slowest op first: name, calls, ms, share of the total, MB. */
export function formatProfile(p: OpProfile, top = 20): string {
  const rows = Object.entries(p.ops).sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  const kernelMs = Object.values(p.ops).reduce((s, t) => s + t.ms, 0);
  const lines = [
    `total ${p.totalMs.toFixed(0)} ms, in kernels ${kernelMs.toFixed(0)} ms, peak live ` +
    `${(p.peakLiveBytes / 2 ** 20).toFixed(0)} MiB`,
  ];
  for (const [op, t] of rows) {
    lines.push(
      `  ${op.padEnd(22)} ${String(t.calls).padStart(6)} calls ${t.ms.toFixed(0).padStart(8)} ms ` +
        `${(100 * t.ms / p.totalMs).toFixed(1).padStart(5)}% ${
          (t.bytes / 2 ** 20).toFixed(0).padStart(7)
        } MiB out`,
    );
  }
  return lines.join("\n");
}
