/** Test helpers: a Hub served by a fake fetch, and a hand-laid Hugging Face cache. */

import { dirname, join, relative } from "node:path";

/** One file the fake Hub serves. */
export interface FakeFile {
  body: Uint8Array;
  /** Serve through a 302 to a CDN host with X-Linked-Etag, as the Hub does for LFS files. */
  lfs?: boolean;
  /** Claim a longer Content-Length than the body (a dropped connection). */
  truncate?: boolean;
}

/** A request the fake Hub saw. */
export interface SeenRequest {
  url: string;
  authorization: string | null;
}

/** A fetch that serves `files` for one repo at one commit, recording every request. */
export function fakeHub(
  repo: string,
  commit: string,
  files: Record<string, FakeFile>,
  options: { status?: number; chunk?: number } = {},
): { fetch: typeof fetch; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetchImpl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(
      typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
    );
    const headers = new Headers(init?.headers);
    seen.push({ url: url.href, authorization: headers.get("authorization") });
    if (options.status) return Promise.resolve(new Response("no", { status: options.status }));
    if (url.host === "cdn.test") {
      const file = files[decodeURIComponent(url.pathname.slice(1))];
      return Promise.resolve(bodyResponse(file.body, file.truncate, options.chunk));
    }
    const prefix = `/${repo}/resolve/`;
    if (!url.pathname.startsWith(prefix)) return Promise.resolve(new Response("", { status: 404 }));
    const rest = url.pathname.slice(prefix.length);
    const name = decodeURIComponent(rest.slice(rest.indexOf("/") + 1));
    const file = files[name];
    if (file === undefined) {
      return Promise.resolve(
        new Response("Entry not found", { status: 404, headers: { "x-repo-commit": commit } }),
      );
    }
    const etag = `e${sha1ish(file.body)}`;
    if (file.lfs) {
      return Promise.resolve(
        new Response(null, {
          status: 302,
          headers: {
            location: `https://cdn.test/${encodeURIComponent(name)}`,
            "x-repo-commit": commit,
            "x-linked-etag": `"${etag}"`,
            etag: `"wrong-${etag}"`,
          },
        }),
      );
    }
    const response = bodyResponse(file.body, file.truncate, options.chunk);
    response.headers.set("x-repo-commit", commit);
    response.headers.set("etag", `W/"${etag}"`);
    return Promise.resolve(response);
  };
  return { fetch: fetchImpl as typeof fetch, seen };
}

function bodyResponse(body: Uint8Array, truncate = false, chunk = 1 << 20): Response {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= body.length) return controller.close();
      controller.enqueue(body.slice(at, at + chunk));
      at += chunk;
    },
  });
  return new Response(stream, {
    headers: { "content-length": String(body.length + (truncate ? 10 : 0)) },
  });
}

function sha1ish(bytes: Uint8Array): string {
  // A stable, content-derived name (the real Hub uses sha256 or a git blob id).
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619);
  return (h >>> 0).toString(16).padStart(8, "0") + bytes.length.toString(16);
}

/** Lay out `models--ORG--NAME` as huggingface_hub does: blobs, snapshot symlinks, refs. */
export async function layOutCache(
  cacheDir: string,
  repo: string,
  refs: Record<string, string>,
  snapshots: Record<string, Record<string, Uint8Array>>,
): Promise<string> {
  const repoDir = join(cacheDir, `models--${repo.replace("/", "--")}`);
  for (const [commit, files] of Object.entries(snapshots)) {
    for (const [name, body] of Object.entries(files)) {
      const blob = join(repoDir, "blobs", `${commit.slice(0, 6)}${sha1ish(body)}`);
      await Deno.mkdir(dirname(blob), { recursive: true });
      await Deno.writeFile(blob, body);
      const link = join(repoDir, "snapshots", commit, name);
      await Deno.mkdir(dirname(link), { recursive: true });
      await Deno.symlink(relative(dirname(link), blob), link);
    }
  }
  for (const [ref, commit] of Object.entries(refs)) {
    await Deno.mkdir(join(repoDir, "refs", dirname(ref)), { recursive: true });
    await Deno.writeTextFile(join(repoDir, "refs", ref), commit);
  }
  return repoDir;
}
