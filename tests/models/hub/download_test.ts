import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProgressSink } from "../../../models/hub/env.ts";
import { HubError } from "../../../models/hub/errors.ts";
import { openModel } from "../../../models/hub/repo.ts";
import { loadConfig, loadStateDict } from "../../../models/io/checkpoint.ts";
import { encodeSafetensors, readSafetensors } from "../../../models/io/safetensors.ts";
import { fakeHub } from "./fake_hub.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

const COMMIT = "c0ffee".padEnd(40, "0");
const REPO = "tiny-org/gpt2-a";

function logSink(): ProgressSink & { text: string } {
  const sink = { text: "", isTerminal: () => false, write: (t: string) => void (sink.text += t) };
  return sink;
}

async function gpt2Files() {
  const dir = fixture("models/gpt2-a");
  return {
    "config.json": { body: await Deno.readFile(join(dir, "config.json")) },
    "model.safetensors": { body: await Deno.readFile(join(dir, "model.safetensors")), lfs: true },
  };
}

Deno.test("downloads land in the standard layout: blob, relative snapshot link, then refs/main", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const hub = fakeHub(REPO, COMMIT, await gpt2Files(), { chunk: 4096 });
    const progress = logSink();
    const options = { cacheDir, fetch: hub.fetch, token: "hf_test", progress, offline: false };
    const state = await loadStateDict(REPO, options);
    const direct = await readSafetensors(fixture("models/gpt2-a/model.safetensors"));
    assert.deepEqual(
      state.get("h.1.mlp.c_fc.weight")!.data,
      direct.get("h.1.mlp.c_fc.weight")!.data,
    );
    assert.equal((await loadConfig(REPO, options)).n_embd, 32);

    const repoDir = join(cacheDir, "models--tiny-org--gpt2-a");
    assert.equal(await Deno.readTextFile(join(repoDir, "refs", "main")), COMMIT);
    const link = join(repoDir, "snapshots", COMMIT, "model.safetensors");
    assert.ok((await Deno.lstat(link)).isSymlink);
    const target = await Deno.readLink(link);
    assert.ok(target.startsWith("../../blobs/"), `relative link, got ${target}`);
    const blob = resolve(join(repoDir, "snapshots", COMMIT), target);
    // The LFS file is named by X-Linked-Etag (from the Hub's redirect), not the CDN's ETag.
    assert.ok(!blob.includes("wrong-"));
    assert.deepEqual(
      await Deno.readFile(blob),
      await Deno.readFile(fixture("models/gpt2-a/model.safetensors")),
    );
    const leftovers = [...Deno.readDirSync(join(repoDir, "blobs"))].filter((e) =>
      e.name.startsWith(".")
    );
    assert.deepEqual(leftovers, [], "no temporary blobs left");

    // Auth goes to the Hub only, never to the CDN host it redirects to.
    const hubRequests = hub.seen.filter((r) => r.url.startsWith("https://huggingface.co/"));
    assert.ok(
      hubRequests.length > 0 && hubRequests.every((r) => r.authorization === "Bearer hf_test"),
    );
    const cdn = hub.seen.filter((r) => r.url.startsWith("https://cdn.test/"));
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0].authorization, null);
    // The first file resolves "main"; later ones are pinned to the commit it reported.
    const base = `https://huggingface.co/${REPO}/resolve`;
    assert.equal(hub.seen[0].url, `${base}/main/model.safetensors`);
    assert.ok(hub.seen.some((r) => r.url === `${base}/${COMMIT}/config.json`));

    // Not a terminal: plain lines, no carriage returns.
    assert.match(
      progress.text,
      /downloading tiny-org\/gpt2-a\/model\.safetensors \(154\.0 KiB\)\n/,
    );
    assert.match(progress.text, /model\.safetensors: done, 154\.0 KiB in /);
    assert.ok(!progress.text.includes("\r"));

    // Everything is now cached: offline loading works and makes no request.
    const before = hub.seen.length;
    await loadStateDict(REPO, { cacheDir, offline: true, fetch: hub.fetch });
    await loadStateDict(REPO, { cacheDir, fetch: hub.fetch, progress: false });
    assert.equal(hub.seen.length, before);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("sharded checkpoints download the index and each shard; 404s become .no_exist markers", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const full = await readSafetensors(fixture("models/gpt2-a/model.safetensors"));
    const names = [...full.keys()];
    const shardA = names.slice(0, 10);
    const shardB = names.slice(10);
    const weightMap = Object.fromEntries([
      ...shardA.map((n) => [n, "model-00001-of-00002.safetensors"]),
      ...shardB.map((n) => [n, "model-00002-of-00002.safetensors"]),
    ]);
    const encode = (keys: string[]) =>
      encodeSafetensors(new Map(keys.map((n) => [n, full.get(n)!])));
    const hub = fakeHub(REPO, COMMIT, {
      "model.safetensors.index.json": {
        body: new TextEncoder().encode(JSON.stringify({ weight_map: weightMap })),
      },
      "model-00001-of-00002.safetensors": { body: encode(shardA), lfs: true },
      "model-00002-of-00002.safetensors": { body: encode(shardB), lfs: true },
    });
    // Online explicitly: the default follows HF_HUB_OFFLINE, which a test machine may set.
    const state = await loadStateDict(REPO, {
      cacheDir,
      fetch: hub.fetch,
      progress: false,
      offline: false,
    });
    assert.deepEqual([...state.keys()].sort(), names.sort());
    assert.deepEqual(state.get("ln_f.bias")!.data, full.get("ln_f.bias")!.data);
    const marker = join(
      cacheDir,
      "models--tiny-org--gpt2-a",
      ".no_exist",
      COMMIT,
      "model.safetensors",
    );
    assert.ok((await Deno.stat(marker)).isFile);
    // Offline, the marker tells the loader to go straight to the index.
    const offline = await loadStateDict(REPO, { cacheDir, offline: true });
    assert.equal(offline.size, names.length);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("an unreachable Hub fails fast with the fetch error's cause and the fix", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const failing: typeof fetch = () =>
      Promise.reject(
        new TypeError("fetch failed", {
          cause: new Error("dns error: failed to lookup address information"),
        }),
      );
    const started = performance.now();
    const error = await loadConfig(REPO, { cacheDir, fetch: failing, offline: false }).then(
      () => null,
      (e) => e,
    );
    assert.ok(performance.now() - started < 1000);
    assert.ok(error instanceof HubError && error.kind === "network");
    assert.match(error.message, /"config\.json" of model "tiny-org\/gpt2-a"/);
    assert.match(error.message, /fetch failed: dns error: failed to lookup address information/);
    assert.match(
      error.message,
      /Fix: pass a local folder path .* or set HF_HUB_OFFLINE=1 with a cache/,
    );
    assert.ok(error.cause instanceof TypeError);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("a real refused connection is reported with its reason, quickly", async () => {
  // Find a local port with nothing listening, then point the endpoint at it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const cacheDir = await Deno.makeTempDir();
  try {
    const started = performance.now();
    const error = await loadConfig(REPO, {
      cacheDir,
      endpoint: `http://127.0.0.1:${port}`,
      offline: false,
    }).then(() => null, (e) => e);
    assert.ok(performance.now() - started < 1000);
    assert.ok(error instanceof HubError && error.kind === "network", String(error));
    assert.match(error.message, /refused|connect/i);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("a truncated download leaves no blob, link or ref behind", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const hub = fakeHub(REPO, COMMIT, {
      "config.json": { body: new TextEncoder().encode("{}"), truncate: true },
    });
    const model = await openModel(REPO, {
      cacheDir,
      fetch: hub.fetch,
      progress: false,
      offline: false,
    });
    await assert.rejects(
      model.file("config.json"),
      /failed midway: connection closed after 2 of 12 bytes/,
    );
    const repoDir = join(cacheDir, "models--tiny-org--gpt2-a");
    assert.deepEqual([...Deno.readDirSync(join(repoDir, "blobs"))], []);
    for (const folder of ["snapshots", "refs"]) {
      await assert.rejects(Deno.stat(join(repoDir, folder)), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("401 explains tokens; a missing required file names the repo", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    const denied = fakeHub(REPO, COMMIT, {}, { status: 401 });
    await assert.rejects(
      loadConfig(REPO, { cacheDir, fetch: denied.fetch, offline: false, token: "" }),
      /answered 401 .*Set HF_TOKEN to a token with access/,
    );
    const empty = fakeHub(REPO, COMMIT, {});
    await assert.rejects(
      loadConfig(REPO, { cacheDir, fetch: empty.fetch, offline: false }),
      (e: unknown) =>
        e instanceof HubError && e.kind === "not-found" &&
        /The Hub has no "config\.json" of model "tiny-org\/gpt2-a"/.test(e.message),
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
