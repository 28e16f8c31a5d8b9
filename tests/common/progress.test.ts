// The drawing policy every progress kind shares; the wordings are pinned by the data, model-hub
// and trainer tests.
import assert from "node:assert/strict";
import {
  formatBytes,
  formatDuration,
  formatMetric,
  formatRate,
  Progress,
  ProgressBar,
  type ProgressEvent,
  type ProgressSink,
  progressSink,
  setProgressSink,
  stderrSink,
  type TransferWording,
} from "../../common/progress.ts";

function sink(terminal: boolean): ProgressSink & { text: string } {
  const out = {
    text: "",
    isTerminal: () => terminal,
    write: (chunk: string) => void (out.text += chunk),
  };
  return out;
}

const terse: TransferWording = {
  amount: (s) => `${s.bytes}/${s.size ?? "?"}${s.percent ?? ""}`,
  start: (s) => `<${s.label}`,
  line: (s) => `~${s.bytes}`,
  done: (s) => `>${s.bytes} in ${s.seconds}s`,
};

Deno.test("ProgressBar: a custom wording shapes terminal frames and log lines alike", () => {
  let now = 0;
  const tty = sink(true);
  const bar = new ProgressBar({ label: "f", total: 8, sink: tty, now: () => now, wording: terse });
  // Drawn at once, before any byte, so a slow first chunk still shows something.
  assert.equal(tty.text, "\rf [                        ] 0 B/8 B  0%\x1b[K");
  now = 500;
  bar.add(8);
  bar.finish();
  assert.ok(tty.text.endsWith("\rf [########################] 8 B/8 B100%\x1b[K\n"), tty.text);

  now = 0;
  const log = sink(false);
  const logged = new ProgressBar({
    label: "f",
    sink: log,
    now: () => now,
    logEveryMs: 1000,
    wording: terse,
  });
  for (const t of [400, 1000, 1500, 2100]) {
    now = t;
    logged.add(1);
  }
  logged.finish();
  logged.finish();
  assert.equal(log.text, "<f\n~2 B\n~4 B\n>4 B in 2.1s\n");
});

Deno.test("ProgressBar: an explicit undefined cadence keeps the default", () => {
  let now = 0;
  const log = sink(false);
  const bar = new ProgressBar({ label: "x", sink: log, now: () => now, logEveryMs: undefined });
  now = 4999;
  bar.add(1);
  now = 5000;
  bar.add(1);
  assert.equal(log.text.split("\n").filter(Boolean).length, 2, log.text);
});

Deno.test("Progress: in a log the step cadence decides, however fast the steps come", () => {
  const log = sink(false);
  const p = new Progress({ label: "rm", every: 1, sink: log, now: () => 0 });
  p.update(1, { loss: 0.25 });
  p.update(2, { loss: 1e-5 });
  p.finish();
  assert.deepEqual(log.text.trimEnd().split("\n"), [
    "rm step 1 | 1000.00 steps/s | loss 0.2500",
    "rm step 2 | 2000.00 steps/s | loss 1.000e-5",
  ]);
});

Deno.test("Progress: a run that never stepped ends silently in a log", () => {
  const log = sink(false);
  new Progress({ label: "ppo", sink: log, now: () => 0 }).finish();
  assert.equal(log.text, "");
});

Deno.test("formatBytes rounds fractional rates below 1 KiB; formatMetric keeps NaN visible", () => {
  assert.equal(formatBytes(170.67), "171 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(5 * 1024 ** 5), "5120.0 TiB");
  assert.equal(formatMetric(Number.NaN), "NaN");
  assert.equal(formatMetric(123456), "1.235e+5");
  assert.equal(formatMetric(0), "0.0000");
});

Deno.test("Progress: ETA and rate from the steps of this run (a resume's earlier steps excluded)", () => {
  let now = 0;
  const log = sink(false);
  // Resumed at step 10 of 30; each new step takes 2.5 s.
  const p = new Progress({
    label: "ppo",
    total: 30,
    start: 10,
    every: 5,
    sink: log,
    now: () => now,
  });
  for (let step = 11; step <= 20; step++) {
    now += 2500;
    p.update(step, { "env/reward_mean": step / 10, "objective/kl": 0.125 });
  }
  assert.deepEqual(log.text.trimEnd().split("\n"), [
    "ppo step 15/30 | 2.50 s/step | ETA 0:38 | env/reward_mean 1.5000 | objective/kl 0.1250",
    "ppo step 20/30 | 2.50 s/step | ETA 0:25 | env/reward_mean 2.0000 | objective/kl 0.1250",
  ]);
  const tty = sink(true);
  now = 0;
  const q = new Progress({ label: "ppo", total: 4, sink: tty, now: () => now });
  now = 500;
  q.update(1, {});
  assert.equal(tty.text, "\rppo step 1/4 [#####               ] | 2.00 steps/s | ETA 0:02\x1b[K");
});

Deno.test("Progress: a sink with a progress method gets events, not text", () => {
  let now = 0;
  const events: ProgressEvent[] = [];
  const structured: ProgressSink = {
    isTerminal: () => false,
    write: () => assert.fail("no text expected"),
    progress: (e) => events.push(e),
  };
  const p = new Progress({ label: "dpo", total: 4, sink: structured, now: () => now });
  now = 1000;
  p.update(1, { "train/loss": 0.5 });
  p.finish();
  p.finish();
  assert.deepEqual(events.map((e) => [e.step, e.stepsPerSecond, e.etaSeconds, e.done]), [
    [1, 1, 3, false],
    [1, 1, 3, true],
  ]);
  assert.deepEqual(events[0].stats, { "train/loss": 0.5 });
});

Deno.test("setProgressSink replaces the default sink of every progress line, and gives it back", () => {
  const mine = sink(false);
  const previous = setProgressSink(mine);
  try {
    assert.equal(previous, stderrSink);
    assert.equal(progressSink(), mine);
    const p = new Progress({ label: "sft", every: 1, now: () => 0 });
    p.update(1, { "train/loss": 1 });
    assert.match(mine.text, /^sft step 1 \| /);
  } finally {
    setProgressSink(previous);
  }
  assert.equal(progressSink(), stderrSink);
});

Deno.test("formatRate and formatDuration read as people read them", () => {
  assert.equal(formatRate(3.1), "3.10 steps/s");
  assert.equal(formatRate(0.8), "1.25 s/step");
  assert.equal(formatRate(0), "- steps/s");
  assert.equal(formatDuration(59.6), "1:00");
  assert.equal(formatDuration(3725), "1:02:05");
});
