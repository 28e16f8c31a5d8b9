/**
 * Beam-search fixtures (tests/fixtures/beam/<family>.json, written by
 * tools/gen_beam_fixtures.py from an independent PyTorch reference) and the models they were
 * computed on. A family whose architecture is not loadable yet (its `model_type` is rejected, its
 * loader is not exported, or its checkpoint is not under tests/fixtures/models/) is reported as
 * ignored with the reason, so its tests switch on by themselves when the architecture lands.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { GenerateOptions, GenerateResult } from "../../models/generation.ts";
import { loadCausalLM } from "../../models/causal_lm.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** One recorded search: settings, prompts, and the returned hypotheses (prompt-major). */
export interface BeamCase {
  settings: {
    num_beams: number;
    length_penalty: number;
    early_stopping: boolean | "never";
    eos_token_id: number | null;
    max_new_tokens: number;
    min_new_tokens: number;
    num_return_sequences: number;
  };
  prompts: number[][];
  sequences: { tokens: number[]; log_probs: number[]; sequence_score: number; finished: boolean }[];
}

/** A family's fixture file. */
export interface BeamFixture {
  checkpoint: string;
  model_type: string;
  eos_override: number;
  cases: BeamCase[];
}

/** The fixture of `family` ("gpt2", "llama", "qwen2", "opt", "t5"). */
export function beamFixture(family: string): BeamFixture {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}beam/${family}.json`));
}

/** The `generate` options of a recorded case. */
export function optionsOf(c: BeamCase): GenerateOptions {
  const s = c.settings;
  return {
    numBeams: s.num_beams,
    lengthPenalty: s.length_penalty,
    earlyStopping: s.early_stopping,
    eosTokenId: s.eos_token_id,
    maxNewTokens: s.max_new_tokens,
    minNewTokens: s.min_new_tokens,
    numReturnSequences: s.num_return_sequences,
  };
}

/**
 * Asserts tokens and `finished` exactly, sequence scores and per-token log-probs within `tol`;
 * returns the largest score or log-prob error.
 */
export function assertMatchesCase(
  got: GenerateResult,
  c: BeamCase,
  tol: number,
  what: string,
): number {
  const want = c.sequences;
  const label = `${what} ${JSON.stringify(c.settings)}`;
  assert.deepEqual(got.tokens, want.map((w) => w.tokens), `${label}: tokens`);
  assert.deepEqual(got.finished, want.map((w) => w.finished), `${label}: finished`);
  assert.ok(got.sequenceScores, `${label}: no sequenceScores`);
  let worst = 0;
  const close = (a: number, b: number, where: string) => {
    const err = Math.abs(a - b);
    assert.ok(err <= tol, `${label}: ${where}: got ${a}, expected ${b} (error ${err} > ${tol})`);
    worst = Math.max(worst, err);
  };
  want.forEach((w, r) => {
    close(got.sequenceScores![r], w.sequence_score, `sequence ${r} score`);
    assert.equal(got.logProbs[r].length, w.log_probs.length, `${label}: sequence ${r} log-probs`);
    w.log_probs.forEach((lp, i) => close(got.logProbs[r][i], lp, `sequence ${r} log-prob ${i}`));
  });
  return worst;
}

/** What the tests need of a loaded model. */
export interface Searchable {
  generate(prompts: number[][], opts?: GenerateOptions): Promise<GenerateResult>;
  eval(): unknown;
  dispose(): void;
}

/** A family's model, or why it cannot load yet. */
export interface BeamSubject {
  family: string;
  fixture: BeamFixture;
  /** Why the family's tests are ignored, or null when they run. */
  ignore: string | null;
  load(backend: string): Promise<Searchable>;
}

type Loader = (path: string, opts: { backend: string; log: () => void }) => Promise<Searchable>;

/** The loader of a family: `loadCausalLM`, or `loadSeq2SeqLM` once `models/mod.ts` has it. */
async function loaderOf(family: string): Promise<Loader | string> {
  if (family !== "t5") return loadCausalLM as unknown as Loader;
  const models: Record<string, unknown> = await import("../../models/mod.ts");
  const load = models.loadSeq2SeqLM;
  return typeof load === "function" ? load as Loader : "models/mod.ts exports no loadSeq2SeqLM yet";
}

/** The family's subject, probing once whether its checkpoint loads. */
export async function beamSubject(family: string): Promise<BeamSubject> {
  const fixture = beamFixture(family);
  const dir = `${FIXTURES}models/${fixture.checkpoint}/`;
  const loader = await loaderOf(family);
  let ignore: string | null = typeof loader === "string" ? loader : null;
  if (!ignore) {
    try {
      Deno.statSync(`${dir}config.json`);
    } catch {
      ignore = `no checkpoint at tests/fixtures/models/${fixture.checkpoint}/ yet`;
    }
  }
  if (!ignore) {
    try {
      (await (loader as Loader)(dir, { backend: "cpu", log: () => {} })).dispose();
    } catch (e) {
      const message = (e as Error).message;
      // Only "this architecture is not there yet" is a reason to skip; anything else fails.
      if (!/model_type .* is not supported/.test(message)) throw e;
      ignore = message;
    }
  }
  return {
    family,
    fixture,
    ignore,
    load: async (backend) => {
      const model = await (loader as Loader)(dir, { backend, log: () => {} });
      model.eval();
      return model;
    },
  };
}

/** Deno.test, ignored (with the reason printed) when the subject cannot load yet. */
export function subjectTest(subject: BeamSubject, name: string, fn: () => Promise<void>): void {
  if (subject.ignore) console.warn(`${name}: ignored: ${subject.ignore}`);
  Deno.test({ name, ignore: subject.ignore !== null, fn });
}
