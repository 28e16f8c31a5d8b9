// trlX's config layout: defaults, the go_emotions tutorial's config, the merge rule, and errors
// that name the field (with the closest valid key for a typo).

import assert from "node:assert/strict";
import {
  checkTrlxKwargs,
  defaultPpoConfig,
  parseTrlxConfig,
  type TrlxConfig,
  TrlxConfigError,
} from "../../algorithms/ppo_trlx/config.ts";

/** trlX's default_ppo_config(), as TRLConfig.to_dict() prints it (trlx/data/default_configs.py). */
const TRLX_DEFAULT_PPO: TrlxConfig = {
  train: {
    total_steps: 10000,
    seq_length: 1024,
    epochs: 100,
    batch_size: 32,
    checkpoint_interval: 10000,
    eval_interval: 100,
    pipeline: "PromptPipeline",
    trainer: "AcceleratePPOTrainer",
    trainer_kwargs: {},
    project_name: "trlx",
    run_name: null,
    entity_name: null,
    group_name: null,
    checkpoint_dir: "ckpts",
    rollout_logging_dir: null,
    save_best: true,
    save_optimizer: true,
    resume_from_checkpoint: null,
    tracker: "wandb",
    logging_dir: null,
    tags: [],
    seed: 1000,
    minibatch_size: null,
  },
  model: {
    model_path: "lvwerra/gpt2-imdb",
    model_arch_type: "causal",
    num_layers_unfrozen: 2,
    peft_config: null,
    model_extra_configs: {},
  },
  tokenizer: {
    tokenizer_path: "gpt2",
    padding_side: "left",
    truncation_side: "right",
    tokenizer_extra_configs: {},
  },
  optimizer: {
    name: "adamw",
    kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
  },
  scheduler: { name: "cosine_annealing", kwargs: { T_max: 1e12, eta_min: 3e-5 } },
  method: {
    name: "PPOConfig",
    ppo_epochs: 4,
    num_rollouts: 128,
    chunk_size: 128,
    init_kl_coef: 0.001,
    target: null,
    horizon: 10000,
    gamma: 1,
    lam: 0.95,
    cliprange: 0.2,
    cliprange_value: 0.2,
    vf_coef: 1,
    scale_reward: "ignored",
    ref_mean: null,
    ref_std: null,
    cliprange_reward: 10,
    gen_kwargs: { max_new_tokens: 40, top_k: 0, top_p: 1.0, do_sample: true },
    gen_experience_kwargs: null,
    num_value_layers_unfrozen: 0,
  },
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseTrlxConfig(input);
  } catch (error) {
    assert.ok(error instanceof TrlxConfigError, String(error));
    return error.issues;
  }
  assert.fail("the config was accepted");
}

Deno.test("trlX config: default_ppo_config() round trip (empty input, the defaults themselves, JSON)", () => {
  assert.deepEqual(defaultPpoConfig(), TRLX_DEFAULT_PPO);
  assert.deepEqual(parseTrlxConfig({}), TRLX_DEFAULT_PPO);
  assert.deepEqual(parseTrlxConfig(), TRLX_DEFAULT_PPO);
  assert.deepEqual(parseTrlxConfig(defaultPpoConfig()), TRLX_DEFAULT_PPO);
  const json = JSON.parse(JSON.stringify(parseTrlxConfig({})));
  assert.deepEqual(parseTrlxConfig(json), TRLX_DEFAULT_PPO);
  // Each call returns a fresh object.
  const a = parseTrlxConfig({});
  (a.method.gen_kwargs as Record<string, unknown>).max_new_tokens = 1;
  assert.equal(parseTrlxConfig({}).method.gen_kwargs.max_new_tokens, 40);
});

Deno.test("trlX config: the go_emotions tutorial's config parses and holds exactly its values", () => {
  const tutorial = {
    train: {
      seq_length: 1024,
      epochs: 1,
      total_steps: 5000,
      batch_size: 32,
      checkpoint_interval: 1000,
      eval_interval: 100,
      pipeline: "PromptPipeline",
      trainer: "AcceleratePPOTrainer",
    },
    model: {
      model_path: "google/flan-t5-small",
      model_arch_type: "seq2seq",
      num_layers_unfrozen: -2,
    },
    tokenizer: { tokenizer_path: "google/flan-t5-small", truncation_side: "right" },
    optimizer: {
      name: "adamw",
      kwargs: { lr: 3e-5, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
    },
    scheduler: { name: "cosine_annealing", kwargs: { T_max: 1e12, eta_min: 3e-5 } },
    method: {
      name: "PPOConfig",
      num_rollouts: 128,
      chunk_size: 128,
      ppo_epochs: 4,
      init_kl_coef: 0.001,
      target: null,
      horizon: 10000,
      gamma: 1,
      lam: 0.95,
      cliprange: 0.2,
      cliprange_value: 0.2,
      vf_coef: 1,
      scale_reward: "ignored",
      ref_mean: null,
      ref_std: null,
      cliprange_reward: 10,
      gen_kwargs: { max_new_tokens: 32, top_k: 10, do_sample: true },
    },
  };
  const c = parseTrlxConfig(tutorial);
  for (const [section, fields] of Object.entries(tutorial)) {
    for (const [key, value] of Object.entries(fields)) {
      const got = (c as unknown as Record<string, Record<string, unknown>>)[section][key];
      if (key === "gen_kwargs") {
        // trlX's evolve merges gen_kwargs with the defaults: top_p 1.0 (no-op) stays.
        assert.deepEqual(got, { ...value as object, top_p: 1.0 }, `${section}.${key}`);
      } else {
        assert.deepEqual(got, value, `${section}.${key}`);
      }
    }
  }
  assert.equal(c.model.peft_config, null);
  assert.equal(c.tokenizer.padding_side, "left");
  assert.equal(c.train.seed, 1000);
});

Deno.test("trlX config: nested dicts merge; a renamed optimizer or scheduler starts from empty kwargs", () => {
  const c = parseTrlxConfig({
    optimizer: { kwargs: { lr: 1e-4 } },
    method: { gen_kwargs: { max_new_tokens: 8 } },
  });
  assert.deepEqual(c.optimizer, {
    name: "adamw",
    kwargs: { lr: 1e-4, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-6 },
  });
  assert.deepEqual(c.method.gen_kwargs, { max_new_tokens: 8, top_k: 0, top_p: 1, do_sample: true });
  const sgd = parseTrlxConfig({
    optimizer: { name: "sgd", kwargs: { lr: 0.1, momentum: 0.9 } },
    scheduler: { name: "linear" },
  });
  assert.deepEqual(sgd.optimizer.kwargs, { lr: 0.1, momentum: 0.9 });
  assert.deepEqual(sgd.scheduler, { name: "linear", kwargs: {} });
});

Deno.test("trlX config: unknown keys are named, with the closest valid key", () => {
  const issues = issuesOf({
    methods: {},
    method: { init_kl_coeff: 0.1, gen_kwargs: { max_new_token: 3 } },
    train: { batchsize: 4 },
    optimizer: { kwargs: { beta: [0.9, 0.99] } },
  });
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(byPath["methods"], /unknown key; did you mean method\?/);
  assert.match(byPath["method.init_kl_coeff"], /unknown key; did you mean init_kl_coef\?/);
  assert.match(byPath["method.gen_kwargs.max_new_token"], /did you mean max_new_tokens\?/);
  assert.match(byPath["train.batchsize"], /did you mean batch_size\?/);
  // A key nothing resembles lists the valid ones without a guess.
  const [far] = issuesOf({ model: { zzzzzzzz: 1 } });
  assert.equal(far.path, "model.zzzzzzzz");
  assert.doesNotMatch(far.message, /did you mean/);
  assert.match(far.message, /valid keys: model_path, model_arch_type, num_layers_unfrozen/);
});

Deno.test("trlX config: optimizer and scheduler kwargs are checked against torch's signature", () => {
  const [beta] = issuesOf({ optimizer: { kwargs: { beta: [0.9, 0.99] } } });
  assert.equal(beta.path, "optimizer.kwargs.beta");
  assert.match(beta.message, /unknown key for adamw; did you mean betas\?/);
  // Same name as the default: the kwargs merge, so T_max stays 1e12 ...
  assert.equal(
    parseTrlxConfig({ scheduler: { name: "cosine_annealing", kwargs: { eta_min: 0 } } })
      .scheduler.kwargs.T_max,
    1e12,
  );
  // ... but torch's required kwargs are required when nothing supplies them.
  assert.throws(
    () => checkTrlxKwargs("scheduler", "cosine_annealing", { eta_min: 0 }),
    /scheduler\.kwargs\.T_max: is required/,
  );
  const [sgdLr] = issuesOf({ optimizer: { name: "sgd", kwargs: {} } });
  assert.equal(sgdLr.path, "optimizer.kwargs.lr");
  assert.match(sgdLr.message, /is required/);
  const [bnb] = issuesOf({ optimizer: { name: "adamw_8bit_bnb" } });
  assert.equal(bnb.path, "optimizer.name");
  assert.match(bnb.message, /use "adamw"/);
  const [name] = issuesOf({ scheduler: { name: "cosine" } });
  assert.equal(name.path, "scheduler.name");
  assert.match(name.message, /"cosine_annealing"/);
  const [betas] = issuesOf({ optimizer: { kwargs: { betas: [0.9] } } });
  assert.equal(betas.path, "optimizer.kwargs.betas");
  assert.match(betas.message, /must hold at least 2 items, got \[0.9\]/);
});

Deno.test("trlX config: wrong types and values name the path and the value", () => {
  const issues = issuesOf({
    train: { batch_size: "32", minibatch_size: null, total_steps: 1.5 },
    method: { scale_reward: "runing", gamma: 2, target: 0 },
    model: { model_arch_type: "encoder-decoder" },
  });
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(byPath["train.batch_size"], /^must be a number, got "32"$/);
  assert.match(byPath["train.total_steps"], /^must be an integer, got 1.5$/);
  assert.match(byPath["method.scale_reward"], /"ignored", "running", "ref"/);
  assert.match(byPath["method.gamma"], /^must be <= 1, got 2$/);
  assert.match(byPath["method.target"], /^must be > 0, got 0$/);
  assert.match(byPath["model.model_arch_type"], /"causal", "seq2seq"/);
  const [mb] = issuesOf({ train: { batch_size: 32, minibatch_size: 5 } });
  assert.equal(mb.path, "train.minibatch_size");
  assert.match(mb.message, /must divide train.batch_size = 32/);
  const [method] = issuesOf({ method: { name: "ILQLConfig" } });
  assert.match(method.message, /only "PPOConfig" is implemented/);
  const [ref] = issuesOf({ method: { scale_reward: "ref", ref_mean: 0 } });
  assert.equal(ref.path, "method.ref_std");
  // trlX's method registry is case-insensitive.
  assert.equal(parseTrlxConfig({ method: { name: "ppoconfig" } }).method.name, "ppoconfig");
});
