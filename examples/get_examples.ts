/**
 * Get the example scripts and their tiny offline checkpoints from the published package:
 *
 *   deno run -R -W -N jsr:@tether/rlhf/get-examples            # into ./tether-examples
 *   cd tether-examples && deno task demo
 *
 * It copies every file of the package version it was loaded from (the library, `examples/`,
 * `examples/assets/` and `deno.json` with its import map and tasks) into a new folder, checking
 * each file's size and SHA-256 against the registry's manifest, so the examples run there exactly
 * as in a clone. In a clone there is nothing to fetch: run the examples where they are.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { defineCli, flag } from "./common/cli.ts";

const NAME = "get_examples";

const cli = defineCli({
  name: NAME,
  summary: "copies the package's example scripts, their tiny checkpoints and the library they " +
    "run on into a new folder.",
  description: "Every file is checked against the registry's manifest (size and SHA-256). Then " +
    "cd into the folder and run deno task demo, or any script in examples/ with --help.",
  usage: "deno run -R -W -N jsr:@tether/rlhf/get-examples [flags]",
  flags: {
    out: flag.path({
      help: "the folder to create (it must not exist, or be empty)",
      default: "tether-examples",
    }),
    from: flag.string({
      help: "the package version's root URL",
      valueName: "URL",
      defaultText: "the version this script was loaded from",
    }),
  },
  examples: [
    "deno run -R -W -N jsr:@tether/rlhf/get-examples",
    "deno run -R -W -N jsr:@tether/rlhf@0.1.0/get-examples --out ~/tether-0.1.0",
  ],
});

/** The command line, as tooling sees it (its flags, help and runner). */
export const CLI: {
  readonly name: string;
  readonly flags: Readonly<Record<string, { readonly help: string }>>;
  help(): string;
  run(argv: readonly string[], main: (args: Record<string, unknown>) => void): Promise<number>;
} = cli;

/** One file of a package version, as the registry's manifest lists it. */
export interface ManifestEntry {
  /** Bytes. */
  size: number;
  /** `sha256-<hex>`. */
  checksum: string;
}

/**
 * The files of a package version: JSR serves `<root>_meta.json` next to `<root>/`, whose
 * `manifest` maps `/path` to size and checksum.
 *
 * @param root The version's root URL, ending in `/`.
 */
export async function fetchManifest(root: URL): Promise<Map<string, ManifestEntry>> {
  const metaUrl = new URL(root.href.replace(/\/$/, "") + "_meta.json");
  const response = await fetch(metaUrl);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`cannot read the package manifest (${metaUrl}): HTTP ${response.status}`);
  }
  const meta = await response.json() as { manifest?: Record<string, ManifestEntry> };
  if (!meta.manifest || typeof meta.manifest !== "object") {
    throw new Error(`the package manifest (${metaUrl}) lists no files`);
  }
  return new Map(Object.entries(meta.manifest));
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Download every file of a package version into `out`, verified against the manifest.
 *
 * @param root The version's root URL, ending in `/`.
 * @param out The folder (created).
 * @param log Where progress lines go.
 */
export async function copyPackage(
  root: URL,
  out: string,
  log: (line: string) => void = console.log,
): Promise<number> {
  const manifest = await fetchManifest(root);
  const paths = [...manifest.keys()].filter((p) => p.startsWith("/") && !p.includes(".."));
  let bytes = 0;
  const queue = [...paths];
  const worker = async () => {
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      const url = new URL(path.slice(1), root);
      const response = await fetch(url);
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`cannot download ${url}: HTTP ${response.status}`);
      }
      const data = new Uint8Array(await response.arrayBuffer());
      const want = manifest.get(path)!;
      const hex = await sha256Hex(data);
      if (data.byteLength !== want.size || `sha256-${hex}` !== want.checksum) {
        throw new Error(
          `${url} does not match the manifest (${data.byteLength} bytes, sha256-${hex}; ` +
            `expected ${want.size} bytes, ${want.checksum})`,
        );
      }
      const target = join(out, ...path.slice(1).split("/"));
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeFile(target, data);
      bytes += data.byteLength;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  log(`copied ${paths.length} files (${(bytes / 2 ** 20).toFixed(1)} MiB) into ${out}`);
  return paths.length;
}

/**
 * Run the script; resolves to the exit status.
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[]): Promise<number> {
  return cli.run(args, async (a) => {
    const root = new URL(a.from ?? new URL("../", import.meta.url).href);
    if (root.protocol === "file:") {
      console.log(
        `${NAME}: the examples are already here (${root.pathname}): run them from there, e.g. ` +
          "deno task demo",
      );
      return 0;
    }
    if (!root.href.endsWith("/")) root.href += "/";
    try {
      const entries = [...Deno.readDirSync(a.out)];
      if (entries.length > 0) {
        throw cli.usageError("folder is not empty", a.out, "choose a new or empty --out");
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await copyPackage(root, a.out);
    console.log(`next: cd ${a.out} && deno task demo   (each script in examples/ has --help)`);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
