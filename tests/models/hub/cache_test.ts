import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HubError } from "../../../models/hub/errors.ts";
import { openModel } from "../../../models/hub/repo.ts";
import { loadConfig, loadStateDict } from "../../../models/io/checkpoint.ts";
import { readSafetensors } from "../../../models/io/safetensors.ts";
import { layOutCache } from "./fake_hub.ts";

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

const COMMIT_A = "a".repeat(40);
const COMMIT_B = "0123456789abcdef0123456789abcdef01234567";

async function filledCache(): Promise<{ cacheDir: string; repoDir: string }> {
  const cacheDir = await Deno.makeTempDir();
  const gpt2 = fixture("models/gpt2-a");
  const repoDir = await layOutCache(
    cacheDir,
    "tiny-org/gpt2-a",
    { main: COMMIT_A, "v1": COMMIT_B },
    {
      [COMMIT_A]: {
        "config.json": await Deno.readFile(join(gpt2, "config.json")),
        "model.safetensors": await Deno.readFile(join(gpt2, "model.safetensors")),
      },
      [COMMIT_B]: {
        "config.json": new TextEncoder().encode(JSON.stringify({ model_type: "gpt2", n_layer: 7 })),
        "pytorch_model.bin": await Deno.readFile(join(gpt2, "pytorch_model.bin")),
      },
    },
  );
  return { cacheDir, repoDir };
}

const noNetwork: typeof fetch = () => {
  throw new Error("the network must not be used");
};

Deno.test("a cache laid out like huggingface_hub's (refs, snapshot symlinks, blobs) loads offline", async () => {
  const { cacheDir, repoDir } = await filledCache();
  try {
    assert.ok((await Deno.lstat(join(repoDir, "snapshots", COMMIT_A, "config.json"))).isSymlink);
    const options = { cacheDir, offline: true, fetch: noNetwork };
    const state = await loadStateDict("tiny-org/gpt2-a", options);
    const direct = await readSafetensors(fixture("models/gpt2-a/model.safetensors"));
    assert.deepEqual([...state.keys()], [...direct.keys()]);
    assert.deepEqual(state.get("wte.weight")!.data, direct.get("wte.weight")!.data);
    assert.equal((await loadConfig("tiny-org/gpt2-a", options)).n_layer, 2);
    // The cache is used first even when online: no request is made for cached files.
    assert.equal((await loadConfig("tiny-org/gpt2-a", { cacheDir, fetch: noNetwork })).n_layer, 2);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("revision resolves through refs/<name> or as a commit hash", async () => {
  const { cacheDir } = await filledCache();
  try {
    const options = { cacheDir, offline: true };
    assert.equal((await loadConfig("tiny-org/gpt2-a", { ...options, revision: "v1" })).n_layer, 7);
    assert.equal(
      (await loadConfig("tiny-org/gpt2-a", { ...options, revision: COMMIT_B })).n_layer,
      7,
    );
    // v1's snapshot holds only pytorch_model.bin: the loader finds it and decodes it.
    const state = await loadStateDict("tiny-org/gpt2-a", { ...options, revision: "v1" });
    assert.equal(state.get("wpe.weight")!.shape[0], 64);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("an offline miss fails fast naming the repo, the file, the cause and the fix", async () => {
  const { cacheDir } = await filledCache();
  try {
    const started = performance.now();
    const missingFile = await openModel("tiny-org/gpt2-a", { cacheDir, offline: true })
      .then((m) => m.file("tokenizer.json")).then(() => null, (e) => e);
    const missingRepo = await openModel("other-org/absent", { cacheDir, offline: true })
      .then((m) => m.file("config.json")).then(() => null, (e) => e);
    assert.ok(performance.now() - started < 1000);
    assert.ok(missingFile instanceof HubError && missingFile.kind === "offline-miss");
    assert.equal(missingFile.repo, "tiny-org/gpt2-a");
    assert.equal(missingFile.file, "tokenizer.json");
    assert.match(missingFile.message, /"tokenizer\.json" of model "tiny-org\/gpt2-a"/);
    assert.match(missingFile.message, new RegExp(`snapshot ${COMMIT_A} .* lacks the file`));
    assert.match(missingFile.message, /Fix: pass a local folder path/);
    assert.ok(missingRepo instanceof HubError);
    assert.match(missingRepo.message, /the cache has no ref "main" for this model/);
    // Optional files are simply absent offline.
    const model = await openModel("tiny-org/gpt2-a", { cacheDir, offline: true });
    assert.equal(await model.file("tokenizer_config.json", { optional: true }), null);
    // A config cached without weights: the error says the cache, not the repo, lacks them.
    const configOnly = await Deno.makeTempDir();
    try {
      await layOutCache(configOnly, "tiny-org/config-only", { main: COMMIT_A }, {
        [COMMIT_A]: { "config.json": new TextEncoder().encode('{"model_type":"gpt2"}') },
      });
      await assert.rejects(
        loadStateDict("tiny-org/config-only", { cacheDir: configOnly, offline: true }),
        /tiny-org\/config-only \(revision main\) has no weights in the local Hub cache \(looked for model\.safetensors, .*\); HF_HUB_OFFLINE is set.* Fix: load it once online/,
      );
    } finally {
      await Deno.remove(configOnly, { recursive: true });
    }
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("a dangling snapshot link is a miss, and .no_exist markers make a file known-absent", async () => {
  const { cacheDir, repoDir } = await filledCache();
  try {
    await Deno.remove(join(repoDir, "blobs"), { recursive: true });
    const model = await openModel("tiny-org/gpt2-a", { cacheDir, offline: true });
    await assert.rejects(
      model.file("config.json"),
      (e: unknown) => e instanceof HubError && e.kind === "offline-miss",
    );
    await Deno.mkdir(join(repoDir, ".no_exist", COMMIT_A), { recursive: true });
    await Deno.writeFile(join(repoDir, ".no_exist", COMMIT_A, "tokenizer.json"), new Uint8Array());
    const online = await openModel("tiny-org/gpt2-a", { cacheDir, fetch: noNetwork });
    assert.equal(await online.file("tokenizer.json", { optional: true }), null);
    await assert.rejects(
      online.file("tokenizer.json"),
      (e: unknown) => e instanceof HubError && e.kind === "not-found",
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("local folders, bad ids and missing explicit paths", async () => {
  const local = await openModel(fixture("models/gpt2-a"));
  assert.equal(local.kind, "local");
  assert.ok((await local.file("config.json")).endsWith("config.json"));
  assert.equal(await local.file("tokenizer.json", { optional: true }), null);
  await assert.rejects(
    local.file("tokenizer.json"),
    /model folder .*gpt2-a has no "tokenizer\.json"/,
  );
  await assert.rejects(
    local.file("../gpt2-a/config.json"),
    /is not a file path inside a model repo/,
  );
  await assert.rejects(
    openModel("./no/such/folder"),
    /Model folder \.\/no\/such\/folder does not exist/,
  );
  await assert.rejects(
    openModel("bad id with spaces"),
    /neither an existing folder nor a Hub model id/,
  );
  assert.equal((await openModel("org/name", { offline: true, cacheDir: "unused" })).kind, "hub");
});

Deno.test("HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE and HF_TOKEN are honoured", async () => {
  const { cacheDir } = await filledCache();
  const probe = fileURLToPath(new URL("./env_probe.ts", import.meta.url));
  const run = async (env: Record<string, string>) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", "--allow-read", probe],
      env: {
        HF_HOME: "",
        HF_HUB_CACHE: "",
        HF_HUB_OFFLINE: "",
        HF_TOKEN: "",
        HF_ENDPOINT: "",
        ...env,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    return JSON.parse(new TextDecoder().decode(output.stdout));
  };
  try {
    // huggingface_hub keeps the hub cache in $HF_HOME/hub: lay one out there.
    const home = await Deno.makeTempDir();
    await Deno.rename(cacheDir, join(home, "hub"));
    const viaHome = await run({ HF_HOME: home, HF_HUB_OFFLINE: "1", HF_TOKEN: "hf_secret" });
    assert.equal(viaHome.cacheDir, join(home, "hub"));
    assert.equal(viaHome.offline, true);
    assert.equal(viaHome.nLayer, 2, "config loaded offline from $HF_HOME/hub");
    const viaCache = await run({
      HF_HUB_CACHE: join(home, "hub"),
      HF_HOME: "/nonexistent",
      HF_TOKEN: "hf_secret",
    });
    assert.equal(viaCache.cacheDir, join(home, "hub"));
    assert.equal(viaCache.offline, false);
    assert.equal(viaCache.token, "hf_secret");
    await Deno.remove(home, { recursive: true });
  } finally {
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
  }
});
