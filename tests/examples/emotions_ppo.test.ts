// The go_emotions tutorial script: a shortened tiny run raises the eval prompts' P(joy) by a
// stated margin at a stated KL and ends with the stated line; the full preset is the tutorial's
// exact config; an unknown emotion lists the 28; offline, the full preset stops at once naming
// the model it could not find.

import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI, main, runEmotionsPpo } from "../../examples/emotions_ppo.ts";
import { emotionsPreset } from "../../examples/emotions/presets.ts";
import { parseTrlxConfig } from "../../algorithms/ppo_trlx/mod.ts";
import { GO_EMOTIONS_LABELS } from "../../data/mod.ts";

async function captured(fn: () => Promise<number>): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => errors.push(String(line));
  try {
    return { code: await fn(), errors };
  } finally {
    console.error = error;
  }
}

Deno.test("emotions_ppo --preset tiny, 48 steps: eval P(joy) up by >= 0.1 at KL <= 10 nats", async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const lines: string[] = [];
  const args = CLI.parse(["--preset", "tiny", "--steps", "48", "--out", out, "--backend", "cpu"]);
  const r = await runEmotionsPpo(args, (line) => lines.push(line));
  // Measured with seed 0: 0.0360 -> 0.2476 at KL 2.8 nats (the full tiny preset, 64 steps:
  // 0.0360 -> 0.7718 at KL 11.1; see the README).
  assert.ok(r.after - r.before >= 0.1, `eval reward/mean ${r.before} -> ${r.after}`);
  assert.ok(r.kl <= 10, `KL ${r.kl}`);
  assert.equal(lines.at(-1), `eval reward/mean ${r.before.toFixed(4)} -> ${r.after.toFixed(4)}`);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) {
    await Deno.stat(join(out, "model", f));
  }
  await Deno.stat(join(out, "metrics.jsonl"));
});

Deno.test("emotions_ppo --preset full is the tutorial's exact config", () => {
  const preset = emotionsPreset("full");
  assert.equal(preset.policy, "google/flan-t5-small");
  assert.equal(preset.classifier, "SamLowe/roberta-base-go_emotions");
  assert.deepEqual(preset.evalPrompts, new Array(32).fill("In my opinion"));
  const c = parseTrlxConfig(preset.config);
  assert.deepEqual(
    [c.train.seq_length, c.train.epochs, c.train.total_steps, c.train.batch_size],
    [1024, 1, 5000, 32],
  );
  assert.deepEqual([c.train.checkpoint_interval, c.train.eval_interval], [1000, 100]);
  assert.deepEqual(
    [c.model.model_path, c.model.model_arch_type, c.model.num_layers_unfrozen],
    ["google/flan-t5-small", "seq2seq", -2],
  );
  assert.equal(c.tokenizer.tokenizer_path, "google/flan-t5-small");
  assert.deepEqual(c.optimizer, {
    name: "adamw",
    kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
  });
  assert.deepEqual(c.scheduler, {
    name: "cosine_annealing",
    kwargs: { T_max: 1e12, eta_min: 3e-5 },
  });
  const m = c.method;
  assert.deepEqual(
    [m.num_rollouts, m.chunk_size, m.ppo_epochs, m.init_kl_coef, m.target, m.horizon],
    [128, 128, 4, 0.001, null, 10000],
  );
  assert.deepEqual(
    [m.gamma, m.lam, m.cliprange, m.cliprange_value, m.vf_coef, m.scale_reward],
    [1, 0.95, 0.2, 0.2, 1, "ignored"],
  );
  assert.deepEqual([m.ref_mean, m.ref_std, m.cliprange_reward], [null, null, 10]);
  // top_p 1.0 (no effect) comes from default_ppo_config's gen_kwargs, merged key by key.
  assert.deepEqual(m.gen_kwargs, { max_new_tokens: 32, top_k: 10, do_sample: true, top_p: 1 });
  // --steps defaults to the preset's total_steps.
  assert.equal(CLI.parse(["--preset", "full"]).steps, 5000);
  assert.equal(CLI.parse(["--preset", "full"]).emotion, "joy");
});

Deno.test("emotions_ppo: an unknown emotion lists the 28", async () => {
  const { code, errors } = await captured(() => main(["--emotion", "joyy", "--preset", "tiny"]));
  assert.equal(code, 2);
  assert.match(
    errors.join("\n"),
    /^emotions_ppo: unknown emotion \(joyy\): use one of admiration, /,
  );
  for (const label of GO_EMOTIONS_LABELS) assert.ok(errors.join("\n").includes(label), label);
  // Any of the 28 parses.
  assert.equal(CLI.parse(["--emotion", "gratitude"]).emotion, "gratitude");
});

Deno.test("emotions_ppo --preset full offline stops at once naming the model", async () => {
  const dir = await Deno.makeTempDir();
  const saved = { home: Deno.env.get("HF_HOME"), offline: Deno.env.get("HF_HUB_OFFLINE") };
  Deno.env.set("HF_HOME", dir);
  Deno.env.set("HF_HUB_OFFLINE", "1");
  try {
    const t0 = performance.now();
    const { code, errors } = await captured(() =>
      main(["--out", join(dir, "run"), "--backend", "cpu"])
    );
    assert.equal(code, 1);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /^emotions_ppo: .*SamLowe\/roberta-base-go_emotions/);
    assert.ok(performance.now() - t0 < 10_000, "it must not hang");
  } finally {
    for (const [key, value] of [["HF_HOME", saved.home], ["HF_HUB_OFFLINE", saved.offline]]) {
      if (value === undefined) Deno.env.delete(key!);
      else Deno.env.set(key!, value);
    }
  }
});
