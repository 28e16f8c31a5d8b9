import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  datasetFolderName,
  describeError,
  HubDatasetError,
  imdbRowSchema,
  isOfflineEnv,
  loadHubDataset,
  loadImdb,
  type ProgressSink,
  resolveHubCacheDir,
  resolveHubSplit,
  streamHubDataset,
} from "../../data/mod.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const MAIN_COMMIT = "89abcdef0123456789abcdef0123456789abcdef";
const DATASET = "test-org/tiny-imdb";

function imdbParquet(texts: string[], labels: number[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: "text", data: texts, type: "STRING" },
      { name: "label", data: labels.map(BigInt), type: "INT64" },
    ],
  }));
}

const TRAIN_0 = imdbParquet(["loved it", "hated it"], [1, 0]);
const TRAIN_1 = imdbParquet(["a classic"], [1]);
const TEST_0 = imdbParquet(["meh"], [0]);

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tether-hub-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Lay out a cache the way huggingface_hub does: blobs, snapshot links, a ref file. */
async function fillCache(
  hubDir: string,
  ref: string[],
  commit: string,
  files: Record<string, Uint8Array>,
  dataset = DATASET,
): Promise<string> {
  const repo = join(hubDir, datasetFolderName(dataset));
  await Deno.mkdir(join(repo, "refs", ...ref.slice(0, -1)), { recursive: true });
  await Deno.writeTextFile(join(repo, "refs", ...ref), commit);
  for (const [path, bytes] of Object.entries(files)) {
    const sha = createHash("sha256").update(bytes).digest("hex");
    await Deno.mkdir(join(repo, "blobs"), { recursive: true });
    await Deno.writeFile(join(repo, "blobs", sha), bytes);
    const parts = path.split("/");
    const snapshotDir = join(repo, "snapshots", commit, ...parts.slice(0, -1));
    await Deno.mkdir(snapshotDir, { recursive: true });
    const up = "../".repeat(parts.length + 1);
    await Deno.symlink(`${up}blobs/${sha}`, join(snapshotDir, parts[parts.length - 1]));
  }
  return repo;
}

const CONVERSION_FILES = {
  "plain_text/train/0000.parquet": TRAIN_0,
  "plain_text/train/0001.parquet": TRAIN_1,
  "plain_text/test/0000.parquet": TEST_0,
};

const throwingFetch = () => {
  const cause = new Error("getaddrinfo ENOTFOUND huggingface.co");
  return Promise.reject(new TypeError("fetch failed", { cause }));
};

const quiet = false as const;

Deno.test("cache folder: HF_HUB_CACHE, then HF_HOME/hub, then XDG, then ~/.cache", () => {
  assert.equal(resolveHubCacheDir({ HF_HUB_CACHE: "c", HF_HOME: "h", HOME: "u" }), "c");
  assert.equal(resolveHubCacheDir({ HF_HOME: "h", HOME: "u" }), join("h", "hub"));
  assert.equal(
    resolveHubCacheDir({ XDG_CACHE_HOME: "x", HOME: "u" }),
    join("x", "huggingface", "hub"),
  );
  assert.equal(resolveHubCacheDir({ HOME: "u" }), join("u", ".cache", "huggingface", "hub"));
  assert.throws(() => resolveHubCacheDir({}), /set HF_HOME/);
  assert.equal(datasetFolderName("stanfordnlp/imdb"), "datasets--stanfordnlp--imdb");
  assert.equal(datasetFolderName("imdb"), "datasets--imdb");
  assert.throws(() => datasetFolderName("../etc"), /not a valid dataset id/);
  for (const on of ["1", "true", "YES", "on"]) assert.ok(isOfflineEnv({ HF_HUB_OFFLINE: on }));
  for (const off of [undefined, "", "0", "false"]) {
    assert.ok(!isOfflineEnv({ HF_HUB_OFFLINE: off }));
  }
});

Deno.test("offline: a pre-filled parquet-conversion cache loads with HF_HUB_OFFLINE=1", async () => {
  await withTempDir(async (home) => {
    await fillCache(join(home, "hub"), ["refs", "convert", "parquet"], COMMIT, CONVERSION_FILES);
    let fetched = false;
    const options = {
      split: "train",
      env: { HF_HOME: home, HF_HUB_OFFLINE: "1" },
      fetch: () => {
        fetched = true;
        return Promise.reject(new Error("must not be called"));
      },
    };
    const train = await loadHubDataset(DATASET, options);
    assert.deepEqual(train.toArray(), [
      { text: "loved it", label: 1 },
      { text: "hated it", label: 0 },
      { text: "a classic", label: 1 },
    ]);
    const test = await loadHubDataset(DATASET, {
      ...options,
      split: "test",
      schema: imdbRowSchema,
    });
    assert.deepEqual(test.toArray(), [{ text: "meh", label: 0 }]);
    const resolved = await resolveHubSplit(DATASET, options);
    assert.equal(resolved.config, "plain_text");
    assert.equal(resolved.commit, COMMIT);
    assert.ok(resolved.fromCache);
    assert.equal(fetched, false);
  });
});

Deno.test("offline: the real environment variables are honoured (child process)", async () => {
  await withTempDir(async (home) => {
    await fillCache(
      join(home, "hub"),
      ["refs", "convert", "parquet"],
      COMMIT,
      CONVERSION_FILES,
      "stanfordnlp/imdb",
    );
    const modUrl = new URL("../../data/mod.ts", import.meta.url).href;
    const script = `
      import { loadImdb } from ${JSON.stringify(modUrl)};
      globalThis.fetch = () => { throw new Error("network used"); };
      const ds = await loadImdb({ split: "test", hub: { config: "plain_text" } });
      console.log(JSON.stringify(ds.toArray()));
    `;
    // A clean environment, so a developer's own HF_HUB_CACHE cannot mask HF_HOME; Deno's own
    // cache location is passed through so the child finds the npm packages offline.
    const passThrough: Record<string, string> = {};
    for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) passThrough[name] = value;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        "--config",
        fileURLToPath(new URL("../../deno.json", import.meta.url)),
        "-",
      ],
      clearEnv: true,
      env: { ...passThrough, HF_HOME: home, HF_HUB_OFFLINE: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Passing the script on stdin keeps the command line short.
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(script));
    await writer.close();
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), [
      { text: "meh", label: 0 },
    ]);
  });
});

Deno.test("offline: the cache is used when fetch throws (network unreachable)", async () => {
  await withTempDir(async (home) => {
    await fillCache(
      join(home, "hub"),
      ["refs", "convert", "parquet"],
      COMMIT,
      CONVERSION_FILES,
      "stanfordnlp/imdb",
    );
    const ds = await loadImdb({
      split: "train",
      hub: { env: { HF_HOME: home }, fetch: throwingFetch, progress: quiet, config: "plain_text" },
    });
    assert.equal(ds.length, 3);
    assert.deepEqual(ds.get(2), { text: "a classic", label: 1 });
  });
});

Deno.test("offline: a cache with the repo's own data files under refs/main also loads", async () => {
  await withTempDir(async (home) => {
    const encoder = new TextEncoder();
    await fillCache(join(home, "hub"), ["main"], MAIN_COMMIT, {
      "README.md": encoder.encode("# card"),
      "data/train-00000-of-00002.parquet": TRAIN_0,
      "data/train-00001-of-00002.parquet": TRAIN_1,
      "data/test-00000-of-00001.parquet": TEST_0,
      "extra/train_sft.jsonl": encoder.encode('{"text": "not train", "label": 1}\n'),
    });
    const env = { HF_HUB_CACHE: join(home, "hub"), HF_HUB_OFFLINE: "1" };
    const train = await loadHubDataset(DATASET, { split: "train", env, schema: imdbRowSchema });
    assert.deepEqual(train.column("text"), ["loved it", "hated it", "a classic"]);
    const test = await loadHubDataset(DATASET, { split: "test", env });
    assert.equal(test.length, 1);
  });
});

Deno.test("a miss fails fast, naming dataset, split, cause and fix", async () => {
  await withTempDir(async (home) => {
    const started = performance.now();
    const offline = await loadHubDataset(DATASET, {
      split: "train",
      env: { HF_HOME: home, HF_HUB_OFFLINE: "1" },
    }).then(() => undefined, (e) => e);
    const online = await loadHubDataset(DATASET, {
      split: "validation",
      env: { HF_HOME: home },
      fetch: throwingFetch,
    }).then(() => undefined, (e) => e);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);

    assert.ok(offline instanceof HubDatasetError);
    assert.equal(offline.dataset, DATASET);
    assert.equal(offline.split, "train");
    assert.match(offline.message, /Cannot load Hub dataset "test-org\/tiny-imdb", split "train"/);
    assert.match(offline.message, /not in the cache/);
    assert.match(offline.message, /HF_HUB_OFFLINE is set/);
    assert.match(offline.message, /Fix: load a local file instead/);

    assert.ok(online instanceof HubDatasetError);
    assert.match(online.message, /split "validation"/);
    assert.match(online.message, /fetch failed: getaddrinfo ENOTFOUND huggingface\.co/);
    assert.match(online.message, /HF_HUB_OFFLINE=1/);
    assert.match(describeError(online.cause), /getaddrinfo ENOTFOUND/);
  });
});

Deno.test("a cached dataset without the requested split or config says what exists", async () => {
  await withTempDir(async (home) => {
    await fillCache(join(home, "hub"), ["refs", "convert", "parquet"], COMMIT, CONVERSION_FILES);
    const env = { HF_HOME: home, HF_HUB_OFFLINE: "1" };
    await assert.rejects(
      loadHubDataset(DATASET, { split: "unsupervised", env }),
      /no split "unsupervised" in config "plain_text" \(available: test, train\)/,
    );
    await assert.rejects(
      loadHubDataset(DATASET, { split: "train", config: "nope", env }),
      /config "nope" not found \(available: plain_text\)/,
    );
  });
});

interface FakeHub {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  requests: { url: string; auth: string | null }[];
}

function fakeHub(files: Record<string, Uint8Array>, options: { corrupt?: string } = {}): FakeHub {
  const requests: { url: string; auth: string | null }[] = [];
  const siblings = Object.entries(files).map(([path, bytes]) => ({
    rfilename: path,
    size: bytes.length,
    blobId: createHash("sha1").update(bytes).digest("hex"),
    lfs: { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length },
  }));
  siblings.push({
    rfilename: ".gitattributes",
    size: 3,
    blobId: "aaaabbbbccccddddeeeeffff0000111122223333",
    lfs: undefined as never,
  });
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, auth: new Headers(init?.headers).get("authorization") });
    const listing =
      `https://hub.test/api/datasets/${DATASET}/revision/refs%2Fconvert%2Fparquet?blobs=true`;
    if (url === listing) {
      return Promise.resolve(Response.json({ sha: COMMIT, siblings }));
    }
    const prefix = `https://hub.test/datasets/${DATASET}/resolve/${COMMIT}/`;
    if (url.startsWith(prefix)) {
      const path = decodeURIComponent(url.slice(prefix.length));
      const bytes = files[path];
      if (bytes) {
        const body = path === options.corrupt ? bytes.map((b) => b ^ 1) : bytes;
        // Two chunks, so progress sees more than one update.
        const half = Math.floor(body.length / 2);
        return Promise.resolve(
          new Response(ReadableStream.from([body.slice(0, half), body.slice(half)])),
        );
      }
    }
    return Promise.resolve(new Response("not found", { status: 404 }));
  };
  return { fetch, requests };
}

function recordingSink(terminal: boolean): ProgressSink & { text: string } {
  const sink = {
    text: "",
    isTerminal: () => terminal,
    write: (chunk: string) => {
      sink.text += chunk;
    },
  };
  return sink;
}

Deno.test("download: a fake Hub fills the standard cache atomically, then offline works", async () => {
  await withTempDir(async (home) => {
    const hub = fakeHub(CONVERSION_FILES);
    const sink = recordingSink(false);
    const env = { HF_HOME: home, HF_TOKEN: "hf_secret", HF_ENDPOINT: "https://hub.test/" };
    const train = await loadHubDataset(DATASET, {
      split: "train",
      env,
      fetch: hub.fetch,
      progress: sink,
      schema: imdbRowSchema,
    });
    assert.deepEqual(train.column("text"), ["loved it", "hated it", "a classic"]);

    // A train load must not fetch the test split, and the token must reach every request.
    assert.deepEqual(hub.requests.map((r) => r.url.replace(/^https:\/\/hub\.test/, "")), [
      `/api/datasets/${DATASET}/revision/refs%2Fconvert%2Fparquet?blobs=true`,
      `/datasets/${DATASET}/resolve/${COMMIT}/plain_text/train/0000.parquet`,
      `/datasets/${DATASET}/resolve/${COMMIT}/plain_text/train/0001.parquet`,
    ]);
    assert.ok(hub.requests.every((r) => r.auth === "Bearer hf_secret"));

    // The layout must match huggingface_hub's so Python and Tether can share one cache.
    const repo = join(home, "hub", "datasets--test-org--tiny-imdb");
    assert.equal(await Deno.readTextFile(join(repo, "refs", "refs", "convert", "parquet")), COMMIT);
    const sha = createHash("sha256").update(TRAIN_0).digest("hex");
    assert.deepEqual(await Deno.readFile(join(repo, "blobs", sha)), TRAIN_0);
    const link = join(repo, "snapshots", COMMIT, "plain_text", "train", "0000.parquet");
    assert.ok((await Deno.lstat(link)).isSymlink);
    assert.equal(await Deno.readLink(link), `../../../../blobs/${sha}`);
    const leftovers = [];
    for await (const entry of Deno.readDir(join(repo, "blobs"))) {
      if (entry.name.includes("incomplete")) leftovers.push(entry.name);
    }
    assert.deepEqual(leftovers, []);

    // The sink is not a terminal, and carriage-return redraws would garble a CI log.
    assert.match(sink.text, /test-org\/tiny-imdb plain_text\/train: starting \(/);
    assert.match(sink.text, /: done, 100% /);
    assert.ok(!sink.text.includes("\r"));

    // Online again: only the listing is fetched, and an up-to-date cache draws no progress bar.
    const quietSink = recordingSink(false);
    const before = hub.requests.length;
    const refreshed = await resolveHubSplit(DATASET, {
      split: "train",
      env,
      fetch: hub.fetch,
      progress: quietSink,
    });
    assert.ok(refreshed.fromCache);
    assert.equal(hub.requests.length, before + 1);
    assert.equal(quietSink.text, "");

    // A filled cache has to be enough on its own.
    const again = await loadHubDataset(DATASET, {
      split: "train",
      env: { HF_HOME: home, HF_HUB_OFFLINE: "1" },
    });
    assert.equal(again.length, 3);
  });
});

Deno.test("download: a corrupt transfer is rejected and leaves no blob behind", async () => {
  await withTempDir(async (home) => {
    const hub = fakeHub(CONVERSION_FILES, { corrupt: "plain_text/test/0000.parquet" });
    const error = await loadHubDataset(DATASET, {
      split: "test",
      env: { HF_HOME: home, HF_ENDPOINT: "https://hub.test" },
      fetch: hub.fetch,
      progress: false,
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof HubDatasetError);
    assert.match(error.message, /split "test"/);
    assert.match(error.message, /is corrupt: sha256/);
    const blobs = [];
    for await (
      const entry of Deno.readDir(join(home, "hub", datasetFolderName(DATASET), "blobs"))
    ) {
      blobs.push(entry.name);
    }
    assert.deepEqual(blobs, []);
  });
});

Deno.test("download: HTTP errors carry the status and a hint; unknown splits list the real ones", async () => {
  await withTempDir(async (home) => {
    const hub = fakeHub(CONVERSION_FILES);
    const base = { env: { HF_HOME: home, HF_ENDPOINT: "https://hub.test" }, progress: quiet };
    await assert.rejects(
      loadHubDataset("other-org/missing", { ...base, split: "train", fetch: hub.fetch }),
      (error: Error) => {
        assert.ok(error instanceof HubDatasetError);
        assert.match(error.message, /"other-org\/missing", split "train"/);
        assert.match(error.message, /HTTP 404 \(check the dataset id and revision\)/);
        return true;
      },
    );
    await assert.rejects(
      loadHubDataset(DATASET, { ...base, split: "dev", fetch: hub.fetch }),
      /no split "dev" in config "plain_text" \(available: test, train\) on the Hub/,
    );
  });
});

Deno.test("streamHubDataset: nothing is resolved until iteration starts", async () => {
  await withTempDir(async (home) => {
    const hub = fakeHub(CONVERSION_FILES);
    const stream = streamHubDataset(DATASET, {
      split: "train",
      env: { HF_HOME: home, HF_ENDPOINT: "https://hub.test" },
      fetch: hub.fetch,
      progress: false,
    });
    assert.equal(hub.requests.length, 0);
    const first = await stream.take(1).collect();
    assert.deepEqual(first.toArray(), [{ text: "loved it", label: 1 }]);
  });
});
