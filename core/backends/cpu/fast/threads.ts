/**
 * How many threads the f32 `cpu` backend uses: `TETHER_CPU_THREADS` when set (like
 * `OMP_NUM_THREADS` for PyTorch: 1 keeps everything on the calling thread), else the hardware
 * threads, at most 8. Both the matmul's onnxruntime pool and the helper threads of split kernels
 * follow it.
 *
 * @module
 */

/** Most threads used when the variable is not set. */
const DEFAULT_MAX = 8;

function fromEnv(): string | undefined {
  try {
    // querySync never prompts, so a script run without --allow-env is not interrupted.
    const ok = Deno.permissions.querySync({ name: "env", variable: "TETHER_CPU_THREADS" });
    return ok.state === "granted" ? Deno.env.get("TETHER_CPU_THREADS") : undefined;
  } catch {
    return undefined;
  }
}

/** The thread count (≥ 1); throws naming the variable when it is not a positive integer. */
export function cpuThreads(): number {
  const raw = fromEnv();
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(
        `TETHER_CPU_THREADS must be a positive integer (threads for the cpu backend), got '${raw}'`,
      );
    }
    return n;
  }
  return Math.max(1, Math.min(navigator.hardwareConcurrency ?? 1, DEFAULT_MAX));
}
