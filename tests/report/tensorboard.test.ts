// TensorBoard event files: CRC-32C against RFC 3720's test vectors; a short tiny PPO run with
// reportTo "tensorboard" read back record by record (length, both masked CRCs, step, tag,
// value) finds every scalar of metrics.jsonl at its step, the sample tables as text and the
// reward histograms; a resumed writer marks the restart for TensorBoard.

import assert from "node:assert/strict";
import { readMetrics } from "../../algorithms/common/metrics.ts";
import { crc32c, maskedCrc32c } from "../../report/tensorboard/crc32c.ts";
import {
  decodeEvent,
  eventFiles,
  EventFileWriter,
  FILE_VERSION,
  readEventFile,
  readRecords,
} from "../../report/tensorboard/events.ts";
import { tinyPpoRun } from "./tiny_run.ts";

Deno.test("crc32c matches RFC 3720's test vectors and '123456789'", () => {
  const bytes = (f: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => f(i));
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(bytes(() => 0)), 0x8a9136aa);
  assert.equal(crc32c(bytes(() => 0xff)), 0x62a8ab43);
  assert.equal(crc32c(bytes((i) => i)), 0x46dd794e);
  assert.equal(crc32c(bytes((i) => 31 - i)), 0x113fdb5c);
  // Masking: rotate right by 15, add 0xa282ead8 (mod 2^32); here in BigInt arithmetic.
  const c = BigInt(crc32c(bytes((i) => i)));
  const rotated = ((c >> 15n) | (c << 17n)) & 0xffffffffn;
  assert.equal(BigInt(maskedCrc32c(bytes((i) => i))), (rotated + 0xa282ead8n) & 0xffffffffn);
});

/** Split an event file by hand: u64 length, masked CRC of it, data, masked CRC of the data. */
function recordsByHand(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: { length: number; data: Uint8Array }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = Number(view.getBigUint64(at, true));
    assert.equal(view.getUint32(at + 8, true), maskedCrc32c(bytes.subarray(at, at + 8)));
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(data.length, length, `record at ${at} is cut short`);
    assert.equal(view.getUint32(at + 12 + length, true), maskedCrc32c(data));
    out.push({ length, data });
    at += 12 + length + 4;
  }
  assert.equal(at, bytes.length);
  return out;
}

Deno.test("a tiny PPO run's event file holds every logged scalar, the sample tables and the histograms", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await tinyPpoRun(dir, { steps: 4, reportTo: "tensorboard", logSamplesEvery: 2 });
    const files = await eventFiles(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /events\.out\.tfevents\.\d+\.[^/]+\.\d+$/);
    const bytes = await Deno.readFile(files[0]);
    const records = recordsByHand(bytes);
    assert.deepEqual(readRecords(bytes).map((r) => r.length), records.map((r) => r.length));
    const events = records.map((r) => decodeEvent(r.data));
    assert.equal(events[0].fileVersion, FILE_VERSION);
    assert.equal(events[0].step, 0);
    for (const e of events) assert.ok(e.wallTime > 1.6e9 && e.wallTime < 4e9, `${e.wallTime}`);

    // Every scalar of every metrics.jsonl line, at its step, as an f32.
    const scalars = new Map<string, number>();
    for (const e of events) {
      for (const v of e.values) {
        if (v.scalar !== undefined) scalars.set(`${e.step}|${v.tag}`, v.scalar);
      }
    }
    const lines = await readMetrics(dir);
    assert.equal(lines.length, 4);
    let checked = 0;
    for (const line of lines) {
      for (const [tag, value] of Object.entries(line)) {
        if (tag === "step") continue;
        const got = scalars.get(`${line.step}|${tag}`);
        assert.ok(got !== undefined, `no scalar ${tag} at step ${line.step}`);
        assert.equal(got, Math.fround(value as number), `${tag} at step ${line.step}`);
        checked++;
      }
    }
    assert.equal(scalars.size, checked, "scalars that metrics.jsonl does not have");
    assert.ok(checked >= 4 * 30, `${checked} scalars`);

    // Sample tables as Markdown text (text plugin) at steps 1, 2, 4; histograms at every step.
    const texts = events.flatMap((e) =>
      e.values.filter((v) => v.tag === "completions").map((v) => ({ step: e.step, v }))
    );
    assert.deepEqual(texts.map((t) => t.step), [1, 2, 4]);
    for (const { v } of texts) {
      assert.equal(v.plugin, "text");
      assert.match(v.text!, /^\| prompt \| completion \| reward \| kl \|\n/);
      assert.equal(v.text!.split("\n").length, 2 + 4);
    }
    const histograms = events.flatMap((e) =>
      e.values.filter((v) => v.tag === "env/reward_dist").map((v) => ({ step: e.step, v }))
    );
    assert.deepEqual(histograms.map((h) => h.step), [1, 2, 3, 4]);
    for (const { v } of histograms) {
      assert.equal(v.histogram!.num, 8);
      assert.equal(v.histogram!.counts.reduce((a, b) => a + b, 0), 8);
      assert.equal(v.histogram!.limits.at(-1), v.histogram!.max);
    }
    const config = events.find((e) => e.values.some((v) => v.tag === "config/ppo"));
    assert.equal(config?.step, 0);
    assert.match(config!.values[0].text!, /"batchSize": 8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reopening a run folder appends to its event file; a resume marks the restart step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = EventFileWriter.open(dir, { now: () => 1_700_000_000_000 });
    first.scalars(1, { "a/b": 1.5 });
    first.scalars(2, { "a/b": 2.5 });
    first.close();
    const again = EventFileWriter.open(dir, { resumeStep: 1, now: () => 1_700_000_100_000 });
    again.scalars(2, { "a/b": -3 });
    again.close();
    const files = await eventFiles(dir);
    assert.equal(files.length, 1);
    const events = await readEventFile(files[0]);
    assert.deepEqual(
      events.map((e) => [e.step, e.fileVersion ?? e.sessionStatus ?? e.values[0].scalar]),
      [[0, FILE_VERSION], [1, 1.5], [2, 2.5], [2, 1], [2, -3]],
    );
    assert.equal(events[0].wallTime, 1_700_000_000);
    assert.equal(events[4].wallTime, 1_700_000_100);
    // A corrupted byte is caught by the CRC.
    const bytes = await Deno.readFile(files[0]);
    bytes[bytes.length - 6] ^= 1;
    assert.throws(() => readRecords(bytes), /data CRC mismatch/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
