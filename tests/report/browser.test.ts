// The report of a short tiny run opened in a real headless browser (Debian's chromium through
// playwright-core): no console errors, no request leaves the file, every chart has a non-zero
// size, and a screenshot is taken. Where chromium is not installed the test reports itself
// ignored (`.ci/run` installs it where it can).

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeReport } from "../../report/report.ts";
import { tinyPpoRun } from "./tiny_run.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the report opens in headless chromium: charts drawn, no console errors, screenshot taken",
  ignore: !installed(CHROMIUM),
  fn: async () => {
    const { chromium } = await import("playwright-core");
    const root = await Deno.makeTempDir();
    try {
      const run = join(root, "run");
      await tinyPpoRun(run, { steps: 5, logSamplesEvery: 2 });
      const { path } = await writeReport([run]);
      const context = await chromium.launchPersistentContext(join(root, "profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [], requests: string[] = [];
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("request", (r) => !r.url().startsWith("file:") && requests.push(r.url()));
        await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
        const boxes = await page.$$eval("figure.chart", (figures) =>
          figures.map((f) => {
            const svg = f.querySelector("svg")!.getBoundingClientRect();
            return { metric: f.getAttribute("data-metric"), w: svg.width, h: svg.height };
          }));
        assert.ok(boxes.length >= 30, `${boxes.length} charts`);
        for (const b of boxes) assert.ok(b.w > 0 && b.h > 0, `${b.metric}: ${b.w}×${b.h}`);
        const tables = await page.$$eval("table.samples tbody tr", (rows) => rows.length);
        assert.equal(tables, 4 * 4); // steps 1, 2, 4, 5; four rows each
        const shot = join(root, "report.png");
        await page.screenshot({ path: shot, fullPage: true });
        const png = await Deno.readFile(shot);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        assert.ok(png.length > 50_000, `screenshot of ${png.length} bytes`);
        assert.deepEqual(errors, []);
        assert.deepEqual(requests, []);
        const keep = Deno.env.get("REPORT_SCREENSHOT");
        if (keep) await Deno.copyFile(shot, keep);
      } finally {
        await context.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
