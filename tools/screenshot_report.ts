/**
 * A screenshot of a run's report in headless chromium, for the README:
 *
 *   deno run -A tools/screenshot_report.ts runs/imdb_demo-tiny/report.html docs/report.png
 *     [--width 1280] [--height 1000] [--chromium /usr/bin/chromium]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "1000" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  console.error("usage: tools/screenshot_report.ts <report.html> <out.png> [--width] [--height]");
  Deno.exit(2);
}
const profile = await Deno.makeTempDir();
const context = await chromium.launchPersistentContext(join(profile, "p"), {
  executablePath: values.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  viewport: { width: Number(values.width), height: Number(values.height) },
});
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(resolve(positionals[0])).href, { waitUntil: "load" });
  await page.screenshot({ path: positionals[1] });
  console.log(`wrote ${positionals[1]} (${(await Deno.stat(positionals[1])).size} bytes)`);
} finally {
  await context.close();
  await Deno.remove(profile, { recursive: true });
}
