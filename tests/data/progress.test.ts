import assert from "node:assert/strict";
import { formatBytes, ProgressBar, type ProgressSink } from "../../data/mod.ts";

function sink(terminal: boolean): ProgressSink & { text: string } {
  const out = {
    text: "",
    isTerminal: () => terminal,
    write: (chunk: string) => {
      out.text += chunk;
    },
  };
  return out;
}

Deno.test("ProgressBar: redraws in place on a terminal, throttled", () => {
  const out = sink(true);
  let now = 0;
  const bar = new ProgressBar({ label: "dl", total: 1000, sink: out, now: () => now });
  for (let i = 0; i < 10; i++) {
    now += 30;
    bar.add(100);
  }
  bar.finish();
  bar.finish();
  const frames = out.text.split("\r").filter((frame) => frame !== "");
  // 300 ms at one redraw per 100 ms gives about three frames, plus the final one.
  assert.ok(frames.length >= 3 && frames.length <= 5, `${frames.length} frames`);
  const last = frames[frames.length - 1];
  assert.ok(last.endsWith("\x1b[K\n"), "each frame clears the rest of the line");
  assert.match(last, /^dl \[#{24}\] 100% 1000 B of 1000 B, .*\/s/);
  assert.equal(out.text.split("\n").length, 2, "exactly one newline, at the end");
});

Deno.test("ProgressBar: prints a plain line now and then when not a terminal", () => {
  const out = sink(false);
  let now = 0;
  const bar = new ProgressBar({ label: "dl", total: 4096, sink: out, now: () => now });
  for (let i = 0; i < 4; i++) {
    now += 2000;
    bar.add(1024);
  }
  bar.finish();
  const lines = out.text.trimEnd().split("\n");
  assert.deepEqual(lines.map((line) => line.replace(/, [^,]*\/s$/, "")), [
    "dl: starting (4.0 KiB)",
    "dl:  75% 3.0 KiB of 4.0 KiB",
    "dl: done, 100% 4.0 KiB of 4.0 KiB",
  ]);
  assert.ok(!out.text.includes("\r"));
});

Deno.test("ProgressBar: unknown totals show bytes and rate", () => {
  const out = sink(false);
  const bar = new ProgressBar({ label: "x", sink: out, now: () => 1000 });
  bar.add(5);
  bar.finish();
  assert.match(out.text, /x: done, 5 B, /);
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
});
