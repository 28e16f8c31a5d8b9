/**
 * TensorBoard event files (`events.out.tfevents.*`): TFRecord framing (a little-endian u64
 * length, the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data) around
 * `Event` protocol buffers. The first event names the file version (`brain.Event:2`); each
 * later one carries a wall time, a step and a `Summary` of scalars (`simple_value`), text (the
 * text plugin's string tensor, Markdown) or histograms (`HistogramProto`).
 *
 * Field numbers follow TensorBoard's `event.proto`, `summary.proto`, `tensor.proto` and
 * `histogram.proto`.
 *
 * @module
 */

import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { maskedCrc32c } from "./crc32c.ts";
import { asDouble, asDoubles, asFloat, ProtoWriter, readFields } from "./proto.ts";

/** The file version TensorBoard expects in the first event. */
export const FILE_VERSION = "brain.Event:2";

const DT_STRING = 7;
const SESSION_START = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of {@link EventFileWriter.open}. */
export interface EventFileWriterOptions {
  /**
   * A resumed run continues after this step: a `SessionLog.START` event at the next step tells
   * TensorBoard to drop the older events from that step on (the steps about to be redone).
   */
  resumeStep?: number;
  /** Wall clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

// One file per folder and process: a writer opened again on the same folder appends to it.
const filesOfThisProcess = new Map<string, string>();

/**
 * Writes one event file in a run folder, appending each event as it comes (TensorBoard reads
 * the file while it grows).
 *
 * @example
 * ```ts
 * import { EventFileWriter } from "@tether/rlhf/report";
 * const dir = await Deno.makeTempDir(); // a run folder, e.g. runs/demo
 * const events = EventFileWriter.open(dir);
 * events.scalars(1, { "env/reward_mean": 0.5, "objective/kl": 0.01 });
 * events.text(1, "completions", "| prompt | completion |\n|---|---|\n| a | b |");
 * events.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class EventFileWriter {
  /** The file written. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #now: () => number;

  private constructor(path: string, file: Deno.FsFile, now: () => number) {
    this.path = path;
    this.#file = file;
    this.#now = now;
  }

  /**
   * Open (creating the folder) `dir/events.out.tfevents.<seconds>.<host>.<pid>`: a new file the
   * first time this process writes to `dir`, the same file (appended to) after that.
   *
   * @param dir The run folder (TensorBoard's "run").
   * @param options Resume step and clock.
   */
  static open(dir: string, options: EventFileWriterOptions = {}): EventFileWriter {
    const now = options.now ?? (() => Date.now());
    Deno.mkdirSync(dir, { recursive: true });
    const key = resolve(dir);
    let path = filesOfThisProcess.get(key);
    const fresh = path === undefined;
    if (path === undefined) {
      const host = hostname().replace(/[^A-Za-z0-9._-]/g, "_") || "host";
      path = join(dir, `events.out.tfevents.${Math.floor(now() / 1000)}.${host}.${Deno.pid}`);
      filesOfThisProcess.set(key, path);
    }
    const file = Deno.openSync(path, { append: true, create: true });
    const writer = new EventFileWriter(path, file, now);
    if (fresh) writer.#write(new ProtoWriter().string(3, FILE_VERSION), 0);
    if (options.resumeStep !== undefined) {
      const start = new ProtoWriter().varint(1, SESSION_START).finish();
      writer.#write(new ProtoWriter().bytes(7, start), options.resumeStep + 1);
    }
    return writer;
  }

  /**
   * One event with a scalar per name (non-finite values are written as they are).
   *
   * @param step The step.
   * @param values Scalars by tag.
   */
  scalars(step: number, values: Readonly<Record<string, number>>): void {
    const summary = new ProtoWriter();
    for (const [tag, value] of Object.entries(values)) {
      summary.bytes(1, new ProtoWriter().string(1, tag).float(2, value).finish());
    }
    this.#summary(step, summary);
  }

  /**
   * A text summary (TensorBoard's Text tab renders it as Markdown, tables included).
   *
   * @param step The step.
   * @param tag Its tag.
   * @param markdown The text.
   */
  text(step: number, tag: string, markdown: string): void {
    const plugin = new ProtoWriter().string(1, "text").finish();
    const metadata = new ProtoWriter().bytes(1, plugin).finish();
    const tensor = new ProtoWriter()
      .varint(1, DT_STRING)
      .bytes(2, new Uint8Array(0)) // a scalar: a shape with no dimensions
      .bytes(8, encoder.encode(markdown))
      .finish();
    const value = new ProtoWriter().string(1, tag).bytes(8, tensor).bytes(9, metadata).finish();
    this.#summary(step, new ProtoWriter().bytes(1, value));
  }

  /**
   * A histogram of `values` in `bins` equal-width buckets (TensorBoard's Histograms and
   * Distributions tabs).
   *
   * @param step The step.
   * @param tag Its tag.
   * @param values The values (non-finite ones are left out).
   * @param bins Buckets (default 30).
   */
  histogram(step: number, tag: string, values: readonly number[], bins = 30): void {
    const finite = values.filter(Number.isFinite);
    if (finite.length === 0) return;
    const { limits, counts } = histogramBuckets(finite, bins);
    let sum = 0, sumSquares = 0, lo = Infinity, hi = -Infinity;
    for (const v of finite) {
      sum += v;
      sumSquares += v * v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const histo = new ProtoWriter()
      .double(1, lo)
      .double(2, hi)
      .double(3, finite.length)
      .double(4, sum)
      .double(5, sumSquares)
      .packedDoubles(6, limits)
      .packedDoubles(7, counts)
      .finish();
    const value = new ProtoWriter().string(1, tag).bytes(5, histo).finish();
    this.#summary(step, new ProtoWriter().bytes(1, value));
  }

  /** Close the file. */
  close(): void {
    this.#file.close();
  }

  #summary(step: number, summary: ProtoWriter): void {
    this.#write(new ProtoWriter().bytes(5, summary.finish()), step);
  }

  #write(what: ProtoWriter, step: number): void {
    const event = new ProtoWriter().double(1, this.#now() / 1000).varint(2, step);
    const body = what.finish();
    const data = new Uint8Array([...event.finish(), ...body]);
    const record = frameRecord(data);
    let written = 0;
    while (written < record.length) written += this.#file.writeSync(record.subarray(written));
  }
}

/**
 * Equal-width buckets over [min, max]: each bucket's right edge and count (one bucket when all
 * values are equal).
 *
 * @param values Finite values.
 * @param bins Number of buckets.
 */
export function histogramBuckets(
  values: readonly number[],
  bins: number,
): { limits: number[]; counts: number[] } {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (lo === hi) return { limits: [hi], counts: [values.length] };
  const width = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  const limits = counts.map((_, i) => (i === bins - 1 ? hi : lo + (i + 1) * width));
  return { limits, counts };
}

/**
 * One TFRecord: length, masked CRC-32C of the length, data, masked CRC-32C of the data.
 *
 * @param data The record's payload (an encoded `Event`).
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** One record read back, with both checksums verified. */
export interface EventRecord {
  /** Byte offset of the record in the file. */
  offset: number;
  /** Payload length, as stored. */
  length: number;
  /** The stored masked CRC-32C of the length bytes. */
  lengthCrc: number;
  /** The stored masked CRC-32C of the payload. */
  dataCrc: number;
  /** The payload. */
  data: Uint8Array;
}

/**
 * Split an event file into its records, checking both CRCs of each. Throws, naming the offset,
 * on a checksum mismatch or a truncated record.
 *
 * @param bytes The file's bytes.
 */
export function readRecords(bytes: Uint8Array): EventRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const records: EventRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`tfevents: truncated record header at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    const lengthCrc = view.getUint32(at + 8, true);
    if (lengthCrc !== maskedCrc32c(bytes.subarray(at, at + 8))) {
      throw new Error(`tfevents: length CRC mismatch at byte ${at}`);
    }
    if (at + 12 + length + 4 > bytes.length) {
      throw new Error(`tfevents: truncated record at byte ${at} (length ${length})`);
    }
    const data = bytes.subarray(at + 12, at + 12 + length);
    const dataCrc = view.getUint32(at + 12 + length, true);
    if (dataCrc !== maskedCrc32c(data)) {
      throw new Error(`tfevents: data CRC mismatch at byte ${at}`);
    }
    records.push({ offset: at, length, lengthCrc, dataCrc, data });
    at += 12 + length + 4;
  }
  return records;
}

/** A summary value read back. */
export interface SummaryValue {
  /** Its tag. */
  tag: string;
  /** A scalar (`simple_value`). */
  scalar?: number;
  /** A text summary's string. */
  text?: string;
  /** The plugin named in the value's metadata. */
  plugin?: string;
  /** A histogram. */
  histogram?: { min: number; max: number; num: number; limits: number[]; counts: number[] };
}

/** An event read back. */
export interface DecodedEvent {
  /** Seconds since the epoch. */
  wallTime: number;
  /** The step. */
  step: number;
  /** The first event's file version. */
  fileVersion?: string;
  /** A `SessionLog` status (1 = START). */
  sessionStatus?: number;
  /** Summary values. */
  values: SummaryValue[];
}

/**
 * Decode one `Event` (the fields this writer uses).
 *
 * @param data An encoded event.
 */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  const event: DecodedEvent = { wallTime: 0, step: 0, values: [] };
  for (const f of readFields(data)) {
    if (f.field === 1) event.wallTime = asDouble(f.value);
    else if (f.field === 2) event.step = f.value as number;
    else if (f.field === 3) event.fileVersion = decoder.decode(f.value as Uint8Array);
    else if (f.field === 7) {
      const status = readFields(f.value as Uint8Array).find((g) => g.field === 1);
      event.sessionStatus = (status?.value as number | undefined) ?? 0;
    } else if (f.field === 5) {
      for (const v of readFields(f.value as Uint8Array)) {
        if (v.field === 1) event.values.push(decodeValue(v.value as Uint8Array));
      }
    }
  }
  return event;
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  const value: SummaryValue = { tag: "" };
  for (const f of readFields(bytes)) {
    if (f.field === 1) value.tag = decoder.decode(f.value as Uint8Array);
    else if (f.field === 2) value.scalar = asFloat(f.value);
    else if (f.field === 8) {
      const s = readFields(f.value as Uint8Array).find((g) => g.field === 8);
      if (s) value.text = decoder.decode(s.value as Uint8Array);
    } else if (f.field === 9) {
      const pluginData = readFields(f.value as Uint8Array).find((g) => g.field === 1);
      const name = pluginData &&
        readFields(pluginData.value as Uint8Array).find((g) => g.field === 1);
      if (name) value.plugin = decoder.decode(name.value as Uint8Array);
    } else if (f.field === 5) {
      const h = { min: 0, max: 0, num: 0, limits: [] as number[], counts: [] as number[] };
      for (const g of readFields(f.value as Uint8Array)) {
        if (g.field === 1) h.min = asDouble(g.value);
        else if (g.field === 2) h.max = asDouble(g.value);
        else if (g.field === 3) h.num = asDouble(g.value);
        else if (g.field === 6) h.limits = asDoubles(g.value);
        else if (g.field === 7) h.counts = asDoubles(g.value);
      }
      value.histogram = h;
    }
  }
  return value;
}

/**
 * Read every event of an event file, checking each record's CRCs.
 *
 * @param path An `events.out.tfevents.*` file.
 */
export async function readEventFile(path: string): Promise<DecodedEvent[]> {
  return readRecords(await Deno.readFile(path)).map((r) => decodeEvent(r.data));
}

/**
 * The event files in a run folder, oldest name first.
 *
 * @param dir A run folder.
 */
export async function eventFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.includes("tfevents")) out.push(join(dir, e.name));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}
