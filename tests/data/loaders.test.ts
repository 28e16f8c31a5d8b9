import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { z } from "zod";
import {
  CsvTokenizer,
  DataParseError,
  DataValidationError,
  detectFormat,
  loadCsv,
  loadJson,
  loadJsonl,
  loadLocal,
  loadParquet,
  parseCsvRecords,
  readLines,
  streamJsonl,
  streamParquet,
  writeJsonl,
} from "../../data/mod.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tether-data-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ROWS = [
  { text: "plain", label: 1, tags: ["a", "b"] },
  { text: 'with "quotes", commas\nand a newline', label: 0, tags: [] },
  { text: "unicode: é 漢字 😀", label: 1, tags: ["ü"] },
];

Deno.test("JSONL: plain and gzipped files read back exactly, blank lines skipped", async () => {
  await withTempDir(async (dir) => {
    const plain = join(dir, "rows.jsonl");
    await Deno.writeTextFile(
      plain,
      ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n\n   \n",
    );
    assert.deepEqual((await loadJsonl(plain)).toArray(), ROWS);

    const gz = join(dir, "rows.jsonl.gz");
    await Deno.writeFile(gz, gzipSync(ROWS.map((r) => JSON.stringify(r)).join("\r\n")));
    assert.deepEqual((await loadJsonl(gz)).toArray(), ROWS);

    const written = join(dir, "written.jsonl.gz");
    await writeJsonl(written, ROWS);
    assert.deepEqual((await loadJsonl(written)).toArray(), ROWS);
    assert.deepEqual((await loadLocal(written)).toArray(), ROWS);
  });
});

Deno.test("JSONL: many rows across stream chunks keep their order and line numbers", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "many.jsonl.gz");
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ i, pad: "x".repeat(i % 97) }));
    await writeJsonl(path, rows);
    let expected = 0;
    for await (const row of streamJsonl<{ i: number }>(path)) assert.equal(row.i, expected++);
    assert.equal(expected, rows.length);
    const lines = [];
    for await (const line of readLines(path)) {
      lines.push(line.line);
      if (lines.length === 3) break;
    }
    assert.deepEqual(lines, [1, 2, 3]);
  });
});

Deno.test("JSONL: invalid JSON names the file and line", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.jsonl");
    await Deno.writeTextFile(path, '{"text": "ok", "label": 1}\n\n{"text": "broken", \n');
    const error = await loadJsonl(path).then(() => undefined, (e) => e);
    assert.ok(error instanceof DataParseError);
    assert.equal(error.row, 3);
    assert.match(error.message, /bad\.jsonl, line 3: invalid JSON/);
  });
});

Deno.test("JSONL: a schema failure names the file, line and field", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "rows.jsonl");
    await Deno.writeTextFile(
      path,
      ['{"text": "a", "label": 1}', '{"text": "b", "label": 0}', "", '{"text": 5, "label": 1}']
        .join("\n"),
    );
    const schema = z.object({ text: z.string(), label: z.number() });
    const error = await loadJsonl(path, { schema }).then(() => undefined, (e) => e);
    assert.ok(error instanceof DataValidationError);
    assert.equal(error.row, 4);
    assert.equal(error.field, "text");
    assert.match(error.message, /rows\.jsonl, line 4, field "text": .*expected string.*got 5/);

    const skipped: DataValidationError[] = [];
    const kept = await loadJsonl(path, {
      schema,
      invalidRows: "skip",
      onSkip: (e) => skipped.push(e),
    });
    assert.equal(kept.length, 2);
    assert.deepEqual(skipped.map((e) => e.row), [4]);
  });
});

Deno.test("CSV: quotes, escaped quotes, embedded newlines, CRLF, empty fields", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "reviews.csv");
    const text = "text,label,note\r\n" +
      '"He said ""wow"", then left",1,\r\n' +
      '"line one\nline two\r\nline three",0,"a,b"\r\n' +
      'bare text,1,""\r\n' +
      "\r\n" +
      '"",0,last';
    await Deno.writeTextFile(path, "\ufeff" + text);
    const expected = [
      { text: 'He said "wow", then left', label: "1", note: "" },
      { text: "line one\nline two\r\nline three", label: "0", note: "a,b" },
      { text: "bare text", label: "1", note: "" },
      { text: "", label: "0", note: "last" },
    ];
    assert.deepEqual((await loadCsv(path)).toArray(), expected);
    assert.deepEqual((await loadLocal(path)).toArray(), expected);
  });
});

Deno.test("CSV: records split at every possible chunk boundary parse the same", () => {
  const text = 'a,b\n"x ""q"" y","1\n2"\n"",z\r\nlast,"end"';
  const whole = parseCsvRecords(text);
  for (let cut = 0; cut <= text.length; cut++) {
    const tokenizer = new CsvTokenizer(",");
    const records = [...tokenizer.push(text.slice(0, cut)), ...tokenizer.push(text.slice(cut))];
    records.push(...tokenizer.finish());
    assert.deepEqual(records, whole, `cut at ${cut}`);
  }
  assert.deepEqual(whole.map((r) => r.fields), [
    ["a", "b"],
    ['x "q" y', "1\n2"],
    ["", "z"],
    ["last", "end"],
  ]);
  assert.deepEqual(whole.map((r) => r.line), [1, 2, 4, 5]);
});

Deno.test("CSV/TSV: tab delimiter by extension, gzip, explicit header", async () => {
  await withTempDir(async (dir) => {
    const tsv = join(dir, "goemo.tsv.gz");
    await Deno.writeFile(tsv, gzipSync('text\tlabels\nso happy\t17,0\n"tab\there"\t27\n'));
    assert.deepEqual((await loadCsv(tsv)).toArray(), [
      { text: "so happy", labels: "17,0" },
      { text: "tab\there", labels: "27" },
    ]);
    const headerless = join(dir, "raw.csv");
    await Deno.writeTextFile(headerless, "1,2\n3,4\n");
    assert.deepEqual((await loadCsv(headerless, { header: ["a", "b"] })).toArray(), [
      { a: "1", b: "2" },
      { a: "3", b: "4" },
    ]);
  });
});

Deno.test("CSV: malformed files fail with file and line", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, RegExp][] = [
      ['text,label\n"ok",1\n"unterminated,0\nmore\n', /line 3: unterminated quoted field/],
      ['text,label\n"ok",1\n"a"b,0\n', /line 3: unexpected character "b" after a closing quote/],
      ["text,label\nok,1\nextra,1,2\n", /line 3: expected 2 fields \(text, label\), found 3/],
      ["text,text\nok,1\n", /line 1: duplicate column name "text"/],
    ];
    for (const [i, [content, pattern]] of cases.entries()) {
      const path = join(dir, `bad${i}.csv`);
      await Deno.writeTextFile(path, content);
      const error = await loadCsv(path).then(() => undefined, (e) => e);
      assert.ok(error instanceof DataParseError, `case ${i}: ${error}`);
      assert.match(error.message, new RegExp(`bad${i}\\.csv, ${pattern.source}`));
    }
  });
});

Deno.test("CSV: a schema failure names the line where the record starts and the field", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "imdb.csv");
    await Deno.writeTextFile(path, 'text,label\n"multi\nline",1\n"next",positive\n');
    const schema = z.object({ text: z.string(), label: z.enum(["0", "1"]) });
    const error = await loadCsv(path, { schema }).then(() => undefined, (e) => e);
    assert.ok(error instanceof DataValidationError);
    assert.match(error.message, /imdb\.csv, line 4, field "label": .*got "positive"/);
  });
});

Deno.test("Parquet: written with hyparquet-writer, read back exactly (snappy and gzip)", async () => {
  await withTempDir(async (dir) => {
    const texts = ROWS.map((r) => r.text);
    const columnData = [
      { name: "text", data: texts, type: "STRING" as const },
      { name: "label", data: ROWS.map((r) => BigInt(r.label)), type: "INT64" as const },
      { name: "score", data: [0.5, -1.25, 3], type: "DOUBLE" as const },
    ];
    const expected = ROWS.map((r, i) => ({
      text: r.text,
      label: r.label,
      score: [0.5, -1.25, 3][i],
    }));
    const snappy = join(dir, "snappy.parquet");
    await Deno.writeFile(snappy, new Uint8Array(parquetWriteBuffer({ columnData })));
    assert.deepEqual((await loadParquet(snappy)).toArray(), expected);

    const gzip = join(dir, "gzip.parquet");
    await Deno.writeFile(
      gzip,
      new Uint8Array(parquetWriteBuffer({
        columnData,
        codec: "GZIP",
        compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
      })),
    );
    assert.deepEqual((await loadLocal(gzip)).toArray(), expected);
    assert.deepEqual((await loadParquet(gzip, { columns: ["label"] })).toArray(), [
      { label: 1 },
      { label: 0 },
      { label: 1 },
    ]);
  });
});

Deno.test("Parquet: list columns and several row groups stream in order", async () => {
  await withTempDir(async (dir) => {
    const n = 2500;
    const texts = Array.from({ length: n }, (_, i) => `comment ${i}`);
    const labels = Array.from({ length: n }, (_, i) => [BigInt(i % 28), BigInt((i * 7) % 28)]);
    const path = join(dir, "goemo.parquet");
    await Deno.writeFile(
      path,
      new Uint8Array(parquetWriteBuffer({
        columnData: [{ name: "text", data: texts }, { name: "labels", data: labels }],
        schema: [
          { name: "root", num_children: 2 },
          { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
          { name: "labels", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
          { name: "list", repetition_type: "REPEATED", num_children: 1 },
          { name: "element", type: "INT64", repetition_type: "REQUIRED" },
        ],
        rowGroupSize: 1000,
      })),
    );
    let i = 0;
    for await (const row of streamParquet<{ text: string; labels: number[] }>(path)) {
      assert.deepEqual(row, { text: texts[i], labels: labels[i].map(Number) });
      i++;
    }
    assert.equal(i, n);
  });
});

Deno.test("Parquet: schema failures name the file, 1-based row and field", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "labels.parquet");
    await Deno.writeFile(
      path,
      new Uint8Array(parquetWriteBuffer({
        columnData: [
          { name: "text", data: ["a", "b", "c"], type: "STRING" },
          { name: "label", data: [1, 0, 7], type: "INT32" },
        ],
      })),
    );
    const schema = z.object({ text: z.string(), label: z.literal([0, 1]) });
    const error = await loadParquet(path, { schema }).then(() => undefined, (e) => e);
    assert.ok(error instanceof DataValidationError);
    assert.match(error.message, /labels\.parquet, row 3, field "label": .*got 7/);

    const notParquet = join(dir, "fake.parquet");
    await Deno.writeTextFile(notParquet, "this is not parquet");
    await assert.rejects(loadParquet(notParquet), /fake\.parquet, row 1: not a readable parquet/);
  });
});

Deno.test("JSON: arrays, a field holding rows, and clear errors", async () => {
  await withTempDir(async (dir) => {
    const array = join(dir, "rows.json");
    await Deno.writeTextFile(array, JSON.stringify(ROWS, null, 2));
    assert.deepEqual((await loadJson(array)).toArray(), ROWS);
    assert.deepEqual((await loadLocal(array)).toArray(), ROWS);

    const wrapped = join(dir, "wrapped.json.gz");
    await Deno.writeFile(wrapped, gzipSync(JSON.stringify({ version: 2, data: ROWS })));
    assert.deepEqual((await loadJson(wrapped, { field: "data" })).toArray(), ROWS);
    await assert.rejects(
      loadJson(wrapped),
      /expected an array of rows \(top-level keys: version, data/,
    );

    const schema = z.object({ text: z.string(), label: z.number(), tags: z.array(z.string()) });
    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, JSON.stringify([ROWS[0], { ...ROWS[1], tags: ["ok", 3] }]));
    await assert.rejects(loadJson(bad, { schema }), /bad\.json, row 2, field "tags\[1\]"/);
  });
});

Deno.test("detectFormat: by extension, with a clear error otherwise", () => {
  assert.equal(detectFormat("a/b.jsonl.gz"), "jsonl");
  assert.equal(detectFormat("x.NDJSON"), "jsonl");
  assert.equal(detectFormat("x.json"), "json");
  assert.equal(detectFormat("x.tsv.gz"), "tsv");
  assert.equal(detectFormat("x.parquet"), "parquet");
  assert.throws(() => detectFormat("x.parquet.gz"), /cannot tell the format/);
  assert.throws(() => detectFormat("x.txt"), /cannot tell the format of x\.txt/);
});
