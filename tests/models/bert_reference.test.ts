import assert from "node:assert/strict";
import { tidy } from "../../core/mod.ts";
import { loadSequenceClassifier } from "../../models/sequence_classifier.ts";
import { folderWith, maxAbsDiff, readExpected } from "./bert_fixtures.ts";

const TOL = 1e-4;
// bert-tiny and roberta-tiny were computed in float64 from the stored f32 weights, so the f64
// backend must agree to rounding, far inside TOL.
const F64_TOL = 1e-10;

async function checkAgainstReference(
  name: string,
  weights: string,
  backend: "cpu" | "cpu64",
): Promise<{ hidden: number; logits: number }> {
  const expected = readExpected(name);
  const dir = await folderWith(name, weights);
  try {
    using model = await loadSequenceClassifier(dir, { backend });
    assert.equal(model.training, false, "loaded models start in eval mode");
    const batch = {
      inputIds: expected.input_ids,
      attentionMask: expected.attention_mask,
      tokenTypeIds: expected.token_type_ids,
    };
    const [hidden, logits] = tidy(() => [
      model.encode(batch).toFloat64ArraySync(),
      model.forward(batch).logits.toFloat64ArraySync(),
    ]);
    const mask = expected.attention_mask.flat();
    const width = expected.last_hidden_state[0][0].length;
    const hiddenErr = maxAbsDiff(
      hidden,
      expected.last_hidden_state.flat(2),
      (i) => mask[Math.floor(i / width)] === 1,
    );
    const logitsErr = maxAbsDiff(logits, expected.logits.flat());
    return { hidden: hiddenErr, logits: logitsErr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const backend of ["cpu", "cpu64"] as const) {
  for (const weights of ["model.safetensors", "pytorch_model.bin"]) {
    Deno.test(`distilbert-a from ${weights} matches the reference on ${backend}`, async () => {
      const err = await checkAgainstReference("distilbert-a", weights, backend);
      console.log(`distilbert-a ${weights} ${backend}: ${JSON.stringify(err)}`);
      assert.ok(err.hidden <= TOL, `last_hidden_state off by ${err.hidden}`);
      assert.ok(err.logits <= TOL, `logits off by ${err.logits}`);
    });
  }
}

for (const name of ["bert-tiny", "roberta-tiny"]) {
  for (const backend of ["cpu", "cpu64"] as const) {
    Deno.test(`${name} matches its PyTorch reference on ${backend}`, async () => {
      const err = await checkAgainstReference(name, "model.safetensors", backend);
      console.log(`${name} ${backend}: ${JSON.stringify(err)}`);
      assert.ok(err.hidden <= TOL, `last_hidden_state off by ${err.hidden}`);
      assert.ok(err.logits <= TOL, `logits off by ${err.logits}`);
      if (backend === "cpu64") {
        assert.ok(err.hidden <= F64_TOL, `f64 last_hidden_state off by ${err.hidden}`);
        assert.ok(err.logits <= F64_TOL, `f64 logits off by ${err.logits}`);
      }
    });
  }
}
