/** Run by cache_test.ts in a child process: reports the Hub settings the environment gives. */
import { hubSettings } from "../../../models/hub/env.ts";
import { loadConfig } from "../../../models/io/checkpoint.ts";

const settings = hubSettings();
let nLayer: unknown = null;
if (settings.offline) nLayer = (await loadConfig("tiny-org/gpt2-a")).n_layer;
console.log(JSON.stringify({
  cacheDir: settings.cacheDir,
  offline: settings.offline,
  token: settings.token,
  nLayer,
}));
