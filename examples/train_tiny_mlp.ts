/**
 * Trains a small MLP with Tether's core on a seeded four-arm spiral (a classic task a linear
 * model cannot solve) and checks the final loss against a stated target.
 *
 *   deno run -A examples/train_tiny_mlp.ts            # 400 steps, a few seconds
 *   deno run -A examples/train_tiny_mlp.ts --help     # every flag with its defaults
 *
 * Exits with status 1 when the final training loss misses the target.
 */

import {
  argmax,
  crossEntropy,
  equal,
  Generator,
  keep,
  mean,
  noGrad,
  selectBackend,
  type Tensor,
  tensor,
  tidy,
} from "../core/mod.ts";
import { GELU, Linear, Sequential } from "../core/nn/mod.ts";
import { AdamW, clipGradNorm, cosineScheduleWithWarmup } from "../core/optim/mod.ts";
import { backendFlag, defineCli, flag, seedFlag } from "./common/cli.ts";

/** The loss the demo must reach on its training set. */
export const TARGET_LOSS = 0.1;

/** Settings of a training run. */
export interface TrainOptions {
  /** Optimizer steps (full batch). */
  steps: number;
  /** Seed of the data, the initial weights and nothing else. */
  seed: number;
  /** Backend to train on (`cpu`, `cpu64`, `webgpu`). */
  backend: string;
  /** Print a progress line every this many steps (0: never). */
  logEvery: number;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

/** What a run reached. */
export interface TrainResult {
  /** Training loss before the first step. */
  initialLoss: number;
  /** Training loss after the last step. */
  finalLoss: number;
  /** Accuracy on the training points after the last step. */
  trainAccuracy: number;
  /** Accuracy on held-out points drawn from the same spirals. */
  heldOutAccuracy: number;
  /** Wall-clock seconds spent training. */
  seconds: number;
}

const CLASSES = 4;
const POINTS_PER_CLASS = 100;

/**
 * Four interleaved spiral arms in the plane, one per class: point i of arm k has radius r = i/n
 * and angle 2πk/4 + 3πr (1.5 turns) plus Gaussian noise of 0.15 rad. Returns features [N, 2] and
 * labels [N] as flat arrays.
 */
export function makeSpirals(
  pointsPerClass: number,
  g: Generator,
): { x: Float32Array; y: Float32Array } {
  const n = pointsPerClass * CLASSES;
  const x = new Float32Array(n * 2), y = new Float32Array(n);
  for (let k = 0; k < CLASSES; k++) {
    for (let i = 0; i < pointsPerClass; i++) {
      const j = k * pointsPerClass + i;
      const r = i / pointsPerClass;
      const theta = (2 * Math.PI * k) / CLASSES + 3 * Math.PI * r + 0.15 * g.normal(1)[0];
      x[2 * j] = r * Math.sin(theta);
      x[2 * j + 1] = r * Math.cos(theta);
      y[j] = k;
    }
  }
  return { x, y };
}

/** Trains the MLP and reports the losses and accuracies it reached. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? console.log;
  const backend = opts.backend;
  const g = new Generator(opts.seed);
  const trainSet = makeSpirals(POINTS_PER_CLASS, g);
  const heldOut = makeSpirals(POINTS_PER_CLASS, g);
  const n = POINTS_PER_CLASS * CLASSES;
  const x = keep(tensor(trainSet.x, [n, 2], { backend }));
  const y = keep(tensor(trainSet.y, [n], { backend }));
  const xTest = keep(tensor(heldOut.x, [n, 2], { backend }));
  const yTest = keep(tensor(heldOut.y, [n], { backend }));

  const model = new Sequential(
    new Linear(2, 64, { backend, generator: g }),
    new GELU("tanh"),
    new Linear(64, 64, { backend, generator: g }),
    new GELU("tanh"),
    new Linear(64, CLASSES, { backend, generator: g }),
  );
  const opt = new AdamW(model.parameters(), { lr: 0.02, weightDecay: 1e-4 });
  const schedule = cosineScheduleWithWarmup(opt, Math.min(30, opts.steps), opts.steps);

  /** Loss and accuracy on a set, without recording a tape. */
  const evaluate = async (inputs: Tensor, labels: Tensor) => {
    const [loss, acc] = tidy(() =>
      noGrad(() => {
        const logits = model.forward(inputs);
        return [crossEntropy(logits, labels), mean(equal(argmax(logits, -1), labels))];
      })
    );
    try {
      return { loss: await loss.item(), accuracy: await acc.item() };
    } finally {
      loss.dispose();
      acc.dispose();
    }
  };

  const initialLoss = (await evaluate(x, y)).loss;
  const started = performance.now();
  for (let step = 1; step <= opts.steps; step++) {
    const loss = tidy(() => {
      const l = crossEntropy(model.forward(x), y);
      l.backward();
      clipGradNorm(model.parameters(), 1.0).dispose();
      opt.step();
      opt.zeroGrad();
      schedule.step();
      return opts.logEvery > 0 && step % opts.logEvery === 0 ? l : null;
    });
    if (loss) {
      const value = await loss.item();
      loss.dispose();
      const { accuracy } = await evaluate(x, y);
      log(
        `step ${String(step).padStart(5)}  loss ${value.toFixed(4)}  accuracy ${
          (100 * accuracy).toFixed(1)
        }%  lr ${schedule.lastLr()[0].toExponential(2)}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const final = await evaluate(x, y);
  const test = await evaluate(xTest, yTest);
  opt.dispose();
  model.dispose();
  for (const t of [x, y, xTest, yTest]) t.dispose();
  return {
    initialLoss,
    finalLoss: final.loss,
    trainAccuracy: final.accuracy,
    heldOutAccuracy: test.accuracy,
    seconds,
  };
}

/** The command line. */
export const CLI = defineCli({
  name: "train_tiny_mlp",
  summary: "trains a small MLP with Tether's core on a seeded four-arm spiral and checks the " +
    "final loss against a stated target.",
  description: `Exits with status 1 when the final training loss is not below ${TARGET_LOSS}.`,
  flags: {
    steps: flag.int({ help: "optimizer steps (full batch)", min: 0, default: 400 }),
    seed: seedFlag,
    backend: backendFlag,
    "log-every": flag.int({
      help: "print a line every this many steps (0: never)",
      min: 0,
      default: 40,
    }),
  },
  examples: [
    "deno run -A examples/train_tiny_mlp.ts",
    "deno run -A examples/train_tiny_mlp.ts --steps 1000 --backend webgpu",
  ],
});

/**
 * Parses the command line, trains, prints the verdict; resolves to the exit status.
 *
 * @param args Command-line arguments.
 */
export function main(args: readonly string[] = Deno.args): Promise<number> {
  return CLI.run(args, async ({ steps, seed, backend, logEvery }) => {
    // --backend, else TETHER_BACKEND, else auto (WebGPU on a real GPU adapter, otherwise CPU).
    const selected = await selectBackend(backend, { quiet: true });
    console.log(
      `spirals: ${CLASSES} classes × ${POINTS_PER_CLASS} points, MLP 2→64→64→${CLASSES}, AdamW, ` +
        `${steps} steps on '${selected.name}' (${selected.reason}), seed ${seed}`,
    );
    const r = await train({ steps, seed, backend: selected.name, logEvery });
    const ok = r.finalLoss < TARGET_LOSS;
    console.log(
      `trained in ${r.seconds.toFixed(1)} s; accuracy ${(100 * r.trainAccuracy).toFixed(1)}% ` +
        `(held-out ${(100 * r.heldOutAccuracy).toFixed(1)}%)`,
    );
    console.log(
      `loss ${r.finalLoss.toFixed(3)} ${ok ? "<" : ">="} target ${TARGET_LOSS.toFixed(2)} ${
        ok ? "✓" : "✗"
      }`,
    );
    return ok ? 0 : 1;
  });
}

if (import.meta.main) Deno.exit(await main());
