import assert from "node:assert/strict";
import { DownloadProgress, formatBytes } from "../../../models/hub/progress.ts";

function sink(terminal: boolean) {
  const out = { text: "", isTerminal: () => terminal, write: (t: string) => void (out.text += t) };
  return out;
}

Deno.test("on a terminal the bar redraws in place, throttled", () => {
  const out = sink(true);
  let now = 0;
  const bar = new DownloadProgress({ label: "x/y", total: 1000, sink: out, now: () => now });
  now = 50;
  bar.add(100); // within 100 ms of the first draw: not redrawn
  now = 200;
  bar.add(400);
  bar.finish();
  const frames = out.text.split("\r").filter(Boolean);
  assert.equal(frames.length, 3);
  assert.ok(frames[1].startsWith(`x/y [${"#".repeat(12)}${" ".repeat(12)}]  50% 500 B/1000 B`));
  assert.ok(out.text.endsWith("\n"));
});

Deno.test("in a log, a plain line now and then", () => {
  const out = sink(false);
  let now = 0;
  const bar = new DownloadProgress({ label: "x/y", total: 4096, sink: out, now: () => now });
  for (let i = 1; i <= 4; i++) {
    now = i * 6000;
    bar.add(1024);
  }
  bar.finish();
  assert.deepEqual(out.text.split("\n").filter(Boolean), [
    "downloading x/y (4.0 KiB)",
    "  x/y:  50% 2.0 KiB/4.0 KiB 171 B/s",
    "  x/y: 100% 4.0 KiB/4.0 KiB 171 B/s",
    "  x/y: done, 4.0 KiB in 24.0 s",
  ]);
  assert.ok(!out.text.includes("\r"));
  assert.equal(formatBytes(1536), "1.5 KiB");
});
