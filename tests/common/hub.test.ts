// The Hugging Face environment and cache names that models and datasets share; the data and
// model-hub tests cover the same rules through their own entry points.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  blobPath,
  isOfflineEnv,
  noExistPath,
  refPath,
  repoFolderName,
  resolveEndpoint,
  resolveHfHome,
  resolveHubCacheDir,
  resolveToken,
  snapshotPath,
} from "../../common/hub.ts";

Deno.test("cache root: the huggingface_hub order, legacy name included, empty means unset", () => {
  assert.equal(resolveHubCacheDir({ HUGGINGFACE_HUB_CACHE: "old", HF_HOME: "h" }), "old");
  assert.equal(resolveHubCacheDir({ HF_HUB_CACHE: "new", HUGGINGFACE_HUB_CACHE: "old" }), "new");
  assert.equal(resolveHubCacheDir({ HF_HUB_CACHE: "", HF_HOME: "h" }), join("h", "hub"));
  assert.equal(resolveHfHome({ USERPROFILE: "w" }), join("w", ".cache", "huggingface"));
  assert.throws(() => resolveHfHome({ HOME: "" }), /HOME is not set.*set HF_HOME/);
});

Deno.test("offline: either variable turns it on", () => {
  assert.ok(isOfflineEnv({ TRANSFORMERS_OFFLINE: "1" }));
  assert.ok(isOfflineEnv({ HF_HUB_OFFLINE: " On " }));
  assert.ok(!isOfflineEnv({ HF_HUB_OFFLINE: "0", TRANSFORMERS_OFFLINE: "no" }));
});

Deno.test("token: variables first (trimmed), then the saved login, else none", async () => {
  const home = await Deno.makeTempDir();
  try {
    assert.equal(resolveToken({ HF_TOKEN: " hf_a\n", HUGGING_FACE_HUB_TOKEN: "hf_b" }), "hf_a");
    assert.equal(resolveToken({ HUGGING_FACE_HUB_TOKEN: "hf_b", HF_HOME: home }), "hf_b");
    assert.equal(resolveToken({ HF_HOME: home }), undefined);
    await Deno.writeTextFile(join(home, "token"), "hf_saved\n");
    assert.equal(resolveToken({ HF_HOME: home }), "hf_saved");
    const elsewhere = join(home, "elsewhere");
    await Deno.writeTextFile(elsewhere, "hf_path");
    assert.equal(resolveToken({ HF_HOME: home, HF_TOKEN_PATH: elsewhere }), "hf_path");
    await Deno.writeTextFile(join(home, "token"), "  \n");
    assert.equal(resolveToken({ HF_HOME: home }), undefined);
    // No home at all is anonymous access, not an error.
    assert.equal(resolveToken({}), undefined);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("endpoint: explicit, then HF_ENDPOINT, then huggingface.co; no trailing slash", () => {
  assert.equal(resolveEndpoint({}), "https://huggingface.co");
  assert.equal(resolveEndpoint({ HF_ENDPOINT: "https://mirror.test//" }), "https://mirror.test");
  assert.equal(
    resolveEndpoint({ HF_ENDPOINT: "https://mirror.test" }, "http://local:8080/"),
    "http://local:8080",
  );
});

Deno.test("layout: the names huggingface_hub uses, and ids that cannot leave the cache", () => {
  assert.equal(repoFolderName("model", "openai-community/gpt2"), "models--openai-community--gpt2");
  assert.equal(repoFolderName("dataset", "imdb"), "datasets--imdb");
  for (const bad of ["../x", "a/b/c", "a--b/c", "a/..", ""]) {
    assert.throws(() => repoFolderName("model", bad), /not a valid model id/, bad);
  }
  const repo = join("c", "models--o--n");
  assert.equal(
    refPath(repo, "refs/convert/parquet"),
    join(repo, "refs", "refs", "convert", "parquet"),
  );
  assert.equal(snapshotPath(repo, "abc"), join(repo, "snapshots", "abc"));
  assert.equal(
    snapshotPath(repo, "abc", "a/b.json"),
    join(repo, "snapshots", "abc", "a", "b.json"),
  );
  assert.equal(blobPath(repo), join(repo, "blobs"));
  assert.equal(blobPath(repo, "e1"), join(repo, "blobs", "e1"));
  assert.equal(noExistPath(repo, "abc", "x/y"), join(repo, ".no_exist", "abc", "x", "y"));
});
