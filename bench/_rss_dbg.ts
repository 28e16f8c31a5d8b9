import { memory } from "../core/mod.ts";
import { buildWorkload, peakRss, resetPeakRss } from "./gpt2_scale_workloads.ts";
import { pooledByteCount, poolStats } from "../core/backends/cpu/storage_pool.ts";
const rss = () => Number(Deno.readTextFileSync("/proc/self/status").split("\n").find((l) => l.startsWith("VmRSS:"))!.split(/\s+/)[1]) * 1024;
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
const log = (w: string) => console.log(w, "rss", mb(rss()), "hwm", mb(peakRss()), "live", mb(memory().bytes), "pool", mb(pooledByteCount()), JSON.stringify(poolStats));
const w = buildWorkload(Deno.args[0] ?? "lora_step");
resetPeakRss();
log("built");
for (let i = 0; i < 2; i++) { await w.run(); log("run"); }
